"""Writes to the archive: importing a file, reclassifying a document.

An import reads the file first (text, OCR, language, mentions), outside any
transaction, then stores in one transaction the original blob, the document,
its log entry, the audit row and the search outbox row. Search takes the
change in from the outbox: before the next search, or within a second on a
running server. A file whose SHA-256 is
already in the archive is not read again: importing the same files twice adds
nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, require
from veritrail.actions import audit, ledger
from veritrail.archive.extract import Extracted, extract
from veritrail.archive.mentions import Mentions, find_mentions
from veritrail.errors import InputError, NotFound, TooLarge
from veritrail.reference import states
from veritrail.regimes.model import Classification
from veritrail.store import outbox
from veritrail.store.blobs import keep_original
from veritrail.store.commitments import document_content
from veritrail.store.context import Context
from veritrail.store.models import ArchiveDocument, Group

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True, slots=True)
class Imported:
    """What an import did with one file."""

    id: str
    sha256: str
    source_name: str
    title: str
    language: str
    pages: int
    ocr: bool
    created: bool  # False: the same file was already in the archive

    def outcome(self, file: str) -> dict[str, Any]:
        """This import as one line of a bulk import's report (CLI and upload jobs alike)."""
        return {
            "file": file,
            "status": "imported" if self.created else "duplicate",
            "id": self.id,
            "sha256": self.sha256,
            "title": self.title,
            "language": self.language,
            "pages": self.pages,
            "ocr": self.ocr,
        }


def refused(file: str, error: str) -> dict[str, Any]:
    """A file a bulk import could not take, as one line of its report."""
    return {"file": file, "status": "refused", "error": error}


def tally(outcomes: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many files of a bulk import were imported, already there, or refused."""
    return {
        status: sum(1 for o in outcomes if o["status"] == status)
        for status in ("imported", "duplicate", "refused")
    }


def new_document_id() -> str:
    return "A-" + uuid.uuid4().hex[:16].upper()


def _plain(value: Any) -> Any:
    """Mentions as JSON: dataclasses to objects, dates to ISO strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _title(extracted: Extracted, filename: str) -> str:
    if extracted.title and extracted.title.strip():
        return " ".join(extracted.title.split())[:500]
    for line in extracted.text.splitlines():
        words = " ".join(line.split())
        if len(words) >= 8:
            return words[:200]
    return filename[:500]


def _year(extracted: Extracted, mentions: Mentions, today: date) -> tuple[str | None, int | None]:
    """The document's date: its own metadata, else the latest date it mentions (not future)."""
    when = extracted.date
    if when is None:
        past = [d for d in mentions.dates if d <= today]
        when = max(past) if past else None
    return (when.isoformat(), when.year) if when else (None, None)


def _regimes(given: Sequence[str], mentions: Mentions) -> list[str]:
    """The regimes given, and those the mentions point at (1540, scheduled chemicals)."""
    found = list(given)
    if any(r.number == 1540 for r in mentions.resolutions):
        found.append("unscr1540")
    if any(c.schedule for c in mentions.chemicals):
        found.append("cwc")
    return sorted(dict.fromkeys(found))


def _existing(ctx: Context, sha256: str) -> ArchiveDocument | None:
    with ctx.sessions() as session:
        return session.scalars(
            select(ArchiveDocument).where(ArchiveDocument.sha256 == sha256)
        ).one_or_none()


def _imported(doc: ArchiveDocument, *, created: bool) -> Imported:
    return Imported(
        id=doc.id,
        sha256=doc.sha256,
        source_name=doc.source_name,
        title=doc.title,
        language=doc.language,
        pages=doc.pages,
        ocr=doc.ocr,
        created=created,
    )


def do_import_document(
    ctx: Context,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    classification: Classification = Classification.RESTRICTED,
    owner_state: str | None = None,
    regimes: Sequence[str] = (),
    group_id: str | None = None,
    progress: Progress | None = None,
    integrate: bool = True,
) -> Imported:
    """Read one file into the archive, or find it there already (same SHA-256)."""
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "unnamed"
    if owner_state is not None:
        found = states.lookup(owner_state)
        if found is None:
            raise InputError(f"unknown state {owner_state!r}; give an ISO 3166-1 code or a name")
        owner_state = found.alpha3
    if classification is Classification.HIGHLY_PROTECTED and not group_id:
        raise InputError("highly protected material needs a need-to-know group (group_id)")
    for regime in regimes:
        if regime not in ctx.registry.packs:
            known = ", ".join(sorted(ctx.registry.packs))
            raise InputError(f"unknown regime {regime!r}; known regimes: {known}")
    require(
        actor,
        Action.ARCHIVE_IMPORT,
        Resource(owner_state=owner_state, classification=classification, group_id=group_id),
        groups=actor.groups | ({group_id} if group_id else set()),
    )
    limit = ctx.settings.max_archive_bytes
    if len(data) > limit:
        raise TooLarge(
            f"{filename} is {len(data):,} bytes; the archive accepts files up to {limit:,} bytes",
            limit=limit,
        )
    sha256 = hashlib.sha256(data).hexdigest()
    already = _existing(ctx, sha256)
    if already is not None:
        return _imported(already, created=False)

    extracted = extract(data, filename, progress=progress)
    mentions = find_mentions(extracted.text)
    now = datetime.now(UTC)
    document_date, year = _year(extracted, mentions, now.date())
    doc = ArchiveDocument(
        id=new_document_id(),
        sha256=sha256,
        source_name=filename[-255:],
        media_type=extracted.media_type,
        size=len(data),
        title=_title(extracted, filename),
        language=extracted.language,
        languages=list(extracted.languages),
        page_languages=[[p.number, p.language] for p in extracted.pages]
        if len({p.language for p in extracted.pages}) > 1
        else [],
        pages=len(extracted.pages),
        ocr=extracted.ocr,
        text=extracted.text,
        mentions=_plain(mentions),
        document_date=document_date,
        year=year,
        author=(extracted.author or "")[:300] or None,
        owner_state=owner_state,
        regimes=_regimes(regimes, mentions),
        classification=classification.value,
        group_id=group_id,
        imported_at=now,
        imported_by=actor.username,
        updated_at=now,
        content_sha256="",
    )
    doc.content_sha256 = hashlib.sha256(document_content(doc)).hexdigest()
    try:
        with ctx.sessions() as session, session.begin():
            if group_id is not None and session.get(Group, group_id) is None:
                raise NotFound(f"no need-to-know group {group_id!r}")
            keep_original(ctx.blobs, session, data, extracted.media_type)
            session.add(doc)
            doc.ledger_index = ledger.commit_version(
                session,
                actor=actor,
                record_type="document",
                record_id=doc.id,
                version=1,
                content_sha256=doc.content_sha256,
                files={"original": sha256},
                at=now,
            )
            audit.record(
                session,
                actor=actor,
                action="document.import",
                record_type="document",
                record_id=doc.id,
                version=1,
                original_sha256=sha256,
                source_name=doc.source_name,
                classification=doc.classification,
            )
            outbox.touch(session, "document", doc.id)
    except IntegrityError:
        # The same file, imported by another process at the same moment.
        raced = _existing(ctx, sha256)
        if raced is None:
            raise
        return _imported(raced, created=False)
    if integrate:
        ledger.integrate(ctx)
    return _imported(doc, created=True)


def do_reclassify_document(
    ctx: Context,
    *,
    actor: Actor,
    document_id: str,
    classification: Classification,
    reason: str,
    group_id: str | None = None,
) -> None:
    """Change an archive document's classification (and need-to-know group); always logged."""
    reason = reason.strip()
    if not reason:
        raise InputError("say why the classification changes (reason)")
    if classification is Classification.HIGHLY_PROTECTED and not group_id:
        raise InputError("highly protected material needs a need-to-know group (group_id)")
    with ctx.sessions() as session, session.begin():
        row = session.get(ArchiveDocument, document_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no archive document with id {document_id!r}")
        old = Classification(row.classification)
        for level, group in ((old, row.group_id), (classification, group_id)):
            require(
                actor,
                Action.ARCHIVE_RECLASSIFY,
                Resource(owner_state=row.owner_state, classification=level, group_id=group),
                groups=actor.groups | ({group} if group else set()),
            )
        if group_id is not None and session.get(Group, group_id) is None:
            raise NotFound(f"no need-to-know group {group_id!r}")
        row.classification = classification.value
        row.group_id = group_id
        row.updated_at = datetime.now(UTC)
        audit.record(
            session,
            actor=actor,
            action="document.reclassify",
            record_type="document",
            record_id=row.id,
            old=old.value,
            new=classification.value,
            group_id=group_id,
            reason=reason[:1000],
        )
        outbox.touch(session, "document", row.id)
    ledger.integrate(ctx)


__all__ = [
    "Imported",
    "do_import_document",
    "do_reclassify_document",
    "new_document_id",
    "refused",
    "tally",
]
