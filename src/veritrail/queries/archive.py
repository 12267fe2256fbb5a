"""Reads of archive documents, under the policy: one ``can`` per document.

A document the reader may not see answers "not found", exactly like one that
does not exist. Reads of protected and highly protected documents (their text
or their original file) go to the access log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from veritrail.access import Actor, Role
from veritrail.access.policy import Action, Resource, decide
from veritrail.errors import NotFound
from veritrail.jobs import queue
from veritrail.jobs.queue import JobView
from veritrail.regimes.model import Classification
from veritrail.store.access_log import record_access
from veritrail.store.context import Context
from veritrail.store.models import ArchiveDocument


class DocumentPublic(BaseModel):
    """An archive document as a reader sees it."""

    id: str
    title: str
    source_name: str
    media_type: str
    size: int
    sha256: str
    language: str
    languages: list[str]
    page_languages: list[Any]
    pages: int
    ocr: bool
    document_date: str | None
    year: int | None
    author: str | None
    owner_state: str | None
    regimes: list[str]
    classification: str
    group_id: str | None
    mentions: dict[str, Any]
    imported_at: datetime
    imported_by: str
    ledger_index: int | None
    text: str | None = None


def _public(row: ArchiveDocument, *, with_text: bool) -> DocumentPublic:
    return DocumentPublic(
        id=row.id,
        title=row.title,
        source_name=row.source_name,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        language=row.language,
        languages=list(row.languages or []),
        page_languages=list(row.page_languages or []),
        pages=row.pages,
        ocr=row.ocr,
        document_date=row.document_date,
        year=row.year,
        author=row.author,
        owner_state=row.owner_state,
        regimes=list(row.regimes or []),
        classification=row.classification,
        group_id=row.group_id,
        mentions=dict(row.mentions or {}),
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        ledger_index=row.ledger_index,
        text=row.text if with_text else None,
    )


def _readable(ctx: Context, actor: Actor, document_id: str) -> tuple[ArchiveDocument, bool]:
    """The document and whether reading it must be logged; "not found" when out of reach."""
    with ctx.sessions() as session:
        row = session.get(ArchiveDocument, document_id[:64])
        if row is not None:
            session.expunge(row)
    if row is None:
        raise NotFound(f"no archive document with id {document_id!r}")
    decision = decide(
        actor,
        Action.ARCHIVE_READ,
        Resource(
            owner_state=row.owner_state,
            classification=Classification(row.classification),
            group_id=row.group_id,
        ),
        groups=actor.groups,
    )
    if not decision.allowed:
        raise NotFound(f"no archive document with id {document_id!r}")
    return row, decision.logged


def _log(
    ctx: Context,
    actor: Actor,
    row: ArchiveDocument,
    action: str,
    client: str | None,
    purpose: str | None,
) -> None:
    with ctx.sessions() as session, session.begin():
        record_access(
            session,
            actor=actor.username,
            action=action,
            record_type="document",
            record_id=row.id,
            version=1,
            classification=row.classification,
            client=client,
            purpose=purpose,
        )


def get_document(
    ctx: Context,
    *,
    actor: Actor,
    document_id: str,
    with_text: bool = True,
    client: str | None = None,
    purpose: str | None = None,
) -> DocumentPublic:
    """One document with its extracted text and mentions."""
    row, logged = _readable(ctx, actor, document_id)
    if logged and with_text:
        _log(ctx, actor, row, "document.read", client, purpose)
    return _public(row, with_text=with_text)


def original_file(
    ctx: Context,
    *,
    actor: Actor,
    document_id: str,
    client: str | None = None,
    purpose: str | None = None,
) -> tuple[bytes, str, str]:
    """The file exactly as imported: bytes, file name and media type."""
    row, logged = _readable(ctx, actor, document_id)
    if logged:
        _log(ctx, actor, row, "document.original", client, purpose)
    return ctx.blobs.get(row.sha256), row.source_name, row.media_type


def get_job(ctx: Context, *, actor: Actor, job_id: str) -> JobView:
    """A background job, to the account that queued it (or the local operator)."""
    with ctx.sessions() as session:
        view = queue.get(session, job_id[:64])
    if view.created_by != actor.username and actor.role is not Role.OPERATOR:
        raise NotFound(f"no job with id {job_id!r}")
    return view


def recent_jobs(ctx: Context, *, actor: Actor, limit: int = 10) -> list[JobView]:
    with ctx.sessions() as session:
        return queue.recent(session, actor.username, limit)


__all__ = [
    "DocumentPublic",
    "get_document",
    "get_job",
    "original_file",
    "recent_jobs",
]
