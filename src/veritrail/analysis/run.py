"""Every check over what one reader may see, and the scope each one covered.

The scope ((check, regime, year) triples) tells case re-evaluation which open
cases a run could have found again: a case in scope that was not found again
is resolved; one outside it is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from veritrail.analysis.anomalies import year_over_year
from veritrail.analysis.consistency import cross_regime
from veritrail.analysis.facilities import disappearances
from veritrail.analysis.findings import Check, Finding
from veritrail.analysis.reconcile import Reconciliation, reconcile_all
from veritrail.analysis.sources import Submitted, imported_lines, submitted
from veritrail.analysis.transfers import collect, reconciled_types
from veritrail.regimes.loader import Registry

CHECKS: tuple[Check, ...] = ("reconciliation", "anomaly", "facility", "consistency")
Scope = frozenset[tuple[str, str, int]]


@dataclass(frozen=True)
class CheckRun:
    findings: list[Finding]
    scope: Scope


def reconciliation(
    session: Session,
    registry: Registry,
    *,
    where: ColumnElement[bool] | None = None,
    regime: str | None = None,
    year: int | None = None,
    declarations: Iterable[Submitted] | None = None,
) -> Reconciliation:
    """Reconcile the transfers of ``regime`` (or every regime with transfers) and ``year``.

    ``declarations``, when the caller has read them already, are used instead of
    reading again (those of other types and years are passed over).
    """
    types = [(t.regime, t.id) for t in reconciled_types(registry, regime)]
    years = [year] if year is not None else None
    if declarations is None:
        declarations = submitted(session, types=types, years=years, where=where)
    else:
        wanted = set(types)
        declarations = (
            d
            for d in declarations
            if (d.regime, d.type) in wanted and (year is None or d.period == year)
        )
    imported = imported_lines(session, regimes=sorted({r for r, _ in types}), years=years)
    return reconcile_all(collect(declarations, registry, imported), registry)


def run_checks(
    session: Session,
    registry: Registry,
    *,
    where: ColumnElement[bool] | None = None,
    regime: str | None = None,
    year: int | None = None,
    checks: Sequence[Check] = CHECKS,
) -> CheckRun:
    """Run ``checks``; findings and scope limited to ``regime`` and ``year`` when given."""
    found: list[Finding] = []
    scope: set[tuple[str, str, int]] = set()
    others = [c for c in checks if c != "reconciliation"]
    # Year-over-year figures need every year, so the other checks read everything,
    # once; reconciliation then takes its declarations from what was read.
    declarations = list(submitted(session, where=where)) if others else None
    if "reconciliation" in checks:
        result = reconciliation(
            session, registry, where=where, regime=regime, year=year, declarations=declarations
        )
        found += [f.finding() for f in result.findings()]
        scope |= {("reconciliation", r, y) for r, y, _ in result.lines.reported}
    if declarations is not None:
        covered = {(d.regime, d.period) for d in declarations}
        runs = {
            "anomaly": year_over_year,
            "facility": disappearances,
            "consistency": cross_regime,
        }
        for check in others:
            found += runs[check](declarations, registry)
            scope |= {(check, r, y) for r, y in covered}
    if regime is not None:
        found = [f for f in found if f.regime == regime]
        scope = {s for s in scope if s[1] == regime}
    if year is not None:
        found = [f for f in found if f.year == year]
        scope = {s for s in scope if s[2] == year}
    return CheckRun(findings=found, scope=frozenset(scope))


__all__ = ["CHECKS", "CheckRun", "Scope", "reconciliation", "run_checks"]
