"""The analysts' dashboard: participation, discrepancies, the facility map and the findings.

Each chart is drawn in the browser (``static/js/analysis.js``) from figures the
page carries in a ``data-chart`` attribute, since the CSP allows no inline
script; the same figures are printed in a table under the chart, so they are
there without JavaScript and for screen readers. The map reads the facilities
from ``/analysis/facilities.json`` and draws them over the country outlines
shipped with the application (no tile server).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions import Context
from veritrail.actions.cases import STATUSES
from veritrail.analysis.reconcile import DISCREPANCIES, Kind, TransferFinding
from veritrail.analysis.report import render
from veritrail.analysis.transfers import reconciled_types
from veritrail.api.deps import CtxDep
from veritrail.declarations.models import ReportingStatus
from veritrail.errors import InputError
from veritrail.i18n import translator
from veritrail.queries.analysis import (
    FINDING_HEADERS,
    facility_points,
    finding_rows,
    participation,
    reconcile_transfers,
    reporting_years,
)
from veritrail.queries.cases import case_counts
from veritrail.web.case_views import (
    CASE_STATUS_LABELS,
    KIND_LABELS,
    Format,
    Year,
    attachment,
    number,
    year_of,
)
from veritrail.web.common import STATUS_LABELS, STATUS_ORDER, lang, page, regime_title, state_name
from veritrail.web.deps import web_requires
from veritrail.web.finding_text import transfer

router = APIRouter()

WebAnalyst = Annotated[Actor, Depends(web_requires(Action.ANALYSIS_READ))]

PAGE_SIZE = 25
LAST_PAGE = 10_000
KINDS: tuple[Kind, ...] = ("quantity_mismatch", "missing_import", "missing_export")
# Colours of the series; the page's CSS uses the same for the status badges.
STATUS_COLOURS: dict[str, str] = {
    ReportingStatus.ON_TIME: "#1a7f37",
    ReportingStatus.LATE: "#c98a00",
    ReportingStatus.MISSING: "#b42318",
    ReportingStatus.NOTHING_TO_DECLARE: "#4b5d8a",
    ReportingStatus.NOT_YET_DUE: "#8a94a6",
    ReportingStatus.DRAFT: "#6b4fa0",
}
KIND_COLOURS: dict[str, str] = {
    "quantity_mismatch": "#d9480f",
    "missing_import": "#1f5fa8",
    "missing_export": "#0b7285",
}
CASE_COLOURS: dict[str, str] = {
    "open": "#b42318",
    "awaiting_state": "#c98a00",
    "answered": "#6b4fa0",
    "closed": "#8a94a6",
}


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    colour: str
    data: list[float]
    stack: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """What ``analysis.js`` draws: a stacked bar chart, in percent or in counts.

    ``labels`` are short (the regime's code and the year) for the axis; ``titles``
    name the same bars in full for the tooltips.
    """

    labels: list[str]
    titles: list[str]
    series: list[Series]
    percent: bool = False
    axis: str = ""

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Cell:
    count: int
    share: str = ""  # "12.5 %" of the expected parties, where it applies


@dataclass
class ParticipationRow:
    regime: str
    regime_name: str
    year: int
    expected: int
    cells: dict[str, Cell] = field(default_factory=dict)


def _share(count: int, expected: int) -> float:
    return round(100 * count / expected, 1) if expected else 0.0


def participation_view(
    rows: Iterable[Mapping[str, Any]], ctx: Context, language: str
) -> tuple[list[ParticipationRow], list[str], Chart]:
    """Rows per regime and year, the statuses that occur, and the chart of their shares."""
    t = translator(language)
    shown: list[ParticipationRow] = []
    for row in sorted(rows, key=lambda r: (r["regime"], r["year"])):
        expected = int(row.get("expected") or 0)
        item = ParticipationRow(
            row["regime"], regime_title(ctx, row["regime"], language), row["year"], expected
        )
        for status in STATUS_ORDER:
            count = int(row.get(status.value) or 0)
            item.cells[status.value] = Cell(count, f"{_share(count, expected):g} %")
        shown.append(item)
    present = [s.value for s in STATUS_ORDER if any(r.cells[s.value].count for r in shown)] or [
        ReportingStatus.ON_TIME.value,
        ReportingStatus.LATE.value,
        ReportingStatus.MISSING.value,
    ]
    chart = Chart(
        labels=[f"{r.regime.upper()} {r.year}" for r in shown],
        titles=[f"{r.regime_name} {r.year}" for r in shown],
        series=[
            Series(
                t.gettext(STATUS_LABELS[status]),
                STATUS_COLOURS[status],
                [_share(r.cells[status].count, r.expected) for r in shown],
                "parties",
            )
            for status in present
        ],
        percent=True,
        axis=t.gettext("Percent of the parties expected"),
    )
    return shown, present, chart


@dataclass
class DiscrepancyRow:
    regime: str
    regime_name: str
    year: int
    kinds: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)


def discrepancy_view(
    counts: Mapping[tuple[str, int, Kind], int],
    cases: Iterable[Mapping[str, Any]],
    ctx: Context,
    language: str,
) -> tuple[list[DiscrepancyRow], Chart]:
    """Per regime and year: the reconciliation's discrepancies by kind, the cases by status."""
    t = translator(language)
    rows: dict[tuple[str, int], DiscrepancyRow] = {}

    def row(regime: str, year: int) -> DiscrepancyRow:
        key = (regime, year)
        if key not in rows:
            rows[key] = DiscrepancyRow(regime, regime_title(ctx, regime, language), year)
        return rows[key]

    for (regime, year, kind), n in counts.items():
        if kind in KINDS:
            found = row(regime, year)
            found.kinds[kind] = found.kinds.get(kind, 0) + n
    for c in cases:
        found = row(str(c["regime"]), int(c["year"]))
        found.cases[c["status"]] = found.cases.get(c["status"], 0) + int(c["cases"])
    shown = [rows[k] for k in sorted(rows)]
    chart = Chart(
        labels=[f"{r.regime.upper()} {r.year}" for r in shown],
        titles=[f"{r.regime_name} {r.year}" for r in shown],
        series=[
            Series(
                t.gettext(KIND_LABELS[k]),
                KIND_COLOURS[k],
                [float(r.kinds.get(k, 0)) for r in shown],
                "findings",
            )
            for k in KINDS
        ]
        + [
            Series(
                t.gettext("Cases: %(status)s") % {"status": t.gettext(CASE_STATUS_LABELS[s])},
                CASE_COLOURS[s],
                [float(r.cases.get(s, 0)) for r in shown],
                "cases",
            )
            for s in STATUSES
        ],
        axis=t.gettext("Number of transfer pairs or cases"),
    )
    return shown, chart


@dataclass(frozen=True, slots=True)
class FacilityTally:
    key: str
    label: str
    count: int


def facility_tallies(
    points: Sequence[Mapping[str, Any]], ctx: Context, language: str
) -> tuple[list[FacilityTally], list[FacilityTally]]:
    """Declared facilities by regime, and by state, for the table under the map."""
    by_regime = Counter(str(p["regime"]) for p in points)
    by_state = Counter(str(p["state"]) for p in points)
    regimes = [
        FacilityTally(r, regime_title(ctx, r, language), n) for r, n in sorted(by_regime.items())
    ]
    states_ = sorted(
        (FacilityTally(s, state_name(s, language), n) for s, n in by_state.items()),
        key=lambda f: f.label.casefold(),
    )
    return regimes, states_


@dataclass(frozen=True, slots=True)
class ShownFinding:
    kind: str
    regime_name: str
    year: int
    exporter: str
    importer: str
    exporter_code: str
    importer_code: str
    item: str
    unit: str
    exported: str
    imported: str
    difference: str
    threshold: str
    explanation: str
    explanation_language: str
    cases_url: str


def shown_finding(f: TransferFinding, ctx: Context, language: str) -> ShownFinding:
    query = {"check": "reconciliation", "regime": f.regime, "year": f.year, "state": f.exporter}
    return ShownFinding(
        kind=f.kind,
        regime_name=regime_title(ctx, f.regime, language),
        year=f.year,
        exporter=state_name(f.exporter, language),
        importer=state_name(f.importer, language),
        exporter_code=f.exporter,
        importer_code=f.importer,
        item=f.item,
        unit=f.unit,
        exported=number(f.exported),
        imported=number(f.imported),
        difference=number(abs(f.difference)),
        threshold=number(f.threshold),
        explanation=(told := transfer(f.as_json(), language)).explanation,
        explanation_language=told.language,
        cases_url="/cases?" + urlencode(query),
    )


@dataclass
class FindingFilters:
    regime: str = ""
    year: int | None = None
    kind: str = ""

    def pairs(self, **extra: Any) -> list[tuple[str, str]]:
        values = {"regime": self.regime, "year": self.year, "kind": self.kind, **extra}
        return [(k, str(v)) for k, v in values.items() if v not in ("", None)]

    def url(self, base: str = "/analysis", **extra: Any) -> str:
        query = urlencode(self.pairs(**extra))
        return f"{base}?{query}" if query else base

    def kinds(self) -> frozenset[Kind]:
        return frozenset(k for k in KINDS if k == self.kind) or DISCREPANCIES


def transfer_regimes(ctx: Context, language: str) -> list[tuple[str, str]]:
    """The regimes whose packs say how their transfers are reconciled."""
    codes = dict.fromkeys(t.regime for t in reconciled_types(ctx.registry))
    return [(code, regime_title(ctx, code, language)) for code in codes]


def _finding_filters(
    ctx: CtxDep,
    regime: Annotated[str, Query(max_length=40)] = "",
    year: Year = "",
    kind: Annotated[str, Query(max_length=40)] = "",
) -> FindingFilters:
    """The findings' filters; a regime without transfers or an unknown kind is refused."""
    if regime and regime not in {t.regime for t in reconciled_types(ctx.registry)}:
        raise InputError(f"the regime {regime!r} has no transfers to reconcile")
    if kind and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    return FindingFilters(regime, year_of(year), kind)


FindingFiltersDep = Annotated[FindingFilters, Depends(_finding_filters)]


@router.get("/analysis", include_in_schema=False)
def dashboard(
    request: Request,
    ctx: CtxDep,
    actor: WebAnalyst,
    filters: FindingFiltersDep,
    number_: Annotated[int, Query(alias="page", ge=1, le=LAST_PAGE)] = 1,
) -> Response:
    """Three charts with their figures, then the reconciliation's findings, a page at a time."""
    language = lang(request)
    years = reporting_years(ctx)
    shares, statuses, participation_chart = participation_view(
        participation(ctx, actor=actor, years=years), ctx, language
    )
    run = reconcile_transfers(ctx, actor=actor)
    counts = run.counts()
    discrepancies, discrepancy_chart = discrepancy_view(
        counts, case_counts(ctx, actor=actor), ctx, language
    )
    kinds, regime = filters.kinds(), filters.regime or None
    total = int(len(run.selected(kinds=kinds, regime=regime, year=filters.year)))
    pages = max(1, -(-total // PAGE_SIZE))
    if number_ > pages:
        return RedirectResponse(filters.url(page=pages), status_code=303)
    start = (number_ - 1) * PAGE_SIZE
    # Only the page shown becomes Python objects: there may be a great many pairs.
    found = run.findings(
        kinds=kinds, regime=regime, year=filters.year, offset=start, limit=PAGE_SIZE
    )
    points = facility_points(ctx, actor=actor)
    by_regime, by_state = facility_tallies(points, ctx, language)
    return page(
        request,
        "analysis.html",
        {
            "participation": shares,
            "participation_statuses": statuses,
            "participation_chart": participation_chart.as_json(),
            "discrepancies": discrepancies,
            "discrepancy_chart": discrepancy_chart.as_json(),
            "kinds": KINDS,
            "kind_labels": KIND_LABELS,
            "case_statuses": STATUSES,
            "case_status_labels": CASE_STATUS_LABELS,
            "facility_count": len(points),
            "facilities_by_regime": by_regime,
            "facilities_by_state": by_state,
            "findings": [shown_finding(f, ctx, language) for f in found],
            "total": total,
            "first": start + 1,
            "last": min(start + PAGE_SIZE, total),
            "number": number_,
            "pages": pages,
            "previous": filters.url(page=number_ - 1) if number_ > 1 else None,
            "next": filters.url(page=number_ + 1) if number_ < pages else None,
            "filters": filters,
            "regimes": transfer_regimes(ctx, language),
            "years": sorted({y for _, y, _ in counts}, reverse=True),
            "exports": {
                fmt: filters.url(f"/analysis/reconciliation.{fmt}")
                for fmt in ("csv", "xlsx", "pdf")
            },
            "lang_next": filters.url(),
        },
        actor=actor,
    )


@router.get("/analysis/facilities.json", include_in_schema=False)
def facilities(request: Request, ctx: CtxDep, actor: WebAnalyst) -> Response:
    """Declared facilities for the map, with state and regime names in the reader's language."""
    language = lang(request)
    names: dict[str, str] = {}
    regimes: dict[str, str] = {}
    out = []
    for p in facility_points(ctx, actor=actor):
        state, regime = str(p["state"]), str(p["regime"])
        if state not in names:
            names[state] = state_name(state, language)
        if regime not in regimes:
            regimes[regime] = regime_title(ctx, regime, language)
        out.append(
            {
                "id": p["id"],
                "name": p["name"],
                "kind": p["kind"],
                "state": state,
                "state_name": names[state],
                "regime": regime,
                "regime_name": regimes[regime],
                "lat": p["lat"],
                "lon": p["lon"],
            }
        )
    return JSONResponse(out, headers={"cache-control": "private, max-age=60"})


@router.get("/analysis/reconciliation.{fmt}", include_in_schema=False)
def reconciliation_export(
    ctx: CtxDep, actor: WebAnalyst, filters: FindingFiltersDep, fmt: Format
) -> Response:
    """The findings of the table, every page, as CSV, XLSX or PDF."""
    run = reconcile_transfers(ctx, actor=actor, regime=filters.regime or None, year=filters.year)
    found = run.findings(kinds=filters.kinds(), regime=filters.regime or None, year=filters.year)
    name = "-".join(["reconciliation", *(v for _, v in filters.pairs())])
    data = render(fmt, "Transfer reconciliation", FINDING_HEADERS, finding_rows(found))
    return attachment(data, fmt, name)


__all__ = [
    "Chart",
    "Series",
    "discrepancy_view",
    "facility_tallies",
    "participation_view",
    "router",
]
