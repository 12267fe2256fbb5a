"""Transfer lines in columns: what the reconciliation reads.

Lines come from the current versions of submitted declarations, as their
regime pack's ``reconciliation`` rule says (which table, which fields), and
from imported files. A state's submitted declaration of a regime and year
takes precedence over imported lines for that state, regime and year; among
imported files, the latest import of a state, regime and year stands.

Every line is stored from the exporter's and importer's point of view: the
``exporter`` and ``importer`` columns name the pair whatever side reported it,
and ``side`` says who did (0: the exporter, 1: the importer).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import numpy.typing as npt

from veritrail.analysis.findings import Source
from veritrail.analysis.sources import Submitted
from veritrail.analysis.units import convert
from veritrail.errors import InputError
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import DeclarationType, ReconciliationRule
from veritrail.store.models import TransferLine

EXPORTER, IMPORTER = 0, 1

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LineSet:
    """Transfer lines as parallel columns of codes into the lookup lists."""

    regimes: list[str]
    states: list[str]
    items: list[str]
    sources: list[Source]
    regime: Ints
    year: Ints
    exporter: Ints
    importer: Ints
    item: Ints
    side: Ints
    amount: Floats
    source: Ints
    # (regime, year, state) of every state that reported on the regime's transfers.
    reported: frozenset[tuple[str, int, str]] = frozenset()

    def __len__(self) -> int:
        return int(self.amount.shape[0])


@dataclass
class LineBuilder:
    """Collects lines one by one into compact columns."""

    regimes: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    reported: set[tuple[str, int, str]] = field(default_factory=set)
    _columns: dict[str, array[int]] = field(
        default_factory=lambda: {
            name: array("q") for name in ("regime", "year", "exp", "imp", "item", "side", "src")
        }
    )
    _amount: array[float] = field(default_factory=lambda: array("d"))

    def source(self, source: Source) -> int:
        self.sources.append(source)
        return len(self.sources) - 1

    @staticmethod
    def _code(table: dict[str, int], value: str) -> int:
        code = table.get(value)
        if code is None:
            code = table[value] = len(table)
        return code

    def add(
        self,
        *,
        regime: str,
        year: int,
        reporter: str,
        partner: str,
        direction: str,
        item: str,
        amount: float,
        source: int,
    ) -> None:
        exporter, importer = (reporter, partner) if direction == "export" else (partner, reporter)
        columns = self._columns
        columns["regime"].append(self._code(self.regimes, regime))
        columns["year"].append(year)
        columns["exp"].append(self._code(self.states, exporter))
        columns["imp"].append(self._code(self.states, importer))
        columns["item"].append(self._code(self.items, item))
        columns["side"].append(EXPORTER if direction == "export" else IMPORTER)
        columns["src"].append(source)
        self._amount.append(amount)

    def build(self) -> LineSet:
        def ints(name: str) -> Ints:
            return np.frombuffer(self._columns[name], dtype=np.int64).copy()

        return LineSet(
            regimes=list(self.regimes),
            states=list(self.states),
            items=list(self.items),
            sources=self.sources,
            regime=ints("regime"),
            year=ints("year"),
            exporter=ints("exp"),
            importer=ints("imp"),
            item=ints("item"),
            side=ints("side"),
            amount=np.frombuffer(self._amount, dtype=np.float64).copy(),
            source=ints("src"),
            reported=frozenset(self.reported),
        )


def reconciled_types(registry: Registry, regime: str | None = None) -> list[DeclarationType]:
    """Declaration types whose pack defines how their transfers are reconciled."""
    packs = [registry.regime(regime)] if regime else list(registry.packs.values())
    return [t for p in packs for t in p.types.values() if t.reconciliation is not None]


def rule_for(registry: Registry, regime: str) -> ReconciliationRule:
    """The reconciliation rule of ``regime``, or an error naming the regimes that have one."""
    if regime in registry.packs:
        for dtype in reconciled_types(registry, regime):
            if dtype.reconciliation is not None:
                return dtype.reconciliation
    with_rules = sorted({t.regime for t in reconciled_types(registry)})
    known = "has no transfers to reconcile" if regime in registry.packs else "is not known"
    raise InputError(
        f"the regime {regime!r} {known}; those with transfers: {', '.join(with_rules)}"
    )


def _amount(value: object, unit: object, rule: ReconciliationRule) -> float | None:
    try:
        quantity = Decimal(str(value))
        return float(convert(quantity, str(unit), rule.unit))
    except (InvalidOperation, InputError):
        return None  # validated at submission; an unreadable figure is left out


def add_declaration(builder: LineBuilder, declaration: Submitted, rule: ReconciliationRule) -> None:
    """The transfer lines of one submitted declaration."""
    builder.reported.add((declaration.regime, declaration.period, declaration.state))
    source: int | None = None
    for spec in rule.sources:
        for row in declaration.rows(spec.section):
            direction = spec.direction or row.get(spec.direction_field or "")
            partner, item = row.get(spec.partner), row.get(spec.item)
            if direction not in ("export", "import") or not partner or not item:
                continue
            amount = _amount(
                row.get(spec.quantity), spec.unit or row.get(spec.unit_field or ""), rule
            )
            if amount is None:
                continue
            if source is None:
                source = builder.source(
                    Source(declaration.state, declaration.id, declaration.version)
                )
            builder.add(
                regime=declaration.regime,
                year=declaration.period,
                reporter=declaration.state,
                partner=str(partner),
                direction=str(direction),
                item=rule.group_of(str(item)),
                amount=amount,
                source=source,
            )


def collect(
    declarations: Iterable[Submitted],
    registry: Registry,
    imported: Iterable[TransferLine] = (),
) -> LineSet:
    """Every transfer line of ``declarations`` and ``imported``, declarations first."""
    builder = LineBuilder()
    rules = {(t.regime, t.id): t.reconciliation for t in reconciled_types(registry)}
    for declaration in declarations:
        rule = rules.get((declaration.regime, declaration.type))
        if rule is not None:
            add_declaration(builder, declaration, rule)
    declared = set(builder.reported)
    latest: dict[tuple[str, int, str], tuple[str, list[TransferLine]]] = {}
    for line in imported:
        triple = (line.regime, line.year, line.reporting_state)
        if triple in declared:
            continue
        found = latest.get(triple)
        if found is None or found[0] != line.import_id:
            # Lines come oldest import first: a later import of the same state,
            # regime and year replaces the earlier one.
            found = latest[triple] = (line.import_id, [])
        found[1].append(line)
    for triple, (_, lines) in latest.items():
        builder.reported.add(triple)
        for line in lines:
            builder.add(
                regime=line.regime,
                year=line.year,
                reporter=line.reporting_state,
                partner=line.partner_state,
                direction=line.direction,
                item=line.item,
                amount=line.amount,
                source=builder.source(
                    Source(line.reporting_state, import_id=line.import_id, row=line.row)
                ),
            )
    return builder.build()


__all__ = [
    "EXPORTER",
    "Bools",
    "Floats",
    "Ints",
    "IMPORTER",
    "LineBuilder",
    "LineSet",
    "add_declaration",
    "collect",
    "reconciled_types",
    "rule_for",
]
