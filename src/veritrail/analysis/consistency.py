"""Cross-regime consistency: what a state declares under one regime against another.

A state that declares production or exports of Schedule 2 chemicals to the
OPCW handles exactly the kind of goods resolution 1540 (2004) asks it to keep
under export control. When its own 1540 matrix does not report chemical export
controls as in place, one of the two reports is incomplete or the controls are
missing: either way an analyst and the 1540 Committee's experts should know.

The checks are data (``CHECKS``): which declared lines trigger a check, and
which row of which other report should back them. The report read is the
state's latest one for the same year or an earlier one, since a matrix
describes the measures in place until it is updated. A state with no such
report at all gets no finding here: a missing report is the completeness
check's business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from veritrail.analysis.findings import Finding, Source
from veritrail.analysis.sources import Submitted
from veritrail.regimes.loader import Registry


@dataclass(frozen=True, slots=True)
class DeclaredLines:
    """Table rows of a declaration type that can trigger a check.

    A row counts when its ``activity`` is one of the check's activities, its
    ``quantity`` is above zero and its ``item``'s ``by`` attribute in the code
    list ``item_list`` is one of the check's parts.
    """

    regime: str
    type: str
    section: str
    item: str
    activity: str
    quantity: str
    item_list: str
    by: str


@dataclass(frozen=True, slots=True)
class ReportedMeasure:
    """A row of another regime's report that should be there, with ``flag`` true."""

    regime: str
    type: str
    section: str
    row: tuple[tuple[str, str], ...]
    flag: str
    label: str


@dataclass(frozen=True, slots=True)
class CrossRegimeCheck:
    """Lines declared under one regime that need a measure reported under another.

    A state's ``lines`` for year Y with an activity in ``activities`` and an
    item of a part in ``parts`` need ``measure`` in the state's latest report of
    year Y or earlier; if that report lacks it, the check finds something.
    """

    id: str
    summary: str
    lines: DeclaredLines
    activities: frozenset[str]
    parts: frozenset[str]
    measure: ReportedMeasure


ADND_LINES = DeclaredLines(
    "cwc", "adnd", "lines", "cas", "activity", "quantity", item_list="schedules", by="schedule"
)
CHEMICAL_EXPORT_CONTROLS = ReportedMeasure(
    "unscr1540",
    "matrix",
    "measures",
    row=(("obligation", "op3d"), ("weapon", "chemical"), ("measure", "export_controls")),
    flag="in_place",
    label="export controls for chemical weapons (operative paragraph 3 (d)) in place",
)

CHECKS: tuple[CrossRegimeCheck, ...] = (
    CrossRegimeCheck(
        id="schedule2_without_export_controls",
        summary="production of Schedule 2 chemicals",
        lines=ADND_LINES,
        activities=frozenset({"production"}),
        parts=frozenset({"2A*", "2A", "2B"}),
        measure=CHEMICAL_EXPORT_CONTROLS,
    ),
    CrossRegimeCheck(
        id="schedule_exports_without_export_controls",
        summary="exports of Schedule 2 or 3 chemicals",
        lines=ADND_LINES,
        activities=frozenset({"export"}),
        parts=frozenset({"2A*", "2A", "2B", "3A", "3B"}),
        measure=CHEMICAL_EXPORT_CONTROLS,
    ),
)


@dataclass
class _Trigger:
    """The declarations of one state and year that trigger a check, and their items."""

    declarations: list[Submitted] = field(default_factory=list)
    items: set[str] = field(default_factory=set)


def cross_regime(
    declarations: Iterable[Submitted],
    registry: Registry,
    checks: Iterable[CrossRegimeCheck] = CHECKS,
) -> list[Finding]:
    """Declared activities that the state's report under another regime does not back."""
    by_type: dict[tuple[str, str], list[Submitted]] = defaultdict(list)
    for d in declarations:
        by_type[(d.regime, d.type)].append(d)
    findings: list[Finding] = []
    for check in checks:
        reports = _latest_first(by_type[(check.measure.regime, check.measure.type)])
        triggers = _triggers(check, by_type[(check.lines.regime, check.lines.type)], registry)
        for (state, year), trigger in sorted(triggers.items()):
            report = next((r for r in reports.get(state, []) if r.period <= year), None)
            if report is not None and not _has_measure(report, check.measure):
                findings.append(_finding(check, state, year, trigger, report, registry))
    findings.sort(key=lambda f: (f.regime, f.year, f.states, f.key))
    return findings


def _latest_first(reports: list[Submitted]) -> dict[str, list[Submitted]]:
    by_state: dict[str, list[Submitted]] = defaultdict(list)
    for r in sorted(reports, key=lambda r: (r.period, r.version, r.id), reverse=True):
        by_state[r.state].append(r)
    return by_state


def _triggers(
    check: CrossRegimeCheck, declarations: list[Submitted], registry: Registry
) -> dict[tuple[str, int], _Trigger]:
    lines = check.lines
    code_list = registry.code_list(lines.regime, lines.item_list)
    parts = {e.code: code_list.attribute(e, lines.by) for e in code_list.entries}
    triggers: dict[tuple[str, int], _Trigger] = {}
    for d in declarations:
        items = {
            str(row[lines.item])
            for row in d.rows(lines.section)
            if row.get(lines.activity) in check.activities
            and parts.get(str(row.get(lines.item))) in check.parts
            and _positive(row.get(lines.quantity))
        }
        if items:
            trigger = triggers.setdefault((d.state, d.period), _Trigger())
            trigger.declarations.append(d)
            trigger.items |= items
    return triggers


def _positive(value: Any) -> bool:
    try:
        return Decimal(str(value)) > 0
    except InvalidOperation:
        return False


def _has_measure(report: Submitted, measure: ReportedMeasure) -> bool:
    return any(
        all(row.get(name) == value for name, value in measure.row) and row.get(measure.flag) is True
        for row in report.rows(measure.section)
    )


def _describe(d: Submitted, registry: Registry) -> str:
    """The declaration as an analyst finds it: regime, type, year, id and version."""
    regime = registry.regime(d.regime).regime.short_name.en
    title = registry.declaration_type(d.regime, d.type).title.en
    return f"{regime} '{title}' for {d.period} (declaration {d.id} version {d.version})"


def _named(codes: list[str], lines: DeclaredLines, registry: Registry) -> str:
    names = {e.code: e.name.en for e in registry.code_list(lines.regime, lines.item_list).entries}
    return ", ".join(f"{c} ({names[c]})" if c in names else c for c in codes)


def _finding(
    check: CrossRegimeCheck,
    state: str,
    year: int,
    trigger: _Trigger,
    report: Submitted,
    registry: Registry,
) -> Finding:
    chemicals = sorted(trigger.items)
    declared = " and ".join(_describe(d, registry) for d in trigger.declarations)
    return Finding(
        check="consistency",
        kind=check.id,
        regime=check.lines.regime,
        year=year,
        states=(state,),
        item=None,
        title=(
            f"{state}: {check.summary} declared for {year} ({check.lines.regime.upper()} "
            f"{check.lines.type}) but no {check.measure.label} in its "
            f"{report.regime.upper()} {report.type} for {report.period}"
        ),
        explanation=(
            f"{state}'s {declared} declares {check.summary}: "
            f"{_named(chemicals, check.lines, registry)}. The latest report {state} submitted "
            f"for {year} or earlier, its {_describe(report, registry)}, has no row reporting "
            f"{check.measure.label}."
        ),
        details={"key": check.id, "matrix_year": report.period, "chemicals": chemicals},
        sources=(
            *(Source(d.state, d.id, d.version) for d in trigger.declarations),
            Source(report.state, report.id, report.version),
        ),
    )


__all__ = ["CHECKS", "CrossRegimeCheck", "DeclaredLines", "ReportedMeasure", "cross_regime"]
