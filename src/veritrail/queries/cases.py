"""Reads of discrepancy cases, for the secretariat and for the states concerned.

The secretariat sees a case whole. A state sees only the cases that concern
it, and of each only what is its own: its own figures, the requests addressed
to it and its own answers. The other state's figures and the analysts' work
(assignment, re-evaluation) stay with the secretariat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select

from veritrail.access import Actor, Role
from veritrail.access.policy import Action, Resource, decide, readable_classifications
from veritrail.analysis.reconcile import figure
from veritrail.errors import Forbidden, NotFound
from veritrail.regimes.model import Classification
from veritrail.store.access_log import record_access
from veritrail.store.context import Context
from veritrail.store.models import Case, CaseEvent, CaseState

# Events a state sees on its own cases (those naming it, or closing the case).
STATE_EVENTS = frozenset(
    {"clarification_requested", "explained", "answered_by_amendment", "closed", "resolved"}
)


class CaseEventView(BaseModel):
    at: datetime
    actor: str
    kind: str
    state: str | None
    message: str | None
    details: dict[str, Any]
    version: int


class CaseSummary(BaseModel):
    id: str
    check: str
    kind: str
    regime: str
    year: int
    states: list[str]
    item: str | None
    title: str
    status: str
    classification: str
    assignee: str | None
    awaiting: list[str]
    closure_reason: str | None
    opened_at: datetime
    updated_at: datetime


class CaseDetail(CaseSummary):
    explanation: str
    finding: dict[str, Any]
    closure_note: str | None
    closed_at: datetime | None
    version: int
    events: list[CaseEventView]
    # Filled in the national view: the state the reader speaks for.
    viewed_as: str | None = None


def _visible(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions for the cases the actor may read, as :func:`decide` would answer.

    The secretariat reads cases up to its ceiling, highly protected ones only in
    its need-to-know groups; a national authority reads its own state's cases.
    """
    hp = Classification.HIGHLY_PROTECTED.value
    other = readable_classifications(actor, Action.CASE_READ, own=False)
    if other:
        if actor.role is Role.OPERATOR:
            return []
        branches: list[ColumnElement[bool]] = [
            Case.classification.in_([c for c in other if c != hp])
        ]
        if hp in other and actor.groups:
            branches.append(
                and_(Case.classification == hp, Case.group_id.in_(sorted(actor.groups)))
            )
        return [or_(*branches)]
    own = readable_classifications(actor, Action.CASE_READ, own=True)
    if actor.state is None or not own:
        return [false()]
    return [
        Case.classification.in_(own),
        exists().where(CaseState.case_id == Case.id, CaseState.state == actor.state),
    ]


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "check": case.check,
        "kind": case.kind,
        "regime": case.regime,
        "year": case.year,
        "states": list(case.states),
        "item": case.item,
        "title": case.title,
        "status": case.status,
        "classification": case.classification,
        "assignee": case.assignee,
        "awaiting": list(case.awaiting),
        "closure_reason": case.closure_reason,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
    }


def list_cases(
    ctx: Context,
    *,
    actor: Actor,
    status: str | None = None,
    check: str | None = None,
    regime: str | None = None,
    year: int | None = None,
    state: str | None = None,
    assignee: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[CaseSummary], int]:
    """A page of the cases ``actor`` may read, newest change first, and the total."""
    if not decide(actor, Action.CASE_READ).allowed:
        raise Forbidden(f"the role {actor.role.value} may not read cases")
    query = select(Case).where(*_visible(actor))
    if status:
        query = query.where(Case.status == status)
    if check:
        query = query.where(Case.check == check)
    if regime:
        query = query.where(Case.regime == regime)
    if year is not None:
        query = query.where(Case.year == year)
    if state:
        query = query.where(exists().where(CaseState.case_id == Case.id, CaseState.state == state))
    if assignee:
        query = query.where(Case.assignee == assignee)
    with ctx.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Case.updated_at.desc(), Case.id).limit(limit).offset(offset)
        ).all()
        found = [CaseSummary(**_summary(c)) for c in rows]
    if actor.is_national:  # who works on a case is the secretariat's business
        found = [c.model_copy(update={"assignee": None}) for c in found]
    return found, total


def awaiting_answer(ctx: Context, *, actor: Actor, limit: int = 200) -> list[CaseSummary]:
    """Cases with a clarification request to the actor's own state still unanswered."""
    if actor.state is None:
        return []
    waiting, _ = list_cases(ctx, actor=actor, status="awaiting_state", limit=limit)
    return [c for c in waiting if actor.state in c.awaiting]


def _own_side(finding: dict[str, Any], state: str) -> dict[str, Any]:
    """What of a finding a state sees: its own figure and its own declarations."""
    details = finding.get("details") or {}
    own: dict[str, Any] = {
        "regime": finding.get("regime"),
        "year": finding.get("year"),
        "item": finding.get("item"),
        "sources": [s for s in finding.get("sources", []) if s.get("state") == state],
    }
    if finding.get("check") == "reconciliation":
        exporter = details.get("exporter")
        own["direction"] = "export" if exporter == state else "import"
        own["partner"] = details.get("importer") if exporter == state else exporter
        own["declared"] = details.get("exported") if exporter == state else details.get("imported")
        own["unit"] = details.get("unit")
    return own


def _national_explanation(case: Case, own: dict[str, Any]) -> str:
    if case.check != "reconciliation":
        return case.explanation
    declared = own.get("declared")
    unit = own.get("unit") or ""
    verb = "exporting to" if own.get("direction") == "export" else "importing from"
    mine = (
        f"Your declaration for {case.year} shows {verb} {own.get('partner')} "
        f"{figure(declared, unit)} of {case.item}"
        if declared is not None
        else f"Your declarations for {case.year} show no transfer of {case.item} "
        f"{'to' if own.get('direction') == 'export' else 'from'} {own.get('partner')}"
    )
    return f"{mine}; the partner state's declaration does not agree with it."


def case_detail(
    ctx: Context,
    *,
    actor: Actor,
    case_id: str,
    client: str | None = None,
) -> CaseDetail:
    """One case with its history; the access log records reads of protected cases."""
    with ctx.sessions() as session, session.begin():
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case with id {case_id!r}")
        national = actor.is_national
        owner = actor.state if national and actor.state in case.states else None
        decision = decide(
            actor,
            Action.CASE_READ,
            Resource(
                owner_state=owner,
                classification=Classification(case.classification),
                group_id=case.group_id,
            ),
            groups=actor.groups,
        )
        if not decision.allowed:
            raise NotFound(f"no case with id {case_id!r}")
        if decision.logged:
            record_access(
                session,
                actor=actor.username,
                action=Action.CASE_READ.value,
                record_type="case",
                record_id=case.id,
                classification=case.classification,
                version=case.version,
                client=client,
            )
        events = [
            CaseEventView(
                at=e.at,
                actor=e.actor,
                kind=e.kind,
                state=e.state,
                message=e.message,
                details=e.details,
                version=e.version,
            )
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ]
        detail = CaseDetail(
            **_summary(case),
            explanation=case.explanation,
            finding=case.finding,
            closure_note=case.closure_note,
            closed_at=case.closed_at,
            version=case.version,
            events=events,
        )
        if owner is None:
            return detail
        own = _own_side(case.finding, owner)
        return detail.model_copy(
            update={
                "assignee": None,
                "finding": own,
                "explanation": _national_explanation(case, own),
                "events": [
                    e for e in events if e.kind in STATE_EVENTS and (e.state in (None, owner))
                ],
                "viewed_as": owner,
            }
        )


def case_counts(ctx: Context, *, actor: Actor) -> list[dict[str, Any]]:
    """Cases per regime, year and status, for the dashboard."""
    query = (
        select(Case.regime, Case.year, Case.status, func.count())
        .where(*_visible(actor))
        .group_by(Case.regime, Case.year, Case.status)
    )
    with ctx.sessions() as session:
        return [
            {"regime": r, "year": y, "status": s, "cases": n}
            for r, y, s, n in session.execute(query)
        ]


__all__ = [
    "STATE_EVENTS",
    "CaseDetail",
    "CaseEventView",
    "CaseSummary",
    "awaiting_answer",
    "case_counts",
    "case_detail",
    "list_cases",
]
