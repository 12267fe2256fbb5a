"""The entry the log commits for a record version: what it is, never what it says.

An envelope names the record (type, id, version), the SHA-256 of its canonical
content and of each attached file, the organisation that wrote it and the UTC
time. It never carries confidential content, so the whole log can be public.

The bytes are compact JSON with sorted keys (UTF-8), so anyone can rebuild them
with a few lines of their own: the leaf hash is SHA-256(0x00 || bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from veritrail.errors import InputError, VerificationFailed

FORMAT_VERSION = 1
MAX_ENTRY_BYTES = 65535  # an entry bundle stores each entry's length in two bytes


@dataclass(frozen=True)
class Envelope:
    record_type: str
    record_id: str
    version: int | None
    content_sha256: str
    organisation: str
    time: datetime
    files: dict[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "type": self.record_type,
            "id": self.record_id,
            "version": self.version,
            "content_sha256": self.content_sha256,
            "files": dict(sorted(self.files.items())),
            "organisation": self.organisation,
            "time": format_time(self.time),
        }
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        encoded = data.encode("utf-8")
        if len(encoded) > MAX_ENTRY_BYTES:
            raise InputError(f"a log entry is limited to {MAX_ENTRY_BYTES} bytes")
        return encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Read an entry back; refuses anything that is not an envelope this code wrote."""
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VerificationFailed(f"the log entry is not UTF-8 JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("v") != FORMAT_VERSION:
            raise VerificationFailed("the log entry is not a version-1 Veritrail envelope")
        try:
            envelope = cls(
                record_type=str(body["type"]),
                record_id=str(body["id"]),
                version=None if body["version"] is None else int(body["version"]),
                content_sha256=str(body["content_sha256"]),
                organisation=str(body["organisation"]),
                time=datetime.fromisoformat(str(body["time"]).replace("Z", "+00:00")),
                files={str(k): str(v) for k, v in dict(body["files"]).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationFailed(f"the log entry lacks or garbles a field: {exc}") from exc
        if envelope.to_bytes() != data:
            raise VerificationFailed("the log entry is not in canonical form")
        return envelope


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InputError("log times are timezone-aware UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = ["FORMAT_VERSION", "MAX_ENTRY_BYTES", "Envelope", "format_time"]
