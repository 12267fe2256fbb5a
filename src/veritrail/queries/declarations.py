"""Reads of declarations, their versions, diffs and reporting status."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from veritrail.access import Actor
from veritrail.declarations.diff import DeclarationDiff, diff_documents
from veritrail.declarations.models import (
    DeclarationDetail,
    DeclarationPublic,
    Lifecycle,
    ReportingStatus,
    StatusCell,
    VersionPublic,
)
from veritrail.declarations.status import Filed, regime_due, regime_status, type_status
from veritrail.errors import NotFound
from veritrail.store.context import Context
from veritrail.store.models import Blob, Declaration, DeclarationVersion


def _public(ctx: Context, row: Declaration, now: datetime) -> DeclarationPublic:
    dtype = ctx.registry.declaration_type(row.regime, row.type)
    filed = Filed(row.type, row.first_submitted_at, row.nothing_to_declare)
    return DeclarationPublic(
        id=row.id,
        regime=row.regime,
        type=row.type,
        state=row.state,
        period=row.period,
        status=Lifecycle(row.status),
        classification=row.classification,
        current_version=row.current_version,
        nothing_to_declare=row.nothing_to_declare,
        created_at=row.created_at,
        created_by=row.created_by,
        first_submitted_at=row.first_submitted_at,
        updated_at=row.updated_at,
        due=dtype.deadline.due(row.period),
        reporting=type_status(dtype, row.period, [filed], now),
    )


def _visible(actor: Actor, query: Select[Any]) -> Select[Any]:
    if actor.is_national:
        return query.where(Declaration.state == actor.state)
    return query


def list_declarations(
    ctx: Context,
    *,
    actor: Actor,
    state: str | None = None,
    regime: str | None = None,
    type_: str | None = None,
    period: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DeclarationPublic]:
    """Declarations the actor may see, newest first."""
    query = _visible(actor, select(Declaration))
    for column, value in (
        (Declaration.state, state),
        (Declaration.regime, regime),
        (Declaration.type, type_),
        (Declaration.period, period),
    ):
        if value is not None:
            query = query.where(column == value)
    query = (
        query.order_by(Declaration.updated_at.desc(), Declaration.id).limit(limit).offset(offset)
    )
    now = datetime.now(UTC)
    with ctx.sessions() as session:
        return [_public(ctx, row, now) for row in session.scalars(query)]


def _get(ctx: Context, actor: Actor, declaration_id: str) -> Declaration:
    with ctx.sessions() as session:
        row = session.get(Declaration, declaration_id)
    # Another state's declaration is reported as absent, not as forbidden,
    # so that identifiers reveal nothing.
    if row is None or not actor.may_read_state(row.state):
        raise NotFound(f"no declaration with id {declaration_id!r}")
    return row


def declaration_detail(ctx: Context, *, actor: Actor, declaration_id: str) -> DeclarationDetail:
    row = _get(ctx, actor, declaration_id)
    with ctx.sessions() as session:
        versions = session.scalars(
            select(DeclarationVersion)
            .where(DeclarationVersion.declaration_id == declaration_id)
            .order_by(DeclarationVersion.version)
        ).all()
    public = _public(ctx, row, datetime.now(UTC))
    return DeclarationDetail(
        **public.model_dump(),
        versions=[
            VersionPublic(
                version=v.version,
                content_sha256=v.content_sha256,
                original_sha256=v.original_sha256,
                original_filename=v.original_filename,
                source_format=v.source_format,
                submitted_at=v.submitted_at,
                submitted_by=v.submitted_by,
                line_count=v.line_count,
                note=v.note,
            )
            for v in versions
        ],
        draft=row.draft if actor.may_submit_for(row.state) else None,
    )


def _version_row(ctx: Context, declaration_id: str, version: int | None) -> DeclarationVersion:
    with ctx.sessions() as session:
        query = select(DeclarationVersion).where(
            DeclarationVersion.declaration_id == declaration_id
        )
        if version is None:
            query = query.order_by(DeclarationVersion.version.desc())
        else:
            query = query.where(DeclarationVersion.version == version)
        row = session.scalars(query.limit(1)).first()
    if row is None:
        which = "any submitted version" if version is None else f"a version {version}"
        raise NotFound(f"declaration {declaration_id} has no {which}")
    return row


def version_document(
    ctx: Context, *, actor: Actor, declaration_id: str, version: int | None = None
) -> dict[str, Any]:
    """The canonical document of a version (the latest when ``version`` is None)."""
    _get(ctx, actor, declaration_id)
    return dict(_version_row(ctx, declaration_id, version).document)


def original_file(
    ctx: Context, *, actor: Actor, declaration_id: str, version: int
) -> tuple[bytes, str, str]:
    """The file as the state sent it: bytes, file name and media type."""
    _get(ctx, actor, declaration_id)
    row = _version_row(ctx, declaration_id, version)
    if row.original_sha256 is None:
        raise NotFound(f"version {version} of {declaration_id} was entered without a file")
    with ctx.sessions() as session:
        blob = session.get(Blob, row.original_sha256)
    media_type = blob.media_type if blob else "application/octet-stream"
    name = row.original_filename or f"{declaration_id}-v{version}"
    return ctx.blobs.get(row.original_sha256), name, media_type


def diff_versions(
    ctx: Context, *, actor: Actor, declaration_id: str, old: int, new: int
) -> DeclarationDiff:
    row = _get(ctx, actor, declaration_id)
    dtype = ctx.registry.declaration_type(row.regime, row.type)
    return diff_documents(
        _version_row(ctx, declaration_id, old).document,
        _version_row(ctx, declaration_id, new).document,
        dtype,
    )


def status_table(
    ctx: Context,
    *,
    actor: Actor,
    period: int,
    regime: str | None = None,
    state: str | None = None,
    status: ReportingStatus | None = None,
    now: datetime | None = None,
) -> list[StatusCell]:
    """Reporting status of every party of every regime for ``period``."""
    now = now or datetime.now(UTC)
    packs = [ctx.registry.regime(regime)] if regime else list(ctx.registry.packs.values())
    query = _visible(actor, select(Declaration)).where(Declaration.period == period)
    if regime:
        query = query.where(Declaration.regime == regime)
    if state:
        query = query.where(Declaration.state == state)
    filed: dict[tuple[str, str], list[Filed]] = defaultdict(list)
    submitted: dict[tuple[str, str], datetime] = {}
    with ctx.sessions() as session:
        for row in session.scalars(query):
            key = (row.state, row.regime)
            filed[key].append(Filed(row.type, row.first_submitted_at, row.nothing_to_declare))
            if row.first_submitted_at and (
                key not in submitted or row.first_submitted_at < submitted[key]
            ):
                submitted[key] = row.first_submitted_at
    cells: list[StatusCell] = []
    for pack in packs:
        expected = [t for t in pack.types.values() if t.expected == "every_party"]
        if not expected:
            continue
        due = regime_due(expected, period)
        for party in pack.parties():
            if (state and party != state) or not actor.may_read_state(party):
                continue
            key = (party, pack.regime.id)
            cell = StatusCell(
                state=party,
                regime=pack.regime.id,
                period=period,
                status=regime_status(expected, period, filed.get(key, []), now),
                due=due,
                declarations=len(filed.get(key, [])),
                submitted_at=submitted.get(key),
            )
            if status is None or cell.status is status:
                cells.append(cell)
    return cells


__all__ = [
    "declaration_detail",
    "diff_versions",
    "list_declarations",
    "original_file",
    "status_table",
    "version_document",
]
