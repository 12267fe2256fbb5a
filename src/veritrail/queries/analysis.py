"""Reads for analysts: reconciliation, the other checks, participation and the facility map.

Every analysis reads only the declarations its reader may read (the same
policy as the declaration list), so two analysts with different need-to-know
groups can get different answers, each complete for what they may see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.analysis.findings import Check
from veritrail.analysis.reconcile import Reconciliation, TransferFinding
from veritrail.analysis.run import CHECKS, CheckRun, reconciliation, run_checks
from veritrail.analysis.transfers import rule_for
from veritrail.declarations.visibility import visible_clause
from veritrail.queries.cases import CaseSummary
from veritrail.queries.declarations import status_table
from veritrail.store.context import Context
from veritrail.store.models import Declaration, Facility


def _scope(ctx: Context, regime: str | None) -> None:
    if regime is not None:
        ctx.registry.regime(regime)


def reconcile_transfers(
    ctx: Context, *, actor: Actor, regime: str | None = None, year: int | None = None
) -> Reconciliation:
    """Every transfer pair of ``regime`` (or all regimes with transfers) and ``year``."""
    require(actor, Action.ANALYSIS_READ)
    if regime is not None:
        rule_for(ctx.registry, regime)  # says which regimes have transfers
    with ctx.sessions() as session:
        return reconciliation(
            session, ctx.registry, where=visible_clause(actor), regime=regime, year=year
        )


def run_all_checks(
    ctx: Context,
    *,
    actor: Actor,
    regime: str | None = None,
    year: int | None = None,
    checks: Sequence[Check] = CHECKS,
) -> CheckRun:
    require(actor, Action.ANALYSIS_READ)
    _scope(ctx, regime)
    with ctx.sessions() as session:
        return run_checks(
            session,
            ctx.registry,
            where=visible_clause(actor),
            regime=regime,
            year=year,
            checks=checks,
        )


def reporting_years(ctx: Context, *, last: int = 5) -> list[int]:
    """The latest ``last`` years anyone reported on, oldest first."""
    with ctx.sessions() as session:
        years = sorted(session.scalars(select(Declaration.period).distinct()).all())
    return years[-last:]


def participation(
    ctx: Context, *, actor: Actor, years: Sequence[int], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per regime and year: how many parties reported on time, late, or not at all."""
    require(actor, Action.ANALYSIS_READ)
    now = now or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for year in years:
        tally: Counter[tuple[str, str]] = Counter()
        parties: Counter[str] = Counter()
        for cell in status_table(ctx, actor=actor, period=year, now=now):
            tally[(cell.regime, cell.status.value)] += 1
            parties[cell.regime] += 1
        for regime, expected in sorted(parties.items()):
            row: dict[str, Any] = {"regime": regime, "year": year, "expected": expected}
            for (r, status), count in tally.items():
                if r == regime:
                    row[status] = count
            out.append(row)
    return out


def facility_points(ctx: Context, *, actor: Actor) -> list[dict[str, Any]]:
    """Declared facilities with their coordinates, for the map."""
    require(actor, Action.REFERENCE_READ)
    with ctx.sessions() as session:
        return [
            {
                "id": f.id,
                "state": f.state,
                "name": f.name,
                "kind": f.kind,
                "regime": f.regime,
                "lat": f.latitude,
                "lon": f.longitude,
            }
            for f in session.scalars(select(Facility).order_by(Facility.state, Facility.id))
        ]


FINDING_HEADERS = (
    "kind",
    "regime",
    "year",
    "exporter",
    "importer",
    "item",
    "unit",
    "exported",
    "imported",
    "difference",
    "threshold",
    "explanation",
)


def finding_rows(findings: Sequence[TransferFinding]) -> list[list[Any]]:
    return [
        [
            f.kind,
            f.regime,
            f.year,
            f.exporter,
            f.importer,
            f.item,
            f.unit,
            f.exported,
            f.imported,
            f.difference,
            f.threshold,
            f.explanation(),
        ]
        for f in findings
    ]


CASE_HEADERS = (
    "id",
    "status",
    "check",
    "kind",
    "regime",
    "year",
    "states",
    "item",
    "title",
    "assignee",
    "awaiting",
    "closure_reason",
    "opened_at",
    "updated_at",
)


def case_rows(cases: Sequence[CaseSummary]) -> list[list[Any]]:
    return [
        [
            c.id,
            c.status,
            c.check,
            c.kind,
            c.regime,
            c.year,
            " ".join(c.states),
            c.item,
            c.title,
            c.assignee,
            " ".join(c.awaiting),
            c.closure_reason,
            c.opened_at.isoformat(timespec="seconds"),
            c.updated_at.isoformat(timespec="seconds"),
        ]
        for c in cases
    ]


__all__ = [
    "CASE_HEADERS",
    "FINDING_HEADERS",
    "case_rows",
    "facility_points",
    "finding_rows",
    "participation",
    "reconcile_transfers",
    "reporting_years",
    "run_all_checks",
]
