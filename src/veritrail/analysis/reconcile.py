"""Transfer reconciliation: each exporter's declared transfers against the importer's.

Lines are grouped by pair (regime, year, exporter, importer, item) with one sort
of an integer key; each side's quantities are summed within the group. A pair
is then

- ``matched``: both sides declared it and they differ by no more than the threshold;
- ``quantity_mismatch``: both declared it and they differ by more;
- ``missing_import``: only the exporter declared it, above the threshold;
- ``missing_export``: only the importer declared it, above the threshold;
- ``below_threshold``: only one side declared it, at or below the threshold, which
  the regime does not require the other side to declare.

The threshold is the regime pack's rule (``reconciliation`` in the declaration
type): the larger of the item's limit and the relative tolerance times the
larger side. The work is done on NumPy columns, so ten million lines take a few
seconds; only the pairs shown become Python objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from veritrail.analysis.findings import Finding, Source
from veritrail.analysis.transfers import EXPORTER, IMPORTER, Bools, Floats, Ints, LineSet, rule_for
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import ReconciliationRule

Kind = Literal[
    "matched", "quantity_mismatch", "missing_import", "missing_export", "below_threshold"
]
KINDS: tuple[Kind, ...] = (
    "matched",
    "quantity_mismatch",
    "missing_import",
    "missing_export",
    "below_threshold",
)
MATCHED, MISMATCH, MISSING_IMPORT, MISSING_EXPORT, BELOW = range(5)
DISCREPANCIES: frozenset[Kind] = frozenset(
    {"quantity_mismatch", "missing_import", "missing_export"}
)

# Sums of decimal figures carry binary rounding; differences within this share
# of the larger side are equal.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class TransferFinding:
    """One pair: both sides' figures, the threshold applied and where they came from."""

    kind: Kind
    regime: str
    year: int
    exporter: str
    importer: str
    item: str
    unit: str
    exported: float | None
    imported: float | None
    threshold: float
    export_sources: tuple[Source, ...]
    import_sources: tuple[Source, ...]
    exporter_reported: bool
    importer_reported: bool

    @property
    def difference(self) -> float:
        return (self.exported or 0.0) - (self.imported or 0.0)

    def explanation(self) -> str:
        unit = self.unit
        exported = figure(self.exported, unit)
        imported = figure(self.imported, unit)
        limit = f"the threshold is {figure(self.threshold, unit)}"
        if self.kind == "missing_import":
            why = (
                f"{self.importer} submitted no report on these transfers for {self.year}"
                if not self.importer_reported
                else f"{self.importer}'s report for {self.year} has no such import"
            )
            text = f"{self.exporter} declared exporting {exported} to {self.importer}; {why}"
        elif self.kind == "missing_export":
            why = (
                f"{self.exporter} submitted no report on these transfers for {self.year}"
                if not self.exporter_reported
                else f"{self.exporter}'s report for {self.year} has no such export"
            )
            text = f"{self.importer} declared importing {imported} from {self.exporter}; {why}"
        elif self.kind == "below_threshold":
            text = (
                f"only one side declared it "
                f"({exported if self.exported is not None else imported}), "
                "which is below the threshold, so the other side need not declare it"
            )
        else:
            text = (
                f"{self.exporter} declared exporting {exported}; {self.importer} declared "
                f"importing {imported}; the difference is {figure(abs(self.difference), unit)}"
            )
        sources = "; ".join(s.label() for s in (*self.export_sources, *self.import_sources))
        return f"{text}; {limit}. From: {sources or 'no declaration'}."

    def title(self) -> str:
        what = {
            "matched": "matched",
            "quantity_mismatch": "quantities differ",
            "missing_import": "import not declared",
            "missing_export": "export not declared",
            "below_threshold": "below the threshold",
        }[self.kind]
        return f"{self.exporter} → {self.importer}, {self.item}, {self.year}: {what}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "regime": self.regime,
            "year": self.year,
            "exporter": self.exporter,
            "importer": self.importer,
            "item": self.item,
            "unit": self.unit,
            "exported": self.exported,
            "imported": self.imported,
            "difference": self.difference,
            "threshold": self.threshold,
            "explanation": self.explanation(),
            "exporter_reported": self.exporter_reported,
            "importer_reported": self.importer_reported,
            "export_sources": [s.as_json() for s in self.export_sources],
            "import_sources": [s.as_json() for s in self.import_sources],
        }

    def finding(self) -> Finding:
        """As a finding for a discrepancy case; the pair and item are its key."""
        return Finding(
            check="reconciliation",
            kind=self.kind,
            regime=self.regime,
            year=self.year,
            states=(self.exporter, self.importer),
            item=self.item,
            title=self.title(),
            explanation=self.explanation(),
            details=self.as_json(),
            sources=(*self.export_sources, *self.import_sources),
        )


def plain(value: float | None) -> str:
    """A figure as people read it: thousands separated, no trailing zeros, — for none."""
    if value is None:
        return "—"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def figure(value: float | None, unit: str) -> str:
    """A quantity with its unit, in the explanations' English."""
    if value is None:
        return "nothing"
    if unit == "items" and value == 1:
        unit = "item"
    return f"{plain(value)} {unit}"


@dataclass(frozen=True)
class Pairs:
    """One row per pair, in key order."""

    regime: Ints
    year: Ints
    exporter: Ints
    importer: Ints
    item: Ints
    exported: Floats
    imported: Floats
    has_export: Bools
    has_import: Bools
    threshold: Floats
    kind: Ints
    starts: Ints  # first line of the pair in ``order``
    ends: Ints


@dataclass(frozen=True)
class Reconciliation:
    lines: LineSet
    pairs: Pairs
    order: Ints  # lines sorted by pair
    units: Mapping[str, str]

    def counts(self) -> dict[tuple[str, int, Kind], int]:
        """Pairs per (regime, year, kind)."""
        p = self.pairs
        if not len(p.kind):
            return {}
        years = p.year
        base = int(years.min())
        span = int(years.max()) - base + 1
        code = (p.regime * span + (years - base)) * len(KINDS) + p.kind
        values, tallies = np.unique(code, return_counts=True)
        out: dict[tuple[str, int, Kind], int] = {}
        for value, tally in zip(values.tolist(), tallies.tolist(), strict=True):
            rest, kind = divmod(value, len(KINDS))
            regime, year = divmod(rest, span)
            out[(self.lines.regimes[regime], base + year, KINDS[kind])] = tally
        return out

    def selected(
        self,
        *,
        kinds: frozenset[Kind] = DISCREPANCIES,
        regime: str | None = None,
        year: int | None = None,
    ) -> Ints:
        """Indexes of the pairs of ``kinds`` (and ``regime``, ``year``), in key order."""
        p, lines = self.pairs, self.lines
        mask = np.isin(p.kind, [KINDS.index(k) for k in kinds])
        if regime is not None:
            if regime not in lines.regimes:
                return np.zeros(0, dtype=np.int64)
            mask &= p.regime == lines.regimes.index(regime)
        if year is not None:
            mask &= p.year == year
        return np.flatnonzero(mask)

    def findings(
        self,
        *,
        kinds: frozenset[Kind] = DISCREPANCIES,
        regime: str | None = None,
        year: int | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TransferFinding]:
        """The pairs of ``kinds`` (discrepancies by default) as findings, a page of them."""
        chosen = self.selected(kinds=kinds, regime=regime, year=year)
        chosen = chosen[offset : None if limit is None else offset + limit]
        return self._materialise(chosen)

    def _materialise(self, chosen: Ints) -> list[TransferFinding]:
        p, lines = self.pairs, self.lines
        if not len(chosen):
            return []
        # The lines of every chosen pair, gathered at once, then split per pair.
        lengths = p.ends[chosen] - p.starts[chosen]
        first = np.cumsum(lengths) - lengths
        within = np.arange(int(lengths.sum())) - np.repeat(first, lengths)
        members = self.order[np.repeat(p.starts[chosen], lengths) + within]
        sources = lines.source[members].tolist()
        sides = lines.side[members].tolist()
        columns = {
            name: getattr(p, name)[chosen].tolist()
            for name in (
                "kind",
                "regime",
                "year",
                "exporter",
                "importer",
                "item",
                "exported",
                "imported",
                "has_export",
                "has_import",
                "threshold",
            )
        }
        out: list[TransferFinding] = []
        start = 0
        for row, length in enumerate(lengths.tolist()):
            pair = {name: values[row] for name, values in columns.items()}
            code = lines.regimes[pair["regime"]]
            exporter = lines.states[pair["exporter"]]
            importer = lines.states[pair["importer"]]
            own = range(start, start + length)
            start += length
            out.append(
                TransferFinding(
                    kind=KINDS[pair["kind"]],
                    regime=code,
                    year=pair["year"],
                    exporter=exporter,
                    importer=importer,
                    item=lines.items[pair["item"]],
                    unit=self.units.get(code, ""),
                    exported=pair["exported"] if pair["has_export"] else None,
                    imported=pair["imported"] if pair["has_import"] else None,
                    threshold=pair["threshold"],
                    export_sources=_sources(lines, sources, sides, own, EXPORTER),
                    import_sources=_sources(lines, sources, sides, own, IMPORTER),
                    exporter_reported=(code, pair["year"], exporter) in lines.reported,
                    importer_reported=(code, pair["year"], importer) in lines.reported,
                )
            )
        return out


def _sources(
    lines: LineSet, sources: list[int], sides: list[int], own: range, side: int
) -> tuple[Source, ...]:
    seen = dict.fromkeys(sources[i] for i in own if sides[i] == side)
    return tuple(lines.sources[i] for i in seen)


def item_limits(
    lines: LineSet, rules: Mapping[str, ReconciliationRule], registry: Registry
) -> Floats:
    """The absolute threshold of each item code of ``lines``, from its regime's rule."""
    limits = np.zeros(len(lines.items), dtype=np.float64)
    item_regime = np.full(len(lines.items), -1, dtype=np.int64)
    item_regime[lines.item] = lines.regime
    for code, regime_code in enumerate(item_regime.tolist()):
        if regime_code < 0:
            continue
        rule = rules[lines.regimes[regime_code]]
        limits[code] = float(_limit(rule, lines.regimes[regime_code], lines.items[code], registry))
    return limits


def _limit(rule: ReconciliationRule, regime: str, item: str, registry: Registry) -> Decimal:
    if rule.limits and rule.item_list and rule.by:
        code_list = registry.regime(regime).lists[rule.item_list]
        entry = next((e for e in code_list.entries if e.code == item), None)
        if entry is not None:
            part = str(code_list.attribute(entry, rule.by))
            if part in rule.limits:
                return max(rule.absolute, rule.limits[part])
    return rule.absolute


def reconcile(
    lines: LineSet, rules: Mapping[str, ReconciliationRule], limits: Floats
) -> Reconciliation:
    """Group ``lines`` into pairs and classify each; ``limits`` per item code."""
    n_states = max(len(lines.states), 1)
    n_items = max(len(lines.items), 1)
    if len(lines):
        base = int(lines.year.min())
        span = int(lines.year.max()) - base + 1
    else:
        base, span = 0, 1
    # One integer per pair; the sizes of the lookup lists keep it well inside 63 bits.
    key = lines.regime * span + (lines.year - base)
    key = (key * n_states + lines.exporter) * n_states + lines.importer
    key = key * n_items + lines.item
    if len(key) and int(key.max()) < 2**31:
        key = key.astype(np.int32)  # sorts about a third faster than 64 bits
    order = np.argsort(key)
    ordered = key[order]
    n = len(ordered)
    if n:
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    else:
        starts = np.zeros(0, dtype=np.int64)
    ends = np.append(starts[1:], n).astype(np.int64)
    side = lines.side[order]
    amount = lines.amount[order]
    by_exporter = side == EXPORTER
    if n:
        exported = np.add.reduceat(np.where(by_exporter, amount, 0.0), starts)
        imported = np.add.reduceat(np.where(by_exporter, 0.0, amount), starts)
        export_lines = np.add.reduceat(by_exporter.astype(np.int64), starts)
    else:
        exported = imported = np.zeros(0)
        export_lines = np.zeros(0, dtype=np.int64)
    has_export = export_lines > 0
    has_import = (ends - starts) > export_lines
    first = order[starts]
    regime = lines.regime[first]
    item = lines.item[first]
    relative = np.array(
        [float(rules[code].relative) for code in lines.regimes] or [0.0], dtype=np.float64
    )
    larger = np.maximum(exported, imported)
    threshold = np.maximum(limits[item] if len(limits) else 0.0, relative[regime] * larger)
    above = np.abs(exported - imported) > threshold + _EPSILON * larger
    kind = np.full(len(starts), MATCHED, dtype=np.int64)
    both = has_export & has_import
    kind[both & above] = MISMATCH
    kind[has_export & ~has_import] = np.where(above, MISSING_IMPORT, BELOW)[
        has_export & ~has_import
    ]
    kind[has_import & ~has_export] = np.where(above, MISSING_EXPORT, BELOW)[
        has_import & ~has_export
    ]
    pairs = Pairs(
        regime=regime,
        year=lines.year[first],
        exporter=lines.exporter[first],
        importer=lines.importer[first],
        item=item,
        exported=exported,
        imported=imported,
        has_export=has_export,
        has_import=has_import,
        threshold=threshold,
        kind=kind,
        starts=starts.astype(np.int64),
        ends=ends,
    )
    units = {code: rules[code].unit for code in lines.regimes}
    return Reconciliation(lines=lines, pairs=pairs, order=order, units=units)


def reconcile_all(lines: LineSet, registry: Registry) -> Reconciliation:
    """Reconcile with each regime's rule from its pack."""
    rules = {code: rule_for(registry, code) for code in lines.regimes}
    return reconcile(lines, rules, item_limits(lines, rules, registry))


__all__ = [
    "DISCREPANCIES",
    "KINDS",
    "Kind",
    "Pairs",
    "Reconciliation",
    "TransferFinding",
    "figure",
    "plain",
    "item_limits",
    "reconcile",
    "reconcile_all",
]
