"""The secretariat's overview: reporting status of every state under every regime."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.actions import Context
from veritrail.api.deps import CtxDep
from veritrail.declarations.models import ReportingStatus, StatusCell
from veritrail.queries import status_table
from veritrail.reference import states
from veritrail.web.common import STATUS_ORDER, current_period, lang, page, partial, period_choices
from veritrail.web.deps import WebStatusReader

router = APIRouter()


@dataclass
class StateRow:
    code: str
    name: str
    cells: dict[str, StatusCell] = field(default_factory=dict)


@dataclass
class Filters:
    period: int
    regime: str
    status: str
    q: str

    def query(self, **extra: Any) -> str:
        values = {"period": self.period, "regime": self.regime, "status": self.status, **extra}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _matches(code: str, query: str) -> bool:
    if not query:
        return True
    found = states.by_alpha3(code)
    needle = query.casefold().strip()
    if found is None:
        return needle in code.casefold()
    haystack = [found.alpha3, found.alpha2, found.iso_name, *found.names.values()]
    return any(needle in text.casefold() for text in haystack)


def _table(ctx: Context, actor: Actor, filters: Filters, language: str) -> dict[str, Any]:
    regime = filters.regime if filters.regime in ctx.registry.packs else None
    cells = [
        c
        for c in status_table(ctx, actor=actor, period=filters.period, regime=regime)
        if _matches(c.state, filters.q)
    ]
    counts = Counter(c.status for c in cells)
    wanted = ReportingStatus(filters.status) if filters.status in set(ReportingStatus) else None
    rows: dict[str, StateRow] = {}
    for cell in cells:
        if wanted is not None and cell.status is not wanted:
            continue
        row = rows.setdefault(cell.state, StateRow(cell.state, _name(cell.state, language)))
        row.cells[cell.regime] = cell
    regimes = [
        (p.regime.id, p.regime.short_name.get(language))
        for p in ctx.registry.packs.values()
        if regime in (None, p.regime.id)
    ]
    exact = states.lookup(filters.q) if filters.q else None
    csv = {
        "period": filters.period,
        "regime": regime or "",
        "status": wanted.value if wanted else "",
        "state": exact.alpha3 if exact else "",
    }
    return {
        "rows": sorted(rows.values(), key=lambda r: r.name.casefold()),
        "regimes": regimes,
        "counts": [(s, counts.get(s, 0)) for s in STATUS_ORDER],
        "total": len(cells),
        "filters": filters,
        "csv_url": "/api/status.csv?" + urlencode({k: v for k, v in csv.items() if v}),
    }


def _name(code: str, language: str) -> str:
    found = states.by_alpha3(code)
    return found.name(language) if found else code


Period = Annotated[int | None, Query(ge=1946, le=2200)]
Text = Annotated[str, Query(max_length=100)]


@router.get("/overview", include_in_schema=False)
def overview(
    request: Request,
    ctx: CtxDep,
    actor: WebStatusReader,
    period: Period = None,
    regime: Text = "",
    status: Text = "",
    q: Text = "",
) -> Response:
    """States × regimes for one period, filtered; national users go to their dashboard."""
    if actor.is_national:
        return RedirectResponse("/", status_code=303)
    language = lang(request)
    filters = Filters(period or current_period(), regime, status, q.strip())
    return page(
        request,
        "overview.html",
        {
            **_table(ctx, actor, filters, language),
            "periods": period_choices(),
            "all_regimes": [
                (p.regime.id, p.regime.short_name.get(language))
                for p in ctx.registry.packs.values()
            ],
            "statuses": STATUS_ORDER,
        },
        actor=actor,
    )


@router.get("/overview/table", include_in_schema=False)
def overview_table(
    request: Request,
    ctx: CtxDep,
    actor: WebStatusReader,
    period: Period = None,
    regime: Text = "",
    status: Text = "",
    q: Text = "",
) -> Response:
    """The table of the overview alone, for htmx to swap in when a filter changes."""
    if actor.is_national:
        return RedirectResponse("/", status_code=303)
    filters = Filters(period or current_period(), regime, status, q.strip())
    response = partial(
        request, "_overview_table.html", _table(ctx, actor, filters, lang(request)), actor=actor
    )
    # The address bar shows the full page with these filters, so a reload keeps them.
    response.headers["HX-Replace-Url"] = "/overview?" + filters.query(q=filters.q)
    return response


__all__ = ["router"]
