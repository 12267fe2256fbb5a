"""Discrepancy cases for the secretariat: the list, one case, and the forms that work it.

The list is filtered by GET parameters, so every view of it is a link; its
exports take the same parameters. Each form on a case posts to its own
address and comes back to the case; when the action refuses (a closed case,
an empty message, a state the case does not concern), the case is shown
again with the message next to the form, the form as it was sent, and the
error's status. National authorities read their cases in the portal
(``/clarifications``), which shows only their side of each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can
from veritrail.actions import Context
from veritrail.actions.cases import (
    CLOSURE_REASONS,
    STATUSES,
    do_assign_case,
    do_close_case,
    do_refresh_cases,
    do_reopen_case,
    do_request_clarification,
)
from veritrail.analysis.report import render
from veritrail.analysis.run import CHECKS
from veritrail.api.deps import CtxDep
from veritrail.errors import InputError
from veritrail.queries.analysis import CASE_HEADERS, case_rows
from veritrail.queries.cases import CaseSummary, case_detail, list_cases
from veritrail.reference import states
from veritrail.regimes.model import Classification
from veritrail.web.case_views import (
    ACTION_ERRORS,
    CaseId,
    Csrf,
    Format,
    FormState,
    LongText,
    Year,
    attachment,
    figures,
    labels,
    other_details,
    shown_events,
    shown_sources,
    year_of,
)
from veritrail.web.common import (
    N_,
    client_of,
    flash,
    lang,
    page,
    period_choices,
    regime_title,
    state_name,
)
from veritrail.web.deps import web_requires
from veritrail.web.finding_text import title, told
from veritrail.web.security import check_csrf

router = APIRouter()

WebCaseReader = Annotated[Actor, Depends(web_requires(Action.CASE_READ))]
WebCaseManager = Annotated[Actor, Depends(web_requires(Action.CASE_MANAGE))]

PAGE_SIZE = 25
LAST_PAGE = 10_000
EXPORT_BATCH = 1000
MAX_EXPORT = 100_000


@dataclass
class CaseFilters:
    """The list's filters, as given in the query string (validated where they are used)."""

    status: str = ""
    check: str = ""
    regime: str = ""
    year: int | None = None
    state: str = ""
    assignee: str = ""

    def pairs(self, **extra: Any) -> list[tuple[str, str]]:
        values = {
            "status": self.status,
            "check": self.check,
            "regime": self.regime,
            "year": self.year,
            "state": self.state,
            "assignee": self.assignee,
            **extra,
        }
        return [(k, str(v)) for k, v in values.items() if v not in ("", None)]

    def url(self, base: str = "/cases", **extra: Any) -> str:
        query = urlencode(self.pairs(**extra))
        return f"{base}?{query}" if query else base


def _filters(ctx: Context, filters: CaseFilters) -> tuple[dict[str, Any], str | None]:
    """Arguments for ``list_cases``, or the message saying which filter is wrong."""
    args: dict[str, Any] = {"year": filters.year}
    if filters.status:
        if filters.status not in STATUSES:
            return args, N_("Choose a status from the list.")
        args["status"] = filters.status
    if filters.check:
        if filters.check not in CHECKS:
            return args, N_("Choose a check from the list.")
        args["check"] = filters.check
    if filters.regime:
        if filters.regime not in ctx.registry.packs:
            return args, N_("Choose a regime from the list.")
        args["regime"] = filters.regime
    if filters.state:
        found = states.lookup(filters.state)
        if found is None:
            return args, N_("No state has this name or code; write its name or ISO code.")
        args["state"] = found.alpha3
    if filters.assignee:
        args["assignee"] = filters.assignee
    return args, None


Status = Annotated[str, Query(max_length=40)]
Text = Annotated[str, Query(max_length=100)]


def _case_filters(
    status: Status = "",
    check: Status = "",
    regime: Status = "",
    year: Year = "",
    state: Text = "",
    assignee: Text = "",
) -> CaseFilters:
    return CaseFilters(status, check, regime, year_of(year), state.strip(), assignee.strip())


FiltersDep = Annotated[CaseFilters, Depends(_case_filters)]


def _list_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    filters: CaseFilters,
    number_: int,
    *,
    error: str | None = None,
    chosen: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    language = lang(request)
    args, wrong = _filters(ctx, filters)
    cases: list[CaseSummary] = []
    total = 0
    if wrong is None:
        cases, total = list_cases(
            ctx, actor=actor, limit=PAGE_SIZE, offset=(number_ - 1) * PAGE_SIZE, **args
        )
    pages = max(1, -(-total // PAGE_SIZE))
    if wrong is None and number_ > pages and error is None:
        return RedirectResponse(filters.url(page=pages), status_code=303)
    years = sorted(set(period_choices()) | ({filters.year} if filters.year else set()))
    return page(
        request,
        "cases.html",
        {
            **labels(),
            "case_title": partial(title, language=lang(request)),
            "cases": cases,
            "total": total,
            "filters": filters,
            "filter_error": wrong,
            "error": error,
            "chosen": chosen or {},
            "statuses": STATUSES,
            "checks": CHECKS,
            "regimes": [
                (p.regime.id, p.regime.short_name.get(language))
                for p in ctx.registry.packs.values()
            ],
            "years": list(reversed(years)),
            "state_name": lambda code: state_name(code, language),
            "regime_title": lambda code: regime_title(ctx, code, language),
            "may_manage": can(actor, Action.CASE_MANAGE),
            "number": number_,
            "pages": pages,
            "first": (number_ - 1) * PAGE_SIZE + 1,
            "last": (number_ - 1) * PAGE_SIZE + len(cases),
            "previous": filters.url(page=number_ - 1) if number_ > 1 else None,
            "next": filters.url(page=number_ + 1) if number_ < pages else None,
            "exports": {fmt: filters.url(f"/cases.{fmt}") for fmt in ("csv", "xlsx", "pdf")},
            "lang_next": filters.url(),
        },
        actor=actor,
        status_code=status_code if wrong is None else max(status_code, 400),
    )


@router.get("/cases", include_in_schema=False)
def cases_page(
    request: Request,
    ctx: CtxDep,
    actor: WebCaseReader,
    filters: FiltersDep,
    number_: Annotated[int, Query(alias="page", ge=1, le=LAST_PAGE)] = 1,
) -> Response:
    """The cases, newest change first, filtered; national authorities go to their portal."""
    if actor.is_national:
        return RedirectResponse("/clarifications", status_code=303)
    return _list_page(request, ctx, actor, filters, number_)


def _all_cases(ctx: Context, actor: Actor, args: dict[str, Any]) -> Iterator[CaseSummary]:
    offset = 0
    while offset < MAX_EXPORT:
        batch, total = list_cases(ctx, actor=actor, limit=EXPORT_BATCH, offset=offset, **args)
        yield from batch
        offset += EXPORT_BATCH
        if offset >= total or not batch:
            return


@router.get("/cases.{fmt}", include_in_schema=False)
def cases_export(ctx: CtxDep, actor: WebCaseReader, filters: FiltersDep, fmt: Format) -> Response:
    """The cases matching the filters, every page, as CSV, XLSX or PDF."""
    args, wrong = _filters(ctx, filters)
    if wrong is not None:
        raise InputError(wrong)
    rows = case_rows(list(_all_cases(ctx, actor, args)))
    return attachment(render(fmt, "Discrepancy cases", CASE_HEADERS, rows), fmt, "cases")


@router.post("/cases/refresh", include_in_schema=False)
def refresh(
    request: Request,
    ctx: CtxDep,
    actor: WebCaseManager,
    regime: Annotated[str, Form(max_length=40)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Run every check again and bring the cases up to date; the counts come back as a notice."""
    check_csrf(request, csrf)
    chosen = {"regime": regime, "year": year}
    try:
        summary = do_refresh_cases(ctx, actor=actor, regime=regime or None, year=year_of(year))
    except ACTION_ERRORS as exc:
        return _list_page(
            request,
            ctx,
            actor,
            CaseFilters(),
            1,
            error=exc.message,
            chosen=chosen,
            status_code=exc.status,
        )
    flash(
        request,
        N_(
            "The checks ran: %(opened)s cases opened, %(updated)s updated, %(resolved)s "
            "resolved, %(reopened)s reopened, %(unchanged)s unchanged."
        ),
        opened=summary.opened,
        updated=summary.updated,
        resolved=summary.resolved,
        reopened=summary.reopened,
        unchanged=summary.unchanged,
    )
    return RedirectResponse("/cases", status_code=303)


def case_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    case_id: str,
    *,
    failed: FormState | None = None,
    status_code: int = 200,
) -> Response:
    """One case whole, with the forms the reader may use."""
    language = lang(request)
    case = case_detail(ctx, actor=actor, case_id=case_id, client=client_of(request))
    level = Classification(case.classification)
    return page(
        request,
        "cases_detail.html",
        {
            **labels(),
            "case": case,
            "told": told(case, language),
            "regime_name": regime_title(ctx, case.regime, language),
            "state_labels": {s: state_name(s, language) for s in case.states},
            "figures": figures(case, language),
            "details": other_details(case),
            "sources": shown_sources(case.finding, language),
            "events": shown_events(case, language),
            "may_manage": can(actor, Action.CASE_MANAGE, Resource(classification=level)),
            "closure_reasons": CLOSURE_REASONS,
            "failed": failed or FormState(),
            "lang_next": f"/cases/{case.id}",
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/cases/{case_id}", include_in_schema=False)
def case_view(request: Request, case_id: CaseId, ctx: CtxDep, actor: WebCaseReader) -> Response:
    """The finding with both figures, its sources, its history and the analyst's forms."""
    if actor.is_national:
        return RedirectResponse(f"/clarifications/{case_id}", status_code=303)
    return case_page(request, ctx, actor, case_id)


def _work(
    request: Request,
    ctx: Context,
    actor: Actor,
    case_id: str,
    form: str,
    values: dict[str, Any],
    step: Callable[[], None],
    notice: str,
    **params: Any,
) -> Response:
    """Run one action on a case; back to the case with a notice, or with the form and why."""
    try:
        step()
    except ACTION_ERRORS as exc:
        failed = FormState(form, exc.message, values)
        return case_page(request, ctx, actor, case_id, failed=failed, status_code=exc.status)
    flash(request, notice, **params)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/assign", include_in_schema=False)
def assign(
    request: Request,
    case_id: CaseId,
    ctx: CtxDep,
    actor: WebCaseManager,
    assignee: Annotated[str, Form(max_length=200)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    who = assignee.strip() or None
    return _work(
        request,
        ctx,
        actor,
        case_id,
        "assign",
        {"assignee": assignee},
        lambda: do_assign_case(ctx, actor=actor, case_id=case_id, assignee=who),
        N_("The case is assigned to %(assignee)s.") if who else N_("The case is unassigned."),
        assignee=who or "",
    )


@router.post("/cases/{case_id}/request", include_in_schema=False)
def request_clarification(
    request: Request,
    case_id: CaseId,
    ctx: CtxDep,
    actor: WebCaseManager,
    states_: Annotated[list[str] | None, Form(alias="states")] = None,
    message: LongText = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    chosen = [s for s in states_ or [] if s.strip()][:20]

    def step() -> None:
        if not chosen:
            raise InputError(N_("Choose at least one state to ask."))
        do_request_clarification(ctx, actor=actor, case_id=case_id, states=chosen, message=message)

    return _work(
        request,
        ctx,
        actor,
        case_id,
        "request",
        {"states": chosen, "message": message},
        step,
        N_("Clarification requested from %(states)s."),
        states=", ".join(chosen),
    )


@router.post("/cases/{case_id}/close", include_in_schema=False)
def close(
    request: Request,
    case_id: CaseId,
    ctx: CtxDep,
    actor: WebCaseManager,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: LongText = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)

    def step() -> None:
        if not reason:
            raise InputError(N_("Choose why the case is closed."))
        do_close_case(ctx, actor=actor, case_id=case_id, reason=reason, note=note or None)

    return _work(
        request,
        ctx,
        actor,
        case_id,
        "close",
        {"reason": reason, "note": note},
        step,
        N_("The case is closed."),
    )


@router.post("/cases/{case_id}/reopen", include_in_schema=False)
def reopen(
    request: Request,
    case_id: CaseId,
    ctx: CtxDep,
    actor: WebCaseManager,
    note: LongText = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    return _work(
        request,
        ctx,
        actor,
        case_id,
        "reopen",
        {"note": note},
        lambda: do_reopen_case(ctx, actor=actor, case_id=case_id, note=note),
        N_("The case is open again."),
    )


__all__ = [
    "LAST_PAGE",
    "PAGE_SIZE",
    "CaseFilters",
    "case_page",
    "router",
]
