"""Transfer lines kept outside Veritrail, read from one CSV file.

Veritrail matches what exporting and importing states declare. An analyst can
also bring in transfer lines from elsewhere (a customs database, a national
register, a published report) so that they are reconciled with the declarations.
The file is one table::

    # Lines starting with # are comments; blank lines are skipped.
    regime,year,reporting_state,partner_state,direction,item,quantity,unit
    cwc,2024,FRA,DE,export,75-44-5,12.5,t
    att,2024,Germany,Poland,import,IV_a,2,items

- The first row (after comments and blank lines) is the header, with exactly
  the eight columns above in any order; case and surrounding spaces do not
  matter.
- ``regime``: a regime whose transfers Veritrail reconciles (``cwc``, ``att``).
- ``year``: the calendar year of the transfer, four digits, from 1990 to next
  year.
- ``reporting_state``, ``partner_state``: an ISO 3166-1 alpha-3 or alpha-2 code
  or the English short name; two different states. The partner is the
  destination of an export and the origin of an import.
- ``direction``: ``export`` or ``import``.
- ``item``: for ``cwc`` the CAS registry number of a scheduled chemical; for
  ``att`` the category, ``I`` to ``VII`` or ``SALW``. A sub-category of the
  annual report (``IV_a``, ``SA_1``, ``LW_3``, …) counts for its category, and
  the line keeps the category.
- ``quantity``: a number with a point as decimal separator, written out in full
  (no sign, thousands separator or exponent), at most 15 significant digits.
- ``unit``: ``g``, ``kg`` or ``t`` for ``cwc``; ``items`` for ``att``, where the
  quantity is a whole number. Quantities are compared in kilograms and in items.
- One line per regime, year, reporting state, partner state, direction and item
  (as reconciled): add up the quantities of a line given twice.

The separator is a comma, a semicolon (what Excel writes in many European
locales) or a tab: whichever the header row holds most of. Values are quoted the
usual way (RFC 4180). The file is UTF-8, with or without a byte order mark. A
leading apostrophe put before ``= + - @`` by Veritrail's own CSV exports (see
:mod:`veritrail.declarations.csvsafe`) is taken off again.

A file is taken whole or not at all. Every problem is reported at once (the first
1,000 of them), located as ``row 12, column "quantity"`` (the header as written),
where a row is the line of the file: the header is row 1 unless comments come
before it.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from veritrail.analysis.units import MASS, UNITS, convert
from veritrail.declarations.fields import cas_is_valid
from veritrail.declarations.intake._common import decode_text, fold
from veritrail.errors import Problem, TooLarge, UnsupportedFormat, ValidationFailed
from veritrail.reference import states
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import FieldType, ReconciliationRule

COLUMNS = tuple("regime year reporting_state partner_state direction item quantity unit".split())
DIRECTIONS = ("export", "import")
FIRST_YEAR = 1990
MAX_PROBLEMS = 1_000
MAX_DIGITS = 15
MAX_QUANTITY_CHARS = 40  # the width of TransferLine.quantity

_DELIMITERS = (",", ";", "\t")
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
# [0-9], not \d: \d also takes Arabic-Indic and other digits that no other system reads.
_DECIMAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_SIGNED = re.compile(r"[+-](?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_COMMA = re.compile(r"[0-9.,]*,[0-9.,]*")
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_YEAR = re.compile(r"[0-9]{4}")
_EXPECTED = ", ".join(COLUMNS)
_STATE_HELP = "give an ISO 3166-1 alpha-3 or alpha-2 code or the English short name"
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class CsvLine:
    """One transfer line of the file, checked and in the regime's reconciliation unit."""

    row: int  # line number in the file, the header being 1
    regime: str
    year: int
    reporting_state: str  # alpha-3
    partner_state: str  # alpha-3
    direction: str  # "export" | "import"
    item: str  # as reconciled: CAS number or I..VII/SALW
    quantity: str  # the decimal as given, normalised (no exponent, no trailing spaces)
    unit: str  # as given, lower case
    amount: float  # in the regime rule's unit (kg for cwc, items for att)


@dataclass(frozen=True)
class ParsedTransfers:
    lines: list[CsvLine]


@dataclass(frozen=True, slots=True)
class _Fail:
    """What is wrong with one cell; answers are kept per cell value, so no row number."""

    code: str
    message: str


def _show(text: str) -> str:
    """A value quoted for a message, cut short so that a hostile cell cannot flood it."""
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


def _list(values: list[str]) -> str:
    if len(values) < 2:
        return "".join(values) or "nothing"
    return f"{', '.join(values[:-1])} or {values[-1]}"


def _value(cell: str) -> str:
    value = cell.strip()
    return value[1:].strip() if value.startswith(_NEUTRALISED) else value


def _kept(cache: dict[str, _V], cell: str, check: Callable[[str], _V]) -> _V:
    """Check a cell not seen before and keep the answer."""
    found = cache[cell] = check(_value(cell))
    return found


# --- one cell -----------------------------------------------------------------------


def _year(text: str, last: int) -> int | _Fail:
    if not text:
        return _Fail("required", f"no year; give the year of the transfer, {FIRST_YEAR} to {last}")
    if not _YEAR.fullmatch(text) or not FIRST_YEAR <= int(text) <= last:
        return _Fail(
            "invalid_year",
            f"year {_show(text)} is not accepted; give a 4-digit year from {FIRST_YEAR} to {last}",
        )
    return int(text)


def _state(text: str, what: str) -> str | _Fail:
    found = states.lookup(text) if text else None
    if found is not None:
        return found.alpha3
    if not text:
        return _Fail("required", f"no {what}; {_STATE_HELP}")
    return _Fail("unknown_state", f"unknown state {_show(text)}; {_STATE_HELP}")


def _direction(text: str) -> str | _Fail:
    value = text.casefold()
    if value in DIRECTIONS:
        return value
    shown = f" {_show(text)}" if text else ""
    return _Fail("invalid_direction", f"unknown direction{shown}; give export or import")


def _quantity(text: str) -> tuple[str, Decimal] | _Fail:
    """The quantity normalised (no leading zeros, no bare point) and as a Decimal."""
    if not text:
        return _Fail("required", "no quantity; give a number such as 12.5")
    match = _DECIMAL.fullmatch(text)
    if match and (match[1] or match[2]):
        whole, fraction = match[1].lstrip("0") or "0", match[2] or ""
        digits = len(whole + fraction) if whole != "0" else len(fraction.lstrip("0"))
        if digits > MAX_DIGITS or len(text) > MAX_QUANTITY_CHARS:
            return _Fail(
                "too_many_digits",
                f"quantity {_show(text)} has more than {MAX_DIGITS} significant digits (or "
                f"{MAX_QUANTITY_CHARS} characters); round it or give it in a larger unit",
            )
        normal = f"{whole}.{fraction}" if fraction else whole
        return normal, Decimal(normal)
    shown = _show(text)
    if _SIGNED.fullmatch(text):
        if text[0] == "-":
            return _Fail(
                "negative", f"negative quantity {shown}; give the amount transferred, 0 or more"
            )
        return _Fail("signed", f"quantity {shown}: write the number without a sign")
    if _COMMA.fullmatch(text):
        return _Fail(
            "decimal_comma",
            f"quantity {shown}: use a point as the decimal separator (12.5, not 12,5) "
            "and no thousands separator",
        )
    if text.lstrip("+-").casefold() in _NOT_FINITE:
        return _Fail("not_finite", f"quantity {shown} is not a number; give one such as 12.5")
    if _EXPONENT.fullmatch(text):
        return _Fail(
            "exponent", f"quantity {shown}: write the number out in full (1200, not 1.2E3)"
        )
    return _Fail("not_a_number", f"quantity {shown} is not a number; give one such as 12.5")


@dataclass
class _Regime:
    """What one regime takes as item and unit, from its pack, with the answers so far."""

    id: str
    rule: ReconciliationRule
    item_name: str  # the label of the item field of the declaration type
    item_help: str
    items: dict[str, str] = field(default_factory=dict)  # folded choice -> as reconciled
    codes: frozenset[str] = frozenset()
    cas: bool = False
    checked: dict[str, str | _Fail] = field(default_factory=dict)
    units: dict[str, str | _Fail] = field(default_factory=dict)

    @classmethod
    def of(cls, regime_id: str, rule: ReconciliationRule, registry: Registry) -> _Regime:
        pack = registry.regime(regime_id)
        source = rule.sources[0]
        dtype = next(t for t in pack.types.values() if t.reconciliation is rule)
        section = dtype.section(source.section)
        spec = section.field(source.item) if section else None
        name = spec.label.en.lower() if spec else "item"
        if rule.item_list is not None:
            code_list = pack.lists[rule.item_list]
            codes = frozenset(e.code for e in code_list.entries)
            listed = f"give one listed in {code_list.title.en}"
            return cls(regime_id, rule, name, listed, codes=codes, cas=code_list.format == "cas")
        if spec is None or spec.type is not FieldType.CHOICE:
            return cls(regime_id, rule, name, "")
        choices = spec.choice_values()
        groups = list(dict.fromkeys(rule.group_of(c) for c in choices))
        examples: dict[str, str] = {}  # the first sub-category of each category
        for choice in choices:
            if rule.group_of(choice) != choice:
                examples.setdefault(rule.group_of(choice), choice)
        accepted = f"give {_list(groups)}"
        if examples:
            accepted += f", or a sub-category such as {_list(list(examples.values()))}"
        items = {fold(c): rule.group_of(c) for c in choices} | {fold(g): g for g in groups}
        return cls(regime_id, rule, name, accepted, items=items)

    def item(self, text: str) -> str | _Fail:
        if not text:
            return _Fail("required", f"no {self.item_name}; {self.item_help}")
        if self.codes:
            if text in self.codes:
                return self.rule.group_of(text)
            if self.cas and not cas_is_valid(text):
                return _Fail(
                    "invalid_cas",
                    f"{_show(text)} is not a CAS registry number (written like 75-44-5, "
                    f"with a correct check digit); {self.item_help}",
                )
            return _Fail(
                "unknown_item", f"{self.item_name} {_show(text)} is not listed; {self.item_help}"
            )
        if self.items:
            found = self.items.get(fold(text))
            if found is None:
                return _Fail(
                    "unknown_item", f"unknown {self.item_name} {_show(text)}; {self.item_help}"
                )
            return found
        return self.rule.group_of(text)

    def unit(self, text: str) -> str | _Fail:
        unit = text.casefold()
        mass = self.rule.unit in MASS
        if unit in (MASS if mass else (self.rule.unit,)):
            return unit
        if mass:
            accepted = f"{self.id} quantities are masses: give {_list(list(MASS))}"
        else:
            accepted = (
                f"{self.id} quantities are numbers of {self.rule.unit}: give {self.rule.unit}"
            )
        if not unit:
            return _Fail("required", f"no unit; {accepted}")
        if unit in UNITS:
            return _Fail(
                "wrong_unit", f"a quantity in {_show(text)} cannot be reconciled here; {accepted}"
            )
        return _Fail("unknown_unit", f"unknown unit {_show(text)}; {accepted}")


def _rules(registry: Registry) -> dict[str, ReconciliationRule]:
    """The regimes with transfers to reconcile, and the rule of each."""
    found = {
        regime_id: next((t.reconciliation for t in pack.types.values() if t.reconciliation), None)
        for regime_id, pack in sorted(registry.packs.items())
    }
    return {regime_id: rule for regime_id, rule in found.items() if rule is not None}


# --- rows ---------------------------------------------------------------------------


class _Reader:
    """Checks data rows one by one.

    Every answer is kept by the cell as written: the same regimes, years, states
    and items recur on most rows, and a million rows must read in seconds. Wrong
    values are kept too, but reading stops at 1,000 problems.
    """

    def __init__(
        self, registry: Registry, columns: dict[str, tuple[int, str]], problems: list[Problem]
    ) -> None:
        self.registry = registry
        self.rules = _rules(registry)
        self.width = max(position for position, _ in columns.values()) + 1
        self.at = tuple(columns[name][0] for name in COLUMNS)
        self.headers = {name: written for name, (_, written) in columns.items()}
        self.year = partial(_year, last=datetime.now(UTC).year + 1)
        self.reporting = partial(_state, what="reporting state")
        self.partner = partial(_state, what="partner state")
        self.known: dict[str, _Regime] = {}
        self.regimes: dict[str, _Regime | _Fail] = {}
        self.years: dict[str, int | _Fail] = {}
        self.reporting_states: dict[str, str | _Fail] = {}
        self.partner_states: dict[str, str | _Fail] = {}
        self.directions: dict[str, str | _Fail] = {}
        self.quantities: dict[str, tuple[str, Decimal] | _Fail] = {}
        self.problems = problems
        self.lines: list[CsvLine] = []
        self.seen: dict[tuple[str, int, str, str, str, str], int] = {}  # -> its first row

    def regime(self, text: str) -> _Regime | _Fail:
        accepted = f"give {_list(list(self.rules))}"
        value = text.casefold()
        rule = self.rules.get(value)
        if rule is not None:  # one _Regime however the regime is spelt
            return self.known.get(value) or self.known.setdefault(
                value, _Regime.of(value, rule, self.registry)
            )
        if not text:
            return _Fail("required", f"no regime; {accepted}")
        if value in self.registry.packs:
            return _Fail(
                "no_transfers", f"Veritrail reconciles no transfers under {text}; {accepted}"
            )
        return _Fail("unknown_regime", f"unknown regime {_show(text)}; {accepted}")

    def row(self, number: int, record: list[str]) -> None:
        """Check one data row: a good one becomes a line, a bad one problems."""
        if len(record) != self.width:
            while len(record) > self.width and not record[-1].strip():
                record.pop()  # Excel pads rows with empty cells
            if len(record) != self.width:
                message = (
                    f"this row has {len(record):,} cells and the header {self.width}; give a "
                    "value for every column, and quote a value that holds the separator"
                )
                self.problems.append(Problem(f"row {number}", "cell_count", message))
                return
        # The answer kept for the cell first, without a call: this runs once per row.
        at = self.at
        cell = record[at[0]]
        regime = self.regimes.get(cell) or _kept(self.regimes, cell, self.regime)
        cell = record[at[1]]
        year = self.years.get(cell) or _kept(self.years, cell, self.year)
        cell = record[at[2]]
        reporting = self.reporting_states.get(cell) or _kept(
            self.reporting_states, cell, self.reporting
        )
        cell = record[at[3]]
        partner = self.partner_states.get(cell) or _kept(self.partner_states, cell, self.partner)
        if partner == reporting and not isinstance(partner, _Fail):
            partner = _Fail(
                "same_state",
                f"the partner state is the reporting state ({partner}); give the "
                "destination of an export or the origin of an import",
            )
        cell = record[at[4]]
        direction = self.directions.get(cell) or _kept(self.directions, cell, _direction)
        item = unit = None  # what they may be depends on the regime
        if not isinstance(regime, _Fail):
            cell = record[at[5]]
            item = regime.checked.get(cell) or _kept(regime.checked, cell, regime.item)
            cell = record[at[7]]
            unit = regime.units.get(cell) or _kept(regime.units, cell, regime.unit)
        cell = record[at[6]]
        quantity = self.quantities.get(cell)
        if quantity is None:
            if len(self.quantities) >= 100_000:
                self.quantities.clear()  # they vary more than other cells: keep a few
            quantity = _kept(self.quantities, cell, _quantity)
        if unit == "items" and not isinstance(quantity, _Fail) and quantity[1] % 1:
            quantity = _Fail(
                "not_whole", f"{quantity[0]} items: a number of items is a whole number"
            )
        if (
            isinstance(regime, _Fail)
            or isinstance(year, _Fail)
            or isinstance(reporting, _Fail)
            or isinstance(partner, _Fail)
            or isinstance(direction, _Fail)
            or isinstance(item, _Fail)
            or isinstance(quantity, _Fail)
            or isinstance(unit, _Fail)
            or item is None
            or unit is None
        ):
            found = (regime, year, reporting, partner, direction, item, quantity, unit)
            for column, value in zip(COLUMNS, found, strict=True):
                if isinstance(value, _Fail):
                    where = f'row {number}, column "{self.headers[column]}"'
                    self.problems.append(Problem(where, value.code, value.message, field=column))
            return
        key = (regime.id, year, reporting, partner, direction, item)
        first = self.seen.setdefault(key, number)
        if first != number:
            self.problems.append(_twice(number, first, _value(record[at[5]]), key))
            return
        given, decimal = quantity
        amount = float(convert(decimal, unit, regime.rule.unit))
        line = CsvLine(
            number, regime.id, year, reporting, partner, direction, item, given, unit, amount
        )
        self.lines.append(line)


def _twice(
    number: int, first: int, written: str, key: tuple[str, int, str, str, str, str]
) -> Problem:
    regime, year, reporting, partner, direction, item = key
    to = "to" if direction == "export" else "from"
    line = f"{regime}, {year}: {reporting} {direction}s {item} {to} {partner}"
    grouped = f"; {_show(written)} counts as {item}" if written != item else ""
    return Problem(
        f"row {number}",
        "duplicate_line",
        f"the same line as row {first} ({line}{grouped}); give one line with the quantities "
        "added up",
    )


# --- the file -----------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return decode_text(data, what="CSV file")
    except UnsupportedFormat as exc:
        code = "encoding" if "encoding" in exc.details else "binary"
        raise ValidationFailed(
            [Problem("file", code, exc.message)], "the file cannot be read"
        ) from exc


def _empty() -> ValidationFailed:
    message = (
        f"the file has no transfer lines; it starts with the header row {_EXPECTED} and has "
        "one transfer per row after it"
    )
    return ValidationFailed([Problem("file", "empty_file", message)], "the file is empty")


def _delimiter(text: str) -> str:
    """The separator the header row holds most of; a comma if it holds none."""
    for raw in text[:65536].splitlines():
        line = raw.strip()
        if not line.strip(",;\t\"' ") or line.startswith("#"):
            continue
        best = max(_DELIMITERS, key=line.count)  # max keeps the first on ties: comma
        return best if line.count(best) else ","
    return ","


def _header(cells: list[str], number: int) -> dict[str, tuple[int, str]]:
    """Column id -> (position, header as written); raises if the header is not right."""
    found: dict[str, tuple[int, str]] = {}
    problems: list[Problem] = []
    expected = f"the columns are {_EXPECTED}"
    for position, cell in enumerate(cells):
        written = cell.strip()
        name = fold(written)
        where = f'row {number}, column "{written}"' if written else f"row {number}"
        if name in found:
            problems.append(
                Problem(where, "duplicate_column", f'column "{written}" is there twice; keep one')
            )
        elif name in COLUMNS:
            found[name] = (position, written)
        elif not written:
            problems.append(
                Problem(where, "unnamed_column", f"column {position + 1} has no name; {expected}")
            )
        else:
            problems.append(
                Problem(where, "unknown_column", f"unknown column {_show(written)}; {expected}")
            )
    if not found:
        problems = [
            Problem(
                f"row {number}",
                "no_header",
                f"the first row is not the header; start the file with the row {_EXPECTED}",
            )
        ]
    problems += [
        Problem(f"row {number}", "missing_column", f'no column "{name}"; {expected}')
        for name in COLUMNS
        if found and name not in found
    ]
    if problems:
        raise ValidationFailed(problems, "the header row is not as expected")
    return found


def _unreadable(number: int, exc: csv.Error) -> Problem:
    if "field larger than field limit" in str(exc):
        found = f"a value longer than {csv.field_size_limit():,} characters"
    else:
        found = f"the CSV cannot be read ({exc})"
    return Problem(
        f"row {number}",
        "csv_syntax",
        f"{found}; the rest of the file was not read. Check the quotes: a quoted value ends "
        'with a quote, and a quote inside it is written twice ("")',
    )


def parse_transfers(
    data: bytes, registry: Registry, *, max_rows: int = 1_000_000
) -> ParsedTransfers:
    """Read a CSV file of transfer lines, all of them or none.

    Raises :class:`~veritrail.errors.ValidationFailed` with every problem found
    (up to 1,000), or :class:`~veritrail.errors.TooLarge` past ``max_rows`` lines.
    """
    if not data.strip():
        raise _empty()
    text = _decode(data)
    # The lines hold no reference cycles, but the cycle collector would walk all the
    # lines read so far again and again as they pile up: that doubles the time a
    # million rows take.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return ParsedTransfers(_read(text, registry, max_rows))
    finally:
        if collecting:
            gc.enable()


def _read(text: str, registry: Registry, max_rows: int) -> list[CsvLine]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    checker: _Reader | None = None
    problems: list[Problem] = []
    rows = unchecked = 0
    end = 0  # the last line of the file read so far
    try:
        for record in reader:
            number, end = end + 1, reader.line_num
            first = record[0].strip() if record else ""
            if first.startswith("#") or not (first or any(cell.strip() for cell in record)):
                continue  # a comment, or a blank line (or one of empty cells)
            if checker is None:
                while not record[-1].strip():
                    record.pop()  # Excel pads rows with empty cells
                checker = _Reader(registry, _header(record, number), problems)
                continue
            rows += 1
            if rows > max_rows:
                raise TooLarge(
                    f"the file has more than {max_rows:,} transfer lines, the most accepted "
                    "at once; split it into several files (one per year, for example)",
                    limit=max_rows,
                )
            if len(problems) < MAX_PROBLEMS:
                checker.row(number, record)
            else:
                unchecked += 1
    except csv.Error as exc:
        problems.append(_unreadable(end + 1, exc))
    if len(problems) > MAX_PROBLEMS or unchecked:
        del problems[MAX_PROBLEMS:]
        more = f" and {unchecked:,} more rows were not checked" if unchecked else ""
        problems.append(
            Problem(
                "file",
                "too_many_problems",
                f"only the first {MAX_PROBLEMS:,} problems are listed{more}; correct these "
                "and load the file again",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    if checker is None or not checker.lines:
        raise _empty()
    return checker.lines


__all__ = ["COLUMNS", "CsvLine", "ParsedTransfers", "parse_transfers"]
