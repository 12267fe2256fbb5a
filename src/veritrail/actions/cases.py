"""Discrepancy cases: opened and re-evaluated by the checks, worked by analysts and states.

A case moves between four statuses:

- ``open``: found by a check, not yet put to the states concerned;
- ``awaiting_state``: a clarification request went to one or more states;
- ``answered``: every state asked has answered, with an explanation or an amendment;
- ``closed``: with a reason (``resolved_by_amendment`` when a re-run of the checks
  no longer finds it; the others chosen by an analyst).

Every step is one transaction that writes the case, a history event and the
audit row that commits the step to the transparency log.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veritrail.access import Actor, Role
from veritrail.access.policy import Action, Resource, can, require
from veritrail.actions import audit, ledger
from veritrail.analysis.findings import Check, Finding
from veritrail.analysis.run import CHECKS, Scope, run_checks
from veritrail.errors import Conflict, InputError, NotFound
from veritrail.reference import states as state_table
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import Classification
from veritrail.store.context import Context
from veritrail.store.models import Case, CaseEvent, CaseState, Declaration, User

OPEN, AWAITING, ANSWERED, CLOSED = "open", "awaiting_state", "answered", "closed"
STATUSES = (OPEN, AWAITING, ANSWERED, CLOSED)
RESOLVED = "resolved_by_amendment"
# Reasons an analyst gives for closing; RESOLVED is the checks' own.
CLOSURE_REASONS = ("explained", "corrected", "not_a_discrepancy", "duplicate", "other")
MAX_MESSAGE = 5000


@dataclass
class RefreshSummary:
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    reopened: int = 0
    unchanged: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "updated": self.updated,
            "resolved": self.resolved,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
        }


def new_case_id() -> str:
    return f"c-{secrets.token_hex(5)}"


def _step(
    session: Session,
    case: Case,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    state: str | None = None,
    message: str | None = None,
    **details: Any,
) -> None:
    """One history event, logged; the case's version counts them."""
    if kind != "opened":
        case.version += 1
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.username,
            kind=kind,
            state=state,
            message=message,
            details=details,
            version=case.version,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"case.{kind}",
        record_type="case",
        record_id=case.id,
        version=case.version,
        status=case.status,
        state=state,
        message=message,
        **details,
    )


def _classification(
    session: Session, finding: Finding, registry: Registry
) -> tuple[Classification, str | None]:
    """The highest classification of what the finding rests on, and its need-to-know group."""
    ids = [s.declaration_id for s in finding.sources if s.declaration_id]
    rows = session.execute(
        select(Declaration.classification, Declaration.group_id).where(Declaration.id.in_(ids))
    ).all()
    levels = [(Classification(level), group) for level, group in rows]
    if any(s.import_id for s in finding.sources) or not levels:
        levels += [
            (t.classification, None)
            for t in registry.regime(finding.regime).types.values()
            if t.reconciliation is not None
        ]
    level, group = max(levels or [(Classification.RESTRICTED, None)], key=lambda c: c[0].rank)
    return level, group if level is Classification.HIGHLY_PROTECTED else None


def _versions(finding: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{state: {declaration id: version}} of a stored finding's sources."""
    out: dict[str, dict[str, int]] = {}
    for source in finding.get("sources", []):
        if source.get("declaration_id"):
            out.setdefault(source["state"], {})[source["declaration_id"]] = int(source["version"])
    return out


def _open(
    session: Session,
    actor: Actor,
    finding: Finding,
    placed: tuple[Classification, str | None],
    now: datetime,
) -> Case:
    level, group = placed
    case = Case(
        id=new_case_id(),
        fingerprint=finding.fingerprint,
        check=finding.check,
        kind=finding.kind,
        regime=finding.regime,
        year=finding.year,
        states=list(finding.states),
        item=finding.item,
        title=finding.title[:500],
        explanation=finding.explanation,
        finding=finding.as_json(),
        status=OPEN,
        classification=level.value,
        group_id=group,
        awaiting=[],
        version=1,
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    for state in dict.fromkeys(finding.states):
        session.add(CaseState(case_id=case.id, state=state))
    session.flush()
    _step(session, case, actor, "opened", now, kind_found=finding.kind, title=case.title)
    return case


def _revise(session: Session, case: Case, actor: Actor, finding: Finding, now: datetime) -> bool:
    """Bring an existing case up to a new run's finding; whether anything changed."""
    fresh = finding.as_json()
    if fresh == case.finding:
        return False
    before = _versions(case.finding)
    after = _versions(fresh)
    case.kind, case.title, case.explanation = finding.kind, finding.title[:500], finding.explanation
    case.finding = fresh
    amended = [s for s in case.awaiting if after.get(s) and after.get(s) != before.get(s)]
    _step(session, case, actor, "re_evaluated", now, kind_found=finding.kind)
    for state in amended:
        _answered(
            session,
            case,
            actor,
            state,
            now,
            kind="answered_by_amendment",
            declarations=after[state],
        )
    return True


def _answered(
    session: Session,
    case: Case,
    actor: Actor,
    state: str,
    now: datetime,
    *,
    kind: str,
    message: str | None = None,
    **details: Any,
) -> None:
    case.awaiting = [s for s in case.awaiting if s != state]
    if not case.awaiting and case.status == AWAITING:
        case.status = ANSWERED
    _step(session, case, actor, kind, now, state=state, message=message, **details)


def _close(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    reason: str,
    note: str | None,
    kind: str = "closed",
) -> None:
    case.status, case.closure_reason, case.closure_note = CLOSED, reason, note
    case.closed_at = now
    case.awaiting = []
    _step(session, case, actor, kind, now, message=note, reason=reason)


def _in_scope(case: Case, scope: Scope) -> bool:
    return (case.check, case.regime, case.year) in scope


def apply_findings(
    session: Session,
    registry: Registry,
    *,
    actor: Actor,
    findings: Iterable[Finding],
    scope: Scope,
    now: datetime,
) -> RefreshSummary:
    """Open, revise, reopen and resolve cases so that they match one run's findings."""
    summary = RefreshSummary()
    found = {f.fingerprint: f for f in findings}
    regimes = sorted({s[1] for s in scope} | {f.regime for f in found.values()})
    years = sorted({s[2] for s in scope} | {f.year for f in found.values()})
    existing = {
        c.fingerprint: c
        for c in session.scalars(select(Case).where(Case.regime.in_(regimes), Case.year.in_(years)))
    }
    for fingerprint, finding in found.items():
        case = existing.get(fingerprint)
        if case is None:
            _open(session, actor, finding, _classification(session, finding, registry), now)
            summary.opened += 1
        elif case.status == CLOSED and case.closure_reason == RESOLVED:
            case.status, case.closure_reason, case.closed_at = OPEN, None, None
            _revise(session, case, actor, finding, now)
            _step(session, case, actor, "reopened", now, message="found again by the checks")
            summary.reopened += 1
        elif case.status != CLOSED and _revise(session, case, actor, finding, now):
            summary.updated += 1
        else:
            summary.unchanged += 1
    for fingerprint, case in existing.items():
        if fingerprint in found or case.status == CLOSED or not _in_scope(case, scope):
            continue
        _close(
            session,
            case,
            actor,
            now,
            RESOLVED,
            "no longer found when the checks ran again on the current declarations",
            kind="resolved",
        )
        summary.resolved += 1
    return summary


def _apply(
    ctx: Context, actor: Actor, findings: list[Finding], scope: Scope, now: datetime
) -> RefreshSummary:
    with ctx.sessions() as session, session.begin():
        return apply_findings(
            session, ctx.registry, actor=actor, findings=findings, scope=scope, now=now
        )


def do_refresh_cases(
    ctx: Context,
    *,
    actor: Actor,
    regime: str | None = None,
    year: int | None = None,
    checks: Sequence[Check] = CHECKS,
    now: datetime | None = None,
) -> RefreshSummary:
    """Run the checks and bring the cases in their scope up to date, in one transaction."""
    require(actor, Action.CASE_MANAGE)
    if regime is not None:
        ctx.registry.regime(regime)
    now = now or datetime.now(UTC)
    # The checks read every declaration whoever asks for the refresh: cases are
    # the secretariat's shared record, and one analyst's narrower view must not
    # resolve the cases others can see. They read outside the write transaction,
    # so that the database is only locked (SQLite) while the cases are written.
    with ctx.sessions() as session:
        run = run_checks(
            session,
            ctx.registry,
            regime=regime,
            year=year,
            checks=checks,
        )
    try:
        summary = _apply(ctx, actor, run.findings, run.scope, now)
    except IntegrityError:
        # Another refresh opened one of these cases at the same moment: apply again.
        summary = _apply(ctx, actor, run.findings, run.scope, now)
    ledger.integrate(ctx)
    return summary


def _case_for_update(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"no case with id {case_id!r}")
    return case


def _message(text: str | None, what: str, *, required: bool = True) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InputError(f"write the {what}; it cannot be empty")
        return None
    if len(text) > MAX_MESSAGE:
        raise InputError(
            f"the {what} is {len(text):,} characters; at most {MAX_MESSAGE:,} are accepted"
        )
    return text


def case_resource(case: Case, owner_state: str | None = None) -> Resource:
    return Resource(
        owner_state=owner_state,
        classification=Classification(case.classification),
        group_id=case.group_id,
    )


def _manage(actor: Actor, case: Case) -> None:
    require(actor, Action.CASE_MANAGE, case_resource(case), groups=actor.groups)


def do_assign_case(ctx: Context, *, actor: Actor, case_id: str, assignee: str | None) -> None:
    """Give the case to an analyst (``None`` leaves it unassigned)."""
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        case = _case_for_update(session, case_id)
        _manage(actor, case)
        if assignee is not None:
            user = session.scalars(select(User).where(User.username == assignee)).first()
            if user is None or not user.active:
                raise NotFound(f"no active account {assignee!r}")
            holder = Actor(username=user.username, role=Role(user.role))
            if not can(holder, Action.CASE_MANAGE):
                raise InputError(
                    f"{assignee} ({user.role}) may not work on cases; choose an analyst"
                )
        if case.assignee == assignee:
            return
        case.assignee = assignee
        _step(session, case, actor, "assigned", now, assignee=assignee)
    ledger.integrate(ctx)


def do_request_clarification(
    ctx: Context, *, actor: Actor, case_id: str, states: Sequence[str], message: str
) -> None:
    """Ask the states concerned to explain; they see the request in their portal."""
    text = _message(message, "request")
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        case = _case_for_update(session, case_id)
        _manage(actor, case)
        if case.status == CLOSED:
            raise Conflict(f"case {case.id} is closed; reopen it before asking the states")
        asked: list[str] = []
        for value in states or case.states:
            found = state_table.lookup(value)
            if found is None or found.alpha3 not in case.states:
                raise InputError(
                    f"{value!r} is not a state this case concerns; "
                    f"it concerns {', '.join(case.states)}"
                )
            asked.append(found.alpha3)
        case.status = AWAITING
        case.awaiting = sorted(set(case.awaiting) | set(asked))
        for state in sorted(set(asked)):
            _step(session, case, actor, "clarification_requested", now, state=state, message=text)
    ledger.integrate(ctx)


def do_answer_clarification(ctx: Context, *, actor: Actor, case_id: str, explanation: str) -> None:
    """A state's explanation in answer to a request to it."""
    text = _message(explanation, "explanation")
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        case = _case_for_update(session, case_id)
        state = actor.state
        if state is None or state not in case.states:
            raise NotFound(f"no case with id {case_id!r}")
        require(actor, Action.CASE_ANSWER, case_resource(case, state), groups=actor.groups)
        if state not in case.awaiting:
            raise Conflict(f"case {case.id} has no open request to {state}; nothing to answer")
        _answered(session, case, actor, state, now, kind="explained", message=text)
    ledger.integrate(ctx)


def do_close_case(
    ctx: Context, *, actor: Actor, case_id: str, reason: str, note: str | None = None
) -> None:
    if reason not in CLOSURE_REASONS:
        raise InputError(
            f"unknown closure reason {reason!r}; choose one of {', '.join(CLOSURE_REASONS)}"
        )
    text = _message(note, "note", required=reason == "other")
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        case = _case_for_update(session, case_id)
        _manage(actor, case)
        if case.status == CLOSED:
            raise Conflict(f"case {case.id} is already closed")
        _close(session, case, actor, now, reason, text)
    ledger.integrate(ctx)


def do_reopen_case(ctx: Context, *, actor: Actor, case_id: str, note: str) -> None:
    text = _message(note, "note")
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        case = _case_for_update(session, case_id)
        _manage(actor, case)
        if case.status != CLOSED:
            raise Conflict(f"case {case.id} is not closed")
        case.status, case.closure_reason, case.closure_note, case.closed_at = OPEN, None, None, None
        _step(session, case, actor, "reopened", now, message=text)
    ledger.integrate(ctx)


__all__ = [
    "ANSWERED",
    "AWAITING",
    "CLOSED",
    "CLOSURE_REASONS",
    "OPEN",
    "RESOLVED",
    "STATUSES",
    "RefreshSummary",
    "apply_findings",
    "do_answer_clarification",
    "do_assign_case",
    "do_close_case",
    "do_refresh_cases",
    "do_reopen_case",
    "do_request_clarification",
]
