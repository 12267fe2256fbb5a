"""The states' portal of discrepancy cases: what concerns them, and their answers.

A national authority sees the cases that concern its state, the requests
addressed to it first. Each case shows only the state's own side (its own
figures and declarations, the requests to it and its answers: the queries
redact the rest), a form to answer with an explanation for submitters, and
the way to the declaration to amend when the figure itself was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can
from veritrail.actions import Context
from veritrail.actions.cases import AWAITING, STATUSES, do_answer_clarification
from veritrail.api.deps import CtxDep
from veritrail.queries.cases import CaseDetail, awaiting_answer, case_detail, list_cases
from veritrail.regimes.model import Classification
from veritrail.web.case_views import (
    ACTION_ERRORS,
    FORM_TEXT,
    CaseId,
    Csrf,
    FormState,
    labels,
    number,
    shown_events,
    shown_sources,
)
from veritrail.web.cases import LAST_PAGE, PAGE_SIZE
from veritrail.web.common import N_, client_of, flash, lang, page, regime_title, state_name
from veritrail.web.deps import web_requires
from veritrail.web.finding_text import title, told
from veritrail.web.security import check_csrf

router = APIRouter()

WebCaseReader = Annotated[Actor, Depends(web_requires(Action.CASE_READ))]
WebCaseAnswerer = Annotated[Actor, Depends(web_requires(Action.CASE_ANSWER))]

MAX_AWAITING = 200  # requests listed at the top; more are in the paged list below


@dataclass(frozen=True, slots=True)
class OwnFigure:
    """The reader's own side of a transfer: what it declared, to or from whom."""

    direction: str  # export, import
    partner: str
    declared: str
    unit: str
    item: str


def own_figure(case: CaseDetail, language: str) -> OwnFigure | None:
    finding = case.finding
    if case.check != "reconciliation" or "direction" not in finding:
        return None
    return OwnFigure(
        direction=str(finding.get("direction")),
        partner=state_name(str(finding.get("partner") or ""), language),
        declared=number(finding.get("declared")),
        unit=str(finding.get("unit") or ""),
        item=str(finding.get("item") or case.item or ""),
    )


def amend_links(actor: Actor, case: CaseDetail) -> list[tuple[str, str]]:
    """(declaration id, address) of the reader's own declarations the case rests on."""
    state = case.viewed_as
    if state is None:
        return []
    own = {
        s.declaration_id
        for s in shown_sources(case.finding, "en")
        if s.state == state and s.declaration_id
    }
    target = "/edit" if actor.may_submit_for(state) else ""
    return [(d, f"/declarations/{d}{target}") for d in sorted(own) if d is not None]


def _national(actor: Actor) -> str | None:
    return actor.state if actor.is_national else None


@router.get("/clarifications", include_in_schema=False)
def clarifications(
    request: Request,
    ctx: CtxDep,
    actor: WebCaseReader,
    status: Annotated[str, Query(max_length=40)] = "",
    number_: Annotated[int, Query(alias="page", ge=1, le=LAST_PAGE)] = 1,
) -> Response:
    """The requests awaiting the reader's state, then every case that concerns it."""
    state = _national(actor)
    if state is None:
        return RedirectResponse(f"/cases?status={AWAITING}", status_code=303)
    language = lang(request)
    chosen = status if status in STATUSES else ""
    awaiting = awaiting_answer(ctx, actor=actor, limit=MAX_AWAITING)
    cases, total = list_cases(
        ctx,
        actor=actor,
        status=chosen or None,
        limit=PAGE_SIZE,
        offset=(number_ - 1) * PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))

    def url(n: int) -> str:
        pairs = [("status", chosen)] if chosen else []
        return "/clarifications?" + urlencode([*pairs, ("page", str(n))])

    return page(
        request,
        "clarifications.html",
        {
            **labels(),
            "case_title": partial(title, language=language),
            "state": state,
            "state_label": state_name(state, language),
            "awaiting": awaiting,
            "cases": cases,
            "total": total,
            "status": chosen,
            "statuses": STATUSES,
            "number": number_,
            "pages": pages,
            "previous": url(number_ - 1) if number_ > 1 else None,
            "next": url(number_ + 1) if number_ < pages else None,
            "state_name": lambda code: state_name(code, language),
            "regime_title": lambda code: regime_title(ctx, code, language),
        },
        actor=actor,
    )


def clarification_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    case_id: str,
    *,
    failed: FormState | None = None,
    status_code: int = 200,
) -> Response:
    """One case as the reader's state sees it, with the answer form when it is asked."""
    language = lang(request)
    case = case_detail(ctx, actor=actor, case_id=case_id, client=client_of(request))
    state = case.viewed_as or ""
    level = Classification(case.classification)
    asked = state in case.awaiting
    requests = [e for e in case.events if e.kind == "clarification_requested"]
    return page(
        request,
        "clarifications_detail.html",
        {
            **labels(),
            "case": case,
            "told": told(case, language),
            "state": state,
            "state_label": state_name(state, language),
            "regime_name": regime_title(ctx, case.regime, language),
            "figure": own_figure(case, language),
            "sources": shown_sources(case.finding, language),
            "events": shown_events(case, language),
            "requests": requests,
            "asked": asked,
            "may_answer": asked
            and can(actor, Action.CASE_ANSWER, Resource(owner_state=state, classification=level)),
            "amend": amend_links(actor, case),
            "declarations_url": "/declarations?"
            + urlencode({"regime": case.regime, "period": case.year}),
            "failed": failed or FormState(),
            "form_text": FORM_TEXT,
            "lang_next": f"/clarifications/{case.id}",
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/clarifications/{case_id}", include_in_schema=False)
def clarification(request: Request, case_id: CaseId, ctx: CtxDep, actor: WebCaseReader) -> Response:
    """The state's side of one case; the secretariat reads the whole case instead."""
    if _national(actor) is None:
        return RedirectResponse(f"/cases/{case_id}", status_code=303)
    return clarification_page(request, ctx, actor, case_id)


@router.post("/clarifications/{case_id}/answer", include_in_schema=False)
def answer(
    request: Request,
    case_id: CaseId,
    ctx: CtxDep,
    actor: WebCaseAnswerer,
    explanation: Annotated[str, Form(max_length=FORM_TEXT)] = "",
    csrf: Csrf = "",
) -> Response:
    """The state's explanation in answer to the request to it."""
    check_csrf(request, csrf)
    try:
        do_answer_clarification(ctx, actor=actor, case_id=case_id, explanation=explanation)
    except ACTION_ERRORS as exc:
        failed = FormState("answer", exc.message, {"explanation": explanation})
        return clarification_page(
            request, ctx, actor, case_id, failed=failed, status_code=exc.status
        )
    flash(request, N_("Your answer is sent to the secretariat."))
    return RedirectResponse(f"/clarifications/{case_id}", status_code=303)


__all__ = ["OwnFigure", "amend_links", "own_figure", "router"]
