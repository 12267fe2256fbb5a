"""Checks of the cells of a transfer-lines file, one value at a time.

Each check returns the value as Veritrail stores it, or a :class:`Fail` saying
what is wrong and what is accepted. Answers depend on the cell's text alone, so
the reader (:mod:`veritrail.analysis.transfer_csv`) keeps them per distinct
value: a million rows name a few hundred states, items and years.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from veritrail.analysis.units import MASS, UNITS
from veritrail.declarations.fields import cas_is_valid
from veritrail.declarations.intake._common import fold
from veritrail.reference import states
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import FieldType, ReconciliationRule

DIRECTIONS = ("export", "import")
FIRST_YEAR = 1990
MAX_DIGITS = 15
MAX_QUANTITY_CHARS = 40  # the width of TransferLine.quantity
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_DECIMAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_SIGNED = re.compile(r"[+-](?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_COMMA = re.compile(r"[0-9.,]*,[0-9.,]*")
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_YEAR = re.compile(r"[0-9]{4}")
_STATE_HELP = "give an ISO 3166-1 alpha-3 or alpha-2 code or the English short name"
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Fail:
    """What is wrong with one cell; answers are kept per cell value, so no row number."""

    code: str
    message: str


def show(text: str) -> str:
    """A value quoted for a message, cut short so that a hostile cell cannot flood it."""
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


def listed(values: list[str]) -> str:
    if len(values) < 2:
        return "".join(values) or "nothing"
    return f"{', '.join(values[:-1])} or {values[-1]}"


def cell_value(cell: str) -> str:
    value = cell.strip()
    return value[1:].strip() if value.startswith(_NEUTRALISED) else value


def kept(cache: dict[str, _V], cell: str, check: Callable[[str], _V]) -> _V:
    """Check a cell not seen before and keep the answer."""
    found = cache[cell] = check(cell_value(cell))
    return found


# --- one cell -----------------------------------------------------------------------


def check_year(text: str, last: int) -> int | Fail:
    if not text:
        return Fail("required", f"no year; give the year of the transfer, {FIRST_YEAR} to {last}")
    if not _YEAR.fullmatch(text) or not FIRST_YEAR <= int(text) <= last:
        return Fail(
            "invalid_year",
            f"year {show(text)} is not accepted; give a 4-digit year from {FIRST_YEAR} to {last}",
        )
    return int(text)


def check_state(text: str, what: str) -> str | Fail:
    found = states.lookup(text) if text else None
    if found is not None:
        return found.alpha3
    if not text:
        return Fail("required", f"no {what}; {_STATE_HELP}")
    return Fail("unknown_state", f"unknown state {show(text)}; {_STATE_HELP}")


def check_direction(text: str) -> str | Fail:
    value = text.casefold()
    if value in DIRECTIONS:
        return value
    shown = f" {show(text)}" if text else ""
    return Fail("invalid_direction", f"unknown direction{shown}; give export or import")


def check_quantity(text: str) -> tuple[str, Decimal] | Fail:
    """The quantity normalised (no leading zeros, no bare point) and as a Decimal."""
    if not text:
        return Fail("required", "no quantity; give a number such as 12.5")
    match = _DECIMAL.fullmatch(text)
    if match and (match[1] or match[2]):
        whole, fraction = match[1].lstrip("0") or "0", match[2] or ""
        digits = len(whole + fraction) if whole != "0" else len(fraction.lstrip("0"))
        if digits > MAX_DIGITS or len(text) > MAX_QUANTITY_CHARS:
            return Fail(
                "too_many_digits",
                f"quantity {show(text)} has more than {MAX_DIGITS} significant digits (or "
                f"{MAX_QUANTITY_CHARS} characters); round it or give it in a larger unit",
            )
        normal = f"{whole}.{fraction}" if fraction else whole
        return normal, Decimal(normal)
    shown = show(text)
    if _SIGNED.fullmatch(text):
        if text[0] == "-":
            return Fail(
                "negative", f"negative quantity {shown}; give the amount transferred, 0 or more"
            )
        return Fail("signed", f"quantity {shown}: write the number without a sign")
    if _COMMA.fullmatch(text):
        return Fail(
            "decimal_comma",
            f"quantity {shown}: use a point as the decimal separator (12.5, not 12,5) "
            "and no thousands separator",
        )
    if text.lstrip("+-").casefold() in _NOT_FINITE:
        return Fail("not_finite", f"quantity {shown} is not a number; give one such as 12.5")
    if _EXPONENT.fullmatch(text):
        return Fail("exponent", f"quantity {shown}: write the number out in full (1200, not 1.2E3)")
    return Fail("not_a_number", f"quantity {shown} is not a number; give one such as 12.5")


@dataclass
class RegimeCells:
    """What one regime takes as item and unit, from its pack, with the answers so far."""

    id: str
    rule: ReconciliationRule
    item_name: str  # the label of the item field of the declaration type
    item_help: str
    items: dict[str, str] = field(default_factory=dict)  # folded choice -> as reconciled
    codes: frozenset[str] = frozenset()
    cas: bool = False
    checked: dict[str, str | Fail] = field(default_factory=dict)
    units: dict[str, str | Fail] = field(default_factory=dict)

    @classmethod
    def of(cls, regime_id: str, rule: ReconciliationRule, registry: Registry) -> RegimeCells:
        pack = registry.regime(regime_id)
        source = rule.sources[0]
        dtype = next(t for t in pack.types.values() if t.reconciliation is rule)
        section = dtype.section(source.section)
        spec = section.field(source.item) if section else None
        name = spec.label.en.lower() if spec else "item"
        if rule.item_list is not None:
            code_list = pack.lists[rule.item_list]
            codes = frozenset(e.code for e in code_list.entries)
            accepted = f"give one listed in {code_list.title.en}"
            return cls(regime_id, rule, name, accepted, codes=codes, cas=code_list.format == "cas")
        if spec is None or spec.type is not FieldType.CHOICE:
            return cls(regime_id, rule, name, "")
        choices = spec.choice_values()
        groups = list(dict.fromkeys(rule.group_of(c) for c in choices))
        examples: dict[str, str] = {}  # the first sub-category of each category
        for choice in choices:
            if rule.group_of(choice) != choice:
                examples.setdefault(rule.group_of(choice), choice)
        accepted = f"give {listed(groups)}"
        if examples:
            accepted += f", or a sub-category such as {listed(list(examples.values()))}"
        items = {fold(c): rule.group_of(c) for c in choices} | {fold(g): g for g in groups}
        return cls(regime_id, rule, name, accepted, items=items)

    def item(self, text: str) -> str | Fail:
        if not text:
            return Fail("required", f"no {self.item_name}; {self.item_help}")
        if self.codes:
            if text in self.codes:
                return self.rule.group_of(text)
            if self.cas and not cas_is_valid(text):
                return Fail(
                    "invalid_cas",
                    f"{show(text)} is not a CAS registry number (written like 75-44-5, "
                    f"with a correct check digit); {self.item_help}",
                )
            return Fail(
                "unknown_item", f"{self.item_name} {show(text)} is not listed; {self.item_help}"
            )
        if self.items:
            found = self.items.get(fold(text))
            if found is None:
                return Fail(
                    "unknown_item", f"unknown {self.item_name} {show(text)}; {self.item_help}"
                )
            return found
        return self.rule.group_of(text)

    def unit(self, text: str) -> str | Fail:
        unit = text.casefold()
        mass = self.rule.unit in MASS
        if unit in (MASS if mass else (self.rule.unit,)):
            return unit
        if mass:
            accepted = f"{self.id} quantities are masses: give {listed(list(MASS))}"
        else:
            accepted = (
                f"{self.id} quantities are numbers of {self.rule.unit}: give {self.rule.unit}"
            )
        if not unit:
            return Fail("required", f"no unit; {accepted}")
        if unit in UNITS:
            return Fail(
                "wrong_unit", f"a quantity in {show(text)} cannot be reconciled here; {accepted}"
            )
        return Fail("unknown_unit", f"unknown unit {show(text)}; {accepted}")


def transfer_rules(registry: Registry) -> dict[str, ReconciliationRule]:
    """The regimes with transfers to reconcile, and the rule of each."""
    found = {
        regime_id: next((t.reconciliation for t in pack.types.values() if t.reconciliation), None)
        for regime_id, pack in sorted(registry.packs.items())
    }
    return {regime_id: rule for regime_id, rule in found.items() if rule is not None}


# --- rows ---------------------------------------------------------------------------


__all__ = [
    "DIRECTIONS",
    "FIRST_YEAR",
    "MAX_DIGITS",
    "MAX_QUANTITY_CHARS",
    "Fail",
    "RegimeCells",
    "cell_value",
    "check_direction",
    "check_quantity",
    "check_state",
    "check_year",
    "kept",
    "listed",
    "show",
    "transfer_rules",
]
