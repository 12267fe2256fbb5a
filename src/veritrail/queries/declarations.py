"""Reads of declarations, their versions, diffs and reporting status."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, tuple_, union_all

from veritrail.access import Actor
from veritrail.access.policy import (
    LEVELS,
    Action,
    Decision,
    Resource,
    can,
    decide,
)
from veritrail.declarations.diff import DeclarationDiff, diff_documents
from veritrail.declarations.export import export_version
from veritrail.declarations.models import (
    AnnexPublic,
    DeclarationDetail,
    DeclarationPublic,
    Lifecycle,
    ReportingStatus,
    StatusCell,
    VersionPublic,
)
from veritrail.declarations.redact import (
    annex_classifications,
    highest_shown,
    line_count,
    redact,
    withheld_annexes,
    without_sections,
)
from veritrail.declarations.status import Filed, regime_due, regime_status, type_status
from veritrail.declarations.visibility import visible_branches, visible_clause
from veritrail.errors import Forbidden, NotFound
from veritrail.regimes.model import Classification, DeclarationType
from veritrail.store.access_log import record_access
from veritrail.store.context import Context
from veritrail.store.models import Blob, Declaration, DeclarationVersion


def declaration_public(ctx: Context, row: Declaration, now: datetime) -> DeclarationPublic:
    """The public shape of a declaration row, with its due date and reporting status."""
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
    """Only the declarations the policy lets ``actor`` read, filtered in SQL."""
    return query.where(visible_clause(actor))


def _resource(row: Declaration, level: Classification | None = None) -> Resource:
    return Resource(
        owner_state=row.state,
        classification=level or Classification(row.classification),
        group_id=row.group_id,
    )


def readable_levels(actor: Actor, row: Declaration) -> frozenset[Classification]:
    """The classifications ``actor`` may read on ``row``'s declaration, as the policy says.

    Asked level by level of the same ``can`` that guards the declaration, with its owner
    and need-to-know group: what decides whether a confidential annex is shown.
    """
    return frozenset(
        level
        for level in LEVELS
        if can(actor, Action.DECLARATION_READ, _resource(row, level), groups=actor.groups)
    )


@dataclass(frozen=True, slots=True)
class Reading:
    """One actor's reading of one declaration: its annexes, and what the actor may see."""

    row: Declaration
    dtype: DeclarationType
    annexes: dict[str, Classification]
    visible: frozenset[Classification]

    @property
    def withheld(self) -> dict[str, Classification]:
        """Annexes the actor may not see: section id and classification."""
        return withheld_annexes(self.annexes, self.visible)

    @property
    def shown(self) -> Classification:
        """The highest classification of the content the actor is shown."""
        return highest_shown(Classification(self.row.classification), self.annexes, self.visible)

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        """A version's document with the annexes the actor may not see withheld."""
        return redact(document, self.dtype, self.visible, annexes=self.annexes)


def reading(ctx: Context, actor: Actor, row: Declaration) -> Reading:
    """What ``actor`` may see of ``row``, once the policy lets it read the declaration."""
    dtype = ctx.registry.declaration_type(row.regime, row.type)
    annexes = annex_classifications(
        dtype, Classification(row.classification), row.annex_classification
    )
    return Reading(row, dtype, annexes, readable_levels(actor, row) if annexes else frozenset())


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
    before: tuple[datetime, str] | None = None,
) -> list[DeclarationPublic]:
    """Declarations the actor may see, newest first.

    Page with ``before`` (the ``updated_at`` and ``id`` of the last item of the
    previous page): each page then costs the same however deep it is. ``offset``
    works too, at a cost that grows with it.

    The policy's alternatives are queried separately, each walking its own index
    in order and stopping at ``offset + limit``, then merged: a national
    authority's page costs about what a query on its state alone would.
    """
    filters = [
        column == value
        for column, value in (
            (Declaration.state, state),
            (Declaration.regime, regime),
            (Declaration.type, type_),
            (Declaration.period, period),
        )
        if value is not None
    ]
    if before is not None:
        filters.append(tuple_(Declaration.updated_at, Declaration.id) < tuple_(*before))
    branches = visible_branches(actor)
    if not branches:
        return []
    # Both keys descending, so that an index on (…, updated_at, id) read backwards
    # yields the page in order without sorting.
    order = (Declaration.updated_at.desc(), Declaration.id.desc())
    if len(branches) == 1:
        query = select(Declaration).where(branches[0], *filters)
    else:
        window = offset + limit
        parts = [
            select(Declaration.id, Declaration.updated_at)
            .where(branch, *filters)
            .order_by(*order)
            .limit(window)
            .subquery()
            for branch in branches
        ]
        merged = union_all(*(select(part.c.id, part.c.updated_at) for part in parts)).subquery()
        page = (
            select(merged.c.id)
            .order_by(merged.c.updated_at.desc(), merged.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        query = select(Declaration).where(Declaration.id.in_(page))
        offset = 0
    query = query.order_by(*order).limit(limit).offset(offset)
    now = datetime.now(UTC)
    with ctx.sessions() as session:
        return [declaration_public(ctx, row, now) for row in session.scalars(query)]


def _get(ctx: Context, actor: Actor, declaration_id: str) -> Reading:
    """The declaration as ``actor`` may read it, if the policy lets ``actor`` read it.

    Another state's or an unreachable declaration is reported as absent, not as
    forbidden, so that identifiers reveal nothing.
    """
    with ctx.sessions() as session:
        row = session.get(Declaration, declaration_id)
    if row is None or not can(actor, Action.DECLARATION_READ, _resource(row), groups=actor.groups):
        raise NotFound(f"no declaration with id {declaration_id!r}")
    return reading(ctx, actor, row)


def _log_read(
    ctx: Context,
    actor: Actor,
    read: Reading,
    action: str,
    *,
    version: int | None = None,
    client: str | None = None,
    purpose: str | None = None,
) -> None:
    """Put a read of protected material on record, before it is returned.

    The read is recorded at the highest classification of what the actor is shown: an
    annex seen above its declaration's level counts at the annex's.
    """
    level = read.shown
    decision: Decision = decide(
        actor, Action.DECLARATION_READ, _resource(read.row, level), groups=actor.groups
    )
    if not decision.logged:
        return
    with ctx.sessions() as session, session.begin():
        record_access(
            session,
            actor=actor.username,
            action=action,
            record_type="declaration",
            record_id=read.row.id,
            version=version,
            classification=level.value,
            client=client,
            purpose=purpose,
        )


def declaration_detail(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    client: str | None = None,
    purpose: str | None = None,
) -> DeclarationDetail:
    """A declaration with its versions (and the draft, for those who may submit it).

    Where annexes are withheld from the actor, the versions' line counts leave their
    rows out, so that the totals tell nothing of what the annexes hold.
    """
    read = _get(ctx, actor, declaration_id)
    row = read.row
    submitter = can(actor, Action.DECLARATION_SUBMIT, _resource(row))
    if submitter and row.draft is not None:  # the draft is content
        _log_read(ctx, actor, read, "declaration.draft", client=client, purpose=purpose)
    with ctx.sessions() as session:
        versions = session.scalars(
            select(DeclarationVersion)
            .where(DeclarationVersion.declaration_id == declaration_id)
            .order_by(DeclarationVersion.version)
        ).all()
    withheld = read.withheld
    counted = without_sections(read.dtype, withheld)
    public = declaration_public(ctx, row, datetime.now(UTC))
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
                line_count=line_count(v.document, counted) if withheld else v.line_count,
                note=v.note,
            )
            for v in versions
        ],
        draft=read.document(row.draft) if submitter and row.draft is not None else None,
        annexes=[
            AnnexPublic(section=section, classification=level.value, withheld=section in withheld)
            for section, level in read.annexes.items()
        ],
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
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    version: int | None = None,
    client: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """The canonical document of a version (the latest when ``version`` is None).

    Annexes the actor may not see are withheld (see :mod:`veritrail.declarations.redact`).
    """
    read = _get(ctx, actor, declaration_id)
    _log_read(
        ctx, actor, read, "declaration.version", version=version, client=client, purpose=purpose
    )
    return read.document(_version_row(ctx, declaration_id, version).document)


def version_export(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    version: int,
    format: str,
    client: str | None = None,
    purpose: str | None = None,
) -> tuple[bytes, str, str]:
    """A version as CSV or XLSX, annexes withheld as in the document: bytes, name, media type."""
    read = _get(ctx, actor, declaration_id)
    _log_read(
        ctx, actor, read, "declaration.export", version=version, client=client, purpose=purpose
    )
    document = read.document(_version_row(ctx, declaration_id, version).document)
    data, media_type = export_version(document, read.dtype, format)
    return data, f"{declaration_id}-v{version}.{format}", media_type


def original_file(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    version: int,
    client: str | None = None,
    purpose: str | None = None,
) -> tuple[bytes, str, str]:
    """The file as the state sent it: bytes, file name and media type.

    The file holds every annex: it is refused to whoever may not see all of them.
    """
    read = _get(ctx, actor, declaration_id)
    if read.withheld:
        annexes = ", ".join(f"{s} ({level.value})" for s, level in read.withheld.items())
        raise Forbidden(
            f"the original file of {declaration_id} holds annexes you may not read: "
            f"{annexes}; read the version's document, in which they are withheld",
            withheld=sorted(read.withheld),
        )
    _log_read(
        ctx, actor, read, "declaration.original", version=version, client=client, purpose=purpose
    )
    row = _version_row(ctx, declaration_id, version)
    if row.original_sha256 is None:
        raise NotFound(f"version {version} of {declaration_id} was entered without a file")
    with ctx.sessions() as session:
        blob = session.get(Blob, row.original_sha256)
    media_type = blob.media_type if blob else "application/octet-stream"
    name = row.original_filename or f"{declaration_id}-v{version}"
    return ctx.blobs.get(row.original_sha256), name, media_type


def diff_versions(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    old: int,
    new: int,
    client: str | None = None,
    purpose: str | None = None,
) -> DeclarationDiff:
    """What changed between two versions; annexes the actor may not see are not compared."""
    read = _get(ctx, actor, declaration_id)
    _log_read(ctx, actor, read, "declaration.diff", version=new, client=client, purpose=purpose)
    withheld = read.withheld
    result = diff_documents(
        _version_row(ctx, declaration_id, old).document,
        _version_row(ctx, declaration_id, new).document,
        without_sections(read.dtype, withheld),
    )
    if not withheld:
        return result
    return replace(result, withheld={s: level.value for s, level in withheld.items()})


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
            if (state and party != state) or not can(
                actor, Action.STATUS_READ, Resource(owner_state=party)
            ):
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
    "Reading",
    "declaration_detail",
    "diff_versions",
    "list_declarations",
    "original_file",
    "readable_levels",
    "reading",
    "status_table",
    "version_document",
    "version_export",
]
