"""The exact bytes the log commits to for each kind of stored record.

Writers hash these when they append; ``veritrail audit`` hashes them again
from what is stored. One definition keeps the two in step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from veritrail.store.models import AccessEvent, ArchiveDocument, AuditEvent

ACCESS_BATCH = "access_log"

# Audit actions whose changes are also committed to the log.
LOGGED_KINDS = (
    "organisation.",
    "user.",
    "token.",
    "totp.",
    "signing_key.",
    "declaration.reclassify",
    "document.reclassify",
    "case.",
    "transfers.",
)


def goes_to_log(action: str) -> bool:
    return action.startswith(LOGGED_KINDS)


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def audit_content(event: AuditEvent) -> bytes:
    """An audit row as the log commits it."""
    return _canonical(
        {
            "at": event.at.astimezone(UTC).isoformat(),
            "actor": event.actor,
            "action": event.action,
            "record_type": event.record_type,
            "record_id": event.record_id,
            "version": event.version,
            "details": event.details,
        }
    )


def document_content(doc: ArchiveDocument) -> bytes:
    """An archive document as the log commits it: what was read from the file.

    The classification is left out: it changes by audited, logged actions of its own.
    """
    return _canonical(
        {
            "id": doc.id,
            "original_sha256": doc.sha256,
            "source_name": doc.source_name,
            "media_type": doc.media_type,
            "size": doc.size,
            "title": doc.title,
            "language": doc.language,
            "languages": doc.languages,
            "page_languages": doc.page_languages,
            "pages": doc.pages,
            "ocr": doc.ocr,
            "text": doc.text,
            "mentions": doc.mentions,
            "document_date": doc.document_date,
            "author": doc.author,
            "owner_state": doc.owner_state,
            "regimes": doc.regimes,
        }
    )


def access_batch_content(events: Sequence[AccessEvent]) -> bytes:
    """A batch of access-log rows as the log commits it: one JSON line per row."""
    lines = [
        _canonical(
            {
                "id": e.id,
                "at": e.at.astimezone(UTC).isoformat(),
                "actor": e.actor,
                "action": e.action,
                "record_type": e.record_type,
                "record_id": e.record_id,
                "version": e.version,
                "classification": e.classification,
                "client": e.client,
                "purpose": e.purpose,
            }
        )
        for e in events
    ]
    return b"".join(line + b"\n" for line in lines)


__all__ = [
    "ACCESS_BATCH",
    "LOGGED_KINDS",
    "access_batch_content",
    "audit_content",
    "document_content",
    "goes_to_log",
]
