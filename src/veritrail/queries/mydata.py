"""A national authority's "my data" export: everything its state submitted, checkable offline.

The ZIP holds, for every declaration of the state and every version:

- ``declarations/<id>/v<N>.json``: the canonical bytes exactly as hashed, so
  ``sha256sum`` of the file gives the version's content SHA-256;
- ``declarations/<id>/v<N>.original.<format>``: the file as it was received
  (when one was), whose SHA-256 is the original's;
- ``manifest.json``: one entry per version with both digests, the paths, and
  when and by whom it was submitted.

Names inside the archive are built from identifiers and version numbers only,
never from the file names states sent. The archive is built in memory: it is
bounded by one state's own submissions.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, require
from veritrail.errors import Forbidden, StorageError
from veritrail.regimes.model import Classification
from veritrail.store.context import Context
from veritrail.store.models import Declaration, DeclarationVersion

MANIFEST_FORMAT = "veritrail.my-data/1"
_SUFFIXES = {"json": "json", "csv": "csv", "xlsx": "xlsx"}


def _entry(declaration: Declaration, version: DeclarationVersion) -> dict[str, Any]:
    base = f"declarations/{declaration.id}/v{version.version}"
    original = None
    if version.original_sha256 is not None:
        original = f"{base}.original.{_SUFFIXES.get(version.source_format, 'bin')}"
    return {
        "id": declaration.id,
        "regime": declaration.regime,
        "type": declaration.type,
        "period": declaration.period,
        "classification": declaration.classification,
        "version": version.version,
        "path": f"{base}.json",
        "content_sha256": version.content_sha256,
        "original_path": original,
        "original_sha256": version.original_sha256,
        "original_filename": version.original_filename,
        "source_format": version.source_format,
        "submitted_at": version.submitted_at.isoformat(),
        "submitted_by": version.submitted_by,
    }


def my_data_zip(ctx: Context, *, actor: Actor, now: datetime | None = None) -> tuple[bytes, str]:
    """The export of the actor's state as ZIP bytes, with a file name for it."""
    if actor.state is None:
        raise Forbidden("the export is for a state's national authority; this account has no state")
    require(
        actor,
        Action.MY_DATA_EXPORT,
        Resource(owner_state=actor.state, classification=Classification.HIGHLY_PROTECTED),
    )
    now = now or datetime.now(UTC)
    query = (
        select(DeclarationVersion, Declaration)
        .join(Declaration, Declaration.id == DeclarationVersion.declaration_id)
        .where(Declaration.state == actor.state)
        .order_by(Declaration.id, DeclarationVersion.version)
    )
    entries: list[dict[str, Any]] = []
    buffer = io.BytesIO()
    with (
        ctx.sessions() as session,
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for version, declaration in session.execute(query):
            entry = _entry(declaration, version)
            canonical = version.document_json.encode("utf-8")
            if hashlib.sha256(canonical).hexdigest() != version.content_sha256:
                raise StorageError(
                    f"stored content of {declaration.id} version {version.version} does not "
                    "match its hash; the store needs an audit"
                )
            archive.writestr(entry["path"], canonical)
            if entry["original_path"] is not None and version.original_sha256 is not None:
                archive.writestr(entry["original_path"], ctx.blobs.get(version.original_sha256))
            entries.append(entry)
        manifest = {
            "format": MANIFEST_FORMAT,
            "state": actor.state,
            "generated_at": now.isoformat(),
            "generated_by": actor.username,
            "hash": "sha256 of each file's bytes, hex",
            "versions": entries,
        }
        archive.writestr(
            "manifest.json",
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        )
    name = f"veritrail-{actor.state}-{now.strftime('%Y%m%dT%H%M%SZ')}.zip"
    return buffer.getvalue(), name


__all__ = ["MANIFEST_FORMAT", "my_data_zip"]
