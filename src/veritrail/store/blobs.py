"""Content-addressed storage of every original file received.

Files live under their SHA-256 hex digest with two levels of fan-out
(``ab/cd/abcd…``). Writing is atomic: the bytes go to a temporary file in the
same folder, are flushed to disk, then renamed into place, so a crash never
leaves a partial file under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from veritrail.errors import NotFound, StorageError
from veritrail.store.models import Blob


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    return sha256


class LocalBlobStore:
    """Blobs in a folder of the data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"could not store file in {self.root}: {exc.strerror}") from exc
        return digest

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no stored file with SHA-256 {sha256}") from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()


__all__ = ["BlobStore", "LocalBlobStore"]


def keep_original(store: BlobStore, session: Session, data: bytes, media_type: str) -> str:
    """Store ``data`` and its ``blobs`` row (once per content) in the caller's transaction."""
    sha256 = store.put(data)
    if session.get(Blob, sha256) is None:
        session.add(Blob(sha256=sha256, size=len(data), media_type=media_type))
        session.flush()
    return sha256
