"""Reading declarations: the list, one declaration with its versions, and version diffs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from veritrail.actions import Context
from veritrail.api.deps import CtxDep
from veritrail.declarations.diff import FieldChange
from veritrail.declarations.models import AnnexPublic, DeclarationDetail
from veritrail.declarations.redact import is_withheld
from veritrail.errors import InputError
from veritrail.queries import declaration_detail, diff_versions, list_declarations, version_document
from veritrail.queries.signing_keys import version_signers
from veritrail.reference import states
from veritrail.regimes.model import DeclarationType, FieldSpec, SectionKind
from veritrail.web.common import (
    HEADER_LABELS,
    client_of,
    display_value,
    lang,
    page,
    period_choices,
    regime_title,
    state_name,
    type_title,
)
from veritrail.web.deps import WebReader

router = APIRouter()


@dataclass
class ShownSection:
    """A section of a version as the reader sees it."""

    id: str
    title: str
    is_table: bool
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    classification: str | None = None  # a confidential annex's
    withheld: bool = False


def shown_sections(
    dtype: DeclarationType,
    document: dict[str, Any],
    language: str,
    annexes: Sequence[AnnexPublic] = (),
) -> list[ShownSection]:
    """The sections of a (redacted) document, with their annexes' classification."""
    data = document.get("data") or {}
    annex = {a.section: a for a in annexes}
    out = []
    for spec in dtype.sections:
        shown = ShownSection(spec.id, spec.title.get(language), spec.kind is SectionKind.TABLE)
        value = data.get(spec.id)
        if spec.id in annex:
            shown.classification = annex[spec.id].classification
        if is_withheld(value):  # the document's own marker, whatever the annex list says
            shown.withheld = True
            shown.classification = shown.classification or str(value["classification"])
        elif spec.id in annex and annex[spec.id].withheld:
            shown.withheld = True
        elif spec.kind is SectionKind.TABLE:
            shown.columns = [f.label.get(language) for f in spec.fields]
            shown.rows = [
                [display_value(f, row.get(f.id), language) for f in spec.fields]
                for row in (value or [])
                if isinstance(row, dict)
            ]
        else:
            values = value if isinstance(value, dict) else {}
            shown.fields = [
                (f.label.get(language), display_value(f, values.get(f.id), language))
                for f in spec.fields
            ]
        out.append(shown)
    return out


def _titles(ctx: Context, detail: DeclarationDetail, language: str) -> dict[str, Any]:
    return {
        "regime_name": regime_title(ctx, detail.regime, language),
        "type_title": type_title(ctx, detail.regime, detail.type, language),
        "state_label": state_name(detail.state, language),
    }


@router.get("/declarations", include_in_schema=False)
def declarations(
    request: Request,
    ctx: CtxDep,
    actor: WebReader,
    state: Annotated[str | None, Query(max_length=60)] = None,
    regime: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[int | None, Query(ge=1946, le=2200)] = None,
) -> Response:
    language = lang(request)
    alpha3 = None
    if state:
        found = states.lookup(state)
        if found is None:
            raise InputError(f"{state!r} is not a known state")
        alpha3 = found.alpha3
    if regime and regime not in ctx.registry.packs:
        regime = None
    rows = list_declarations(
        ctx, actor=actor, state=alpha3, regime=regime, period=period, limit=500
    )
    return page(
        request,
        "declarations.html",
        {
            "rows": rows,
            "regimes": [
                (p.regime.id, p.regime.short_name.get(language))
                for p in ctx.registry.packs.values()
            ],
            "periods": period_choices(),
            "filters": {"state": alpha3 or "", "regime": regime or "", "period": period},
            "state_name": lambda code: state_name(code, language),
            "type_title": lambda r, t: type_title(ctx, r, t, language),
            "regime_title": lambda r: regime_title(ctx, r, language),
        },
        actor=actor,
    )


@router.get("/declarations/{declaration_id}", include_in_schema=False)
def declaration(request: Request, declaration_id: str, ctx: CtxDep, actor: WebReader) -> Response:
    language = lang(request)
    detail = declaration_detail(
        ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
    )
    dtype = ctx.registry.declaration_type(detail.regime, detail.type)
    content = []
    if detail.current_version:
        document = version_document(
            ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
        )
        content = shown_sections(dtype, document, language, detail.annexes)
    return page(
        request,
        "declaration.html",
        {
            "d": detail,
            **_titles(ctx, detail, language),
            "content": content,
            "may_edit": actor.may_submit_for(detail.state),
            "signers": version_signers(ctx, detail),
            # The original file holds every annex: offered only to who may read them all.
            "originals": not any(a.withheld for a in detail.annexes),
        },
        actor=actor,
    )


@dataclass
class ShownChange:
    label: str
    old: str
    new: str


@dataclass
class ShownRow:
    kind: str
    key: str
    cells: list[tuple[str, str, bool]]  # (old or value, new, changed)


@dataclass
class ShownDiff:
    title: str
    is_table: bool
    columns: list[str] = field(default_factory=list)
    fields: list[ShownChange] = field(default_factory=list)
    rows: list[ShownRow] = field(default_factory=list)
    withheld: str | None = None  # the classification of an annex left out of the comparison


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _change(spec: FieldSpec | None, change: FieldChange, language: str) -> ShownChange:
    return ShownChange(
        spec.label.get(language) if spec else change.field,
        display_value(spec, change.old, language),
        display_value(spec, change.new, language),
    )


@router.get("/declarations/{declaration_id}/diff", include_in_schema=False)
def diff(
    request: Request,
    declaration_id: str,
    ctx: CtxDep,
    actor: WebReader,
    old: Annotated[int | None, Query(alias="from", ge=1)] = None,
    new: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Response:
    language = lang(request)
    detail = declaration_detail(
        ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
    )
    dtype = ctx.registry.declaration_type(detail.regime, detail.type)
    latest = detail.current_version
    new = new or latest
    old = old or max(1, (new or 1) - 1)
    result = (
        diff_versions(
            ctx,
            actor=actor,
            declaration_id=declaration_id,
            old=old,
            new=new,
            client=client_of(request),
        )
        if latest
        else None
    )
    shown: list[ShownDiff] = []
    header: list[ShownChange] = []
    withheld: list[ShownDiff] = []
    if result is not None:
        for section_id, level in result.withheld.items():
            spec = dtype.section(section_id)
            title = spec.title.get(language) if spec else section_id
            withheld.append(ShownDiff(title, False, withheld=level))
        header = [
            ShownChange(HEADER_LABELS.get(c.field, c.field), _plain(c.old), _plain(c.new))
            for c in result.header
        ]
        for section in result.sections:
            spec = dtype.section(section.section)
            if spec is None or section.empty:
                continue
            item = ShownDiff(
                spec.title.get(language),
                spec.kind is SectionKind.TABLE,
                columns=[f.label.get(language) for f in spec.fields],
            )
            item.fields = [_change(spec.field(c.field), c, language) for c in section.fields]
            for row in section.rows:
                changed = {c.field for c in row.changes}
                cells = []
                for f in spec.fields:
                    before = display_value(f, (row.old or {}).get(f.id), language)
                    after = display_value(f, (row.new or {}).get(f.id), language)
                    cells.append((before, after, f.id in changed))
                item.rows.append(ShownRow(row.kind, row.key, cells))
            shown.append(item)
    return page(
        request,
        "diff.html",
        {
            "d": detail,
            **_titles(ctx, detail, language),
            "old": old,
            "new": new,
            "versions": [v.version for v in detail.versions],
            "header": header,
            "sections": shown,
            "withheld": withheld,
            "summary": result.summary() if result else {},
            "empty": result is None or result.empty,
        },
        actor=actor,
    )


__all__ = ["ShownSection", "router", "shown_sections"]
