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
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from veritrail.analysis.transfer_cells import (
    Fail,
    RegimeCells,
    cell_value,
    check_direction,
    check_quantity,
    check_state,
    check_year,
    kept,
    listed,
    show,
    transfer_rules,
)
from veritrail.analysis.units import convert
from veritrail.declarations.intake._common import decode_text, fold
from veritrail.errors import Problem, TooLarge, UnsupportedFormat, ValidationFailed
from veritrail.regimes.loader import Registry

COLUMNS = tuple("regime year reporting_state partner_state direction item quantity unit".split())
MAX_PROBLEMS = 1_000

_DELIMITERS = (",", ";", "\t")
# [0-9], not \d: \d also takes Arabic-Indic and other digits that no other system reads.
_EXPECTED = ", ".join(COLUMNS)


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
        self.rules = transfer_rules(registry)
        self.width = max(position for position, _ in columns.values()) + 1
        self.at = tuple(columns[name][0] for name in COLUMNS)
        self.headers = {name: written for name, (_, written) in columns.items()}
        self.year = partial(check_year, last=datetime.now(UTC).year + 1)
        self.reporting = partial(check_state, what="reporting state")
        self.partner = partial(check_state, what="partner state")
        self.known: dict[str, RegimeCells] = {}
        self.regimes: dict[str, RegimeCells | Fail] = {}
        self.years: dict[str, int | Fail] = {}
        self.reporting_states: dict[str, str | Fail] = {}
        self.partner_states: dict[str, str | Fail] = {}
        self.directions: dict[str, str | Fail] = {}
        self.quantities: dict[str, tuple[str, Decimal] | Fail] = {}
        self.problems = problems
        self.lines: list[CsvLine] = []
        self.seen: dict[tuple[str, int, str, str, str, str], int] = {}  # -> its first row

    def regime(self, text: str) -> RegimeCells | Fail:
        accepted = f"give {listed(list(self.rules))}"
        value = text.casefold()
        rule = self.rules.get(value)
        if rule is not None:  # one RegimeCells however the regime is spelt
            return self.known.get(value) or self.known.setdefault(
                value, RegimeCells.of(value, rule, self.registry)
            )
        if not text:
            return Fail("required", f"no regime; {accepted}")
        if value in self.registry.packs:
            return Fail(
                "no_transfers", f"Veritrail reconciles no transfers under {text}; {accepted}"
            )
        return Fail("unknown_regime", f"unknown regime {show(text)}; {accepted}")

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
        regime = self.regimes.get(cell) or kept(self.regimes, cell, self.regime)
        cell = record[at[1]]
        year = self.years.get(cell) or kept(self.years, cell, self.year)
        cell = record[at[2]]
        reporting = self.reporting_states.get(cell) or kept(
            self.reporting_states, cell, self.reporting
        )
        cell = record[at[3]]
        partner = self.partner_states.get(cell) or kept(self.partner_states, cell, self.partner)
        if partner == reporting and not isinstance(partner, Fail):
            partner = Fail(
                "same_state",
                f"the partner state is the reporting state ({partner}); give the "
                "destination of an export or the origin of an import",
            )
        cell = record[at[4]]
        direction = self.directions.get(cell) or kept(self.directions, cell, check_direction)
        item = unit = None  # what they may be depends on the regime
        if not isinstance(regime, Fail):
            cell = record[at[5]]
            item = regime.checked.get(cell) or kept(regime.checked, cell, regime.item)
            cell = record[at[7]]
            unit = regime.units.get(cell) or kept(regime.units, cell, regime.unit)
        cell = record[at[6]]
        quantity = self.quantities.get(cell)
        if quantity is None:
            if len(self.quantities) >= 100_000:
                self.quantities.clear()  # they vary more than other cells: keep a few
            quantity = kept(self.quantities, cell, check_quantity)
        if unit == "items" and not isinstance(quantity, Fail) and quantity[1] % 1:
            quantity = Fail(
                "not_whole", f"{quantity[0]} items: a number of items is a whole number"
            )
        if (
            isinstance(regime, Fail)
            or isinstance(year, Fail)
            or isinstance(reporting, Fail)
            or isinstance(partner, Fail)
            or isinstance(direction, Fail)
            or isinstance(item, Fail)
            or isinstance(quantity, Fail)
            or isinstance(unit, Fail)
            or item is None
            or unit is None
        ):
            found = (regime, year, reporting, partner, direction, item, quantity, unit)
            for column, value in zip(COLUMNS, found, strict=True):
                if isinstance(value, Fail):
                    where = f'row {number}, column "{self.headers[column]}"'
                    self.problems.append(Problem(where, value.code, value.message, field=column))
            return
        key = (regime.id, year, reporting, partner, direction, item)
        first = self.seen.setdefault(key, number)
        if first != number:
            self.problems.append(_twice(number, first, cell_value(record[at[5]]), key))
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
    grouped = f"; {show(written)} counts as {item}" if written != item else ""
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
                Problem(where, "unknown_column", f"unknown column {show(written)}; {expected}")
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
