"""API routes of declaration analysis: reconciliation, checks, transfer imports and cases."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions.cases import (
    CLOSURE_REASONS,
    do_answer_clarification,
    do_assign_case,
    do_close_case,
    do_refresh_cases,
    do_reopen_case,
    do_request_clarification,
)
from veritrail.actions.transfers import do_import_transfers
from veritrail.analysis.reconcile import DISCREPANCIES, KINDS, Kind
from veritrail.analysis.run import CHECKS
from veritrail.api.deps import CtxDep, client_of
from veritrail.api.permissions import requires
from veritrail.api.uploads import read_file
from veritrail.errors import InputError
from veritrail.queries.analysis import reconcile_transfers, run_all_checks
from veritrail.queries.cases import CaseDetail, CaseSummary, case_detail, list_cases

router = APIRouter(tags=["analysis and cases"])

Analyst = Annotated[Actor, Depends(requires(Action.ANALYSIS_READ))]
Importer = Annotated[Actor, Depends(requires(Action.TRANSFERS_IMPORT))]
CaseReader = Annotated[Actor, Depends(requires(Action.CASE_READ))]
CaseManager = Annotated[Actor, Depends(requires(Action.CASE_MANAGE))]
CaseAnswerer = Annotated[Actor, Depends(requires(Action.CASE_ANSWER))]
CasePath = Annotated[str, Path(max_length=40, pattern=r"^c-[0-9a-f]{10}$")]
RegimeQuery = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9_]+$")]
YearQuery = Annotated[int | None, Query(ge=1900, le=2200)]
Message = Annotated[str, Field(max_length=5000)]


class PairCount(BaseModel):
    regime: str
    year: int
    kind: str
    pairs: int


class ReconciliationAnswer(BaseModel):
    lines: int
    pairs: int
    counts: list[PairCount]
    total: int = Field(description="Pairs of the kinds asked for; `findings` is a page of them.")
    offset: int
    findings: list[dict[str, Any]] = Field(
        description="Each pair shown: kind, regime, year, exporter and importer (ISO 3166-1 "
        "alpha-3), item, unit, both quantities normalised, difference, threshold, "
        "explanation and the declaration versions (or imported rows) on each side."
    )


@router.get("/analysis/reconciliation", response_model=ReconciliationAnswer)
def reconciliation(
    ctx: CtxDep,
    actor: Analyst,
    regime: RegimeQuery = None,
    year: YearQuery = None,
    include_matched: Annotated[
        bool, Query(description="Also list matched pairs and those below the threshold.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> ReconciliationAnswer:
    """Exporters' declared transfers matched with importers', within what you may read."""
    result = reconcile_transfers(ctx, actor=actor, regime=regime, year=year)
    kinds: frozenset[Kind] = frozenset(KINDS) if include_matched else DISCREPANCIES
    return ReconciliationAnswer(
        lines=len(result.lines),
        pairs=int(len(result.pairs.kind)),
        counts=[
            PairCount(regime=r, year=y, kind=k, pairs=n)
            for (r, y, k), n in sorted(result.counts().items())
        ],
        total=int(len(result.selected(kinds=kinds))),
        offset=offset,
        findings=[f.as_json() for f in result.findings(kinds=kinds, offset=offset, limit=limit)],
    )


class ChecksAnswer(BaseModel):
    findings: list[dict[str, Any]]


@router.get("/analysis/checks", response_model=ChecksAnswer)
def checks(
    ctx: CtxDep,
    actor: Analyst,
    regime: RegimeQuery = None,
    year: YearQuery = None,
    check: Annotated[list[str] | None, Query(max_length=len(CHECKS))] = None,
) -> ChecksAnswer:
    """Findings of reconciliation, year-over-year anomalies, facilities and cross-regime checks."""
    chosen = tuple(c for c in CHECKS if not check or c in check)
    unknown = sorted(set(check or []) - set(CHECKS))
    if unknown:
        raise InputError(f"unknown check {unknown[0]!r}; choose from {', '.join(CHECKS)}")
    run = run_all_checks(ctx, actor=actor, regime=regime, year=year, checks=chosen)
    return ChecksAnswer(findings=[f.as_json() for f in run.findings])


class TransferImportAnswer(BaseModel):
    id: str
    filename: str
    sha256: str
    rows: int
    by_regime: dict[str, int]
    already_imported: bool


@router.post(
    "/transfers/imports",
    response_model=TransferImportAnswer,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "CSV with the columns regime,year,reporting_state,partner_state,"
            "direction,item,quantity,unit (raw text/csv body, or multipart field `file`).",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_transfers(request: Request, ctx: CtxDep, actor: Importer) -> TransferImportAnswer:
    """Load transfer lines from another system; one bad row refuses the file, every row listed."""
    data, filename = await read_file(request, "CSV file", "transfers.csv")
    result = do_import_transfers(ctx, actor=actor, data=data, filename=filename)
    return TransferImportAnswer(**result.as_json())


class CaseList(BaseModel):
    total: int
    cases: list[CaseSummary]


@router.get("/cases", response_model=CaseList)
def cases(
    ctx: CtxDep,
    actor: CaseReader,
    status: Annotated[str | None, Query(max_length=24)] = None,
    check: Annotated[str | None, Query(max_length=32)] = None,
    regime: RegimeQuery = None,
    year: YearQuery = None,
    state: Annotated[str | None, Query(max_length=3, pattern=r"^[A-Z]{3}$")] = None,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CaseList:
    """Discrepancy cases you may see: all of them, or those concerning your state."""
    found, total = list_cases(
        ctx,
        actor=actor,
        status=status,
        check=check,
        regime=regime,
        year=year,
        state=state,
        assignee=assignee,
        limit=limit,
        offset=offset,
    )
    return CaseList(total=total, cases=found)


@router.get("/cases/{case_id}", response_model=CaseDetail)
def case(request: Request, ctx: CtxDep, actor: CaseReader, case_id: CasePath) -> CaseDetail:
    """A case with its history (for a state: its own figures and the requests to it)."""
    return case_detail(ctx, actor=actor, case_id=case_id, client=client_of(request))


class RefreshAnswer(BaseModel):
    opened: int
    updated: int
    resolved: int
    reopened: int
    unchanged: int


@router.post("/cases/refresh", response_model=RefreshAnswer)
def refresh(ctx: CtxDep, actor: CaseManager) -> RefreshAnswer:
    """Run the checks and open, update, reopen or resolve cases to match."""
    return RefreshAnswer(**do_refresh_cases(ctx, actor=actor).as_json())


class Assignment(BaseModel):
    assignee: Annotated[str | None, Field(max_length=100)] = None


class ClarificationRequest(BaseModel):
    states: Annotated[list[str], Field(max_length=10)] = Field(
        default_factory=list, description="States to ask; all those the case concerns if empty."
    )
    message: Message


class Answer(BaseModel):
    explanation: Message


class Closure(BaseModel):
    reason: Literal["explained", "corrected", "not_a_discrepancy", "duplicate", "other"] = Field(
        description=f"One of {', '.join(CLOSURE_REASONS)}."
    )
    note: Annotated[str | None, Field(max_length=5000)] = None


class Reopening(BaseModel):
    note: Message


def _detail(ctx: CtxDep, actor: Actor, case_id: str) -> CaseDetail:
    return case_detail(ctx, actor=actor, case_id=case_id)


@router.put("/cases/{case_id}/assignee", response_model=CaseDetail)
def assign(ctx: CtxDep, actor: CaseManager, case_id: CasePath, body: Assignment) -> CaseDetail:
    """Give the case to an analyst, or take it back (null)."""
    do_assign_case(ctx, actor=actor, case_id=case_id, assignee=body.assignee)
    return _detail(ctx, actor, case_id)


@router.post("/cases/{case_id}/clarification-requests", response_model=CaseDetail)
def ask(
    ctx: CtxDep, actor: CaseManager, case_id: CasePath, body: ClarificationRequest
) -> CaseDetail:
    """Ask the states concerned to clarify; they see the request in their portal."""
    do_request_clarification(
        ctx, actor=actor, case_id=case_id, states=body.states, message=body.message
    )
    return _detail(ctx, actor, case_id)


@router.post("/cases/{case_id}/answers", response_model=CaseDetail)
def answer(ctx: CtxDep, actor: CaseAnswerer, case_id: CasePath, body: Answer) -> CaseDetail:
    """Your state's explanation in answer to a request (or amend the declaration instead)."""
    do_answer_clarification(ctx, actor=actor, case_id=case_id, explanation=body.explanation)
    return _detail(ctx, actor, case_id)


@router.post("/cases/{case_id}/closure", response_model=CaseDetail)
def close(ctx: CtxDep, actor: CaseManager, case_id: CasePath, body: Closure) -> CaseDetail:
    """Close the case with a reason."""
    do_close_case(ctx, actor=actor, case_id=case_id, reason=body.reason, note=body.note)
    return _detail(ctx, actor, case_id)


@router.post("/cases/{case_id}/reopening", response_model=CaseDetail)
def reopen(ctx: CtxDep, actor: CaseManager, case_id: CasePath, body: Reopening) -> CaseDetail:
    """Reopen a closed case, saying why."""
    do_reopen_case(ctx, actor=actor, case_id=case_id, note=body.note)
    return _detail(ctx, actor, case_id)


__all__ = ["router"]
