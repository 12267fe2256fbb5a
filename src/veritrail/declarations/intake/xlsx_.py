"""XLSX intake: one declaration as a workbook with one sheet per section.

- Sheet ``declaration``: column A the key (regime, type, period, state, id,
  nothing_to_declare), column B its value; an optional first row ``key |
  value``; further columns are ignored (templates put help there).
- One sheet per section, named by the section id (cut to 31 characters, the
  most Excel allows). Form sheets: column A the field id or label, column B the
  value, an optional first row ``field | value``, further columns ignored.
  Table sheets: row 1 the field ids or labels, then one row per entry.
- A sheet named ``codes`` (the code lists of the template; ``code_lists`` when a
  section is called ``codes``) is ignored unless a section has that id. Any
  other sheet is reported as unknown.

Locations read ``lines!C12``. Sheets are read with python-calamine (see
``docs/decisions/0005-xlsx-reading.md``), after the upload has been checked as
a zip archive and its sheets measured against a budget of cells (see
:mod:`._precheck`). Cell values keep their type: text, whole numbers as
``int``, other numbers as :class:`~decimal.Decimal`, booleans, and date cells
as ISO ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import TooLarge, UnsupportedFormat
from veritrail.regimes.loader import Registry

from ._common import Limits, fold, is_empty
from ._grid import Assembler, Block, Line, section_for
from ._precheck import SAVE_AS_XLSX, prepare, too_many_cells

HEADER_SHEET = "declaration"
CODES_SHEETS = ("codes", "code_lists")  # template code lists; the second if a section is "codes"
_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_EXACT_INT = 2**53  # floats past this are not whole numbers anyone typed
_BROKEN = (CalamineError, ValueError, OverflowError, TypeError, UnicodeError)


def sheet_ref(name: str) -> str:
    """A sheet name as a formula writes it: quoted unless plain."""
    return name if _PLAIN_SHEET.fullmatch(name) else "'" + name.replace("'", "''") + "'"


class XlsxPlaces:
    def __init__(self) -> None:
        self._refs: dict[str, str] = {}

    def _ref(self, block: Block) -> str:
        ref = self._refs.get(block.name)
        if ref is None:
            ref = self._refs[block.name] = sheet_ref(block.name) + "!"
        return ref

    def block(self, block: Block) -> str:
        return f"{self._ref(block)}A1"

    def row(self, block: Block, number: int) -> str:
        return f"{self._ref(block)}A{number}"

    def cell(self, block: Block, number: int, column: int, header: str | None) -> str:
        return f"{self._ref(block)}{get_column_letter(column + 1)}{number}"


def _moment(value: date | time | timedelta) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    seconds = int(value.total_seconds())  # a duration cell, such as [h]:mm:ss
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Reader:
    """Sheets of one workbook as blocks of rows, within one budget of cells."""

    def __init__(self, book: CalamineWorkbook, limits: Limits) -> None:
        self.book = book
        self.limits = limits
        self.left = limits.max_spreadsheet_cells

    def block(self, name: str) -> Block:
        block = Block(name=name, number=1)
        sheet = self.book.get_sheet_by_name(name)
        end = sheet.end
        if end is None:
            return block
        # From A1, as to_python(skip_empty_area=False) builds it: refuse before it does.
        self.left -= (end[0] + 1) * (end[1] + 1)
        if self.left < 0:
            raise too_many_cells(self.limits.max_spreadsheet_cells)
        for number, raw in enumerate(sheet.to_python(skip_empty_area=False), start=1):
            cells = self._cells(raw, name, number)
            while cells and is_empty(cells[-1]):
                cells.pop()
            if cells:
                block.lines.append(Line(number, cells))
        return block

    def _cells(self, raw: list[Any], sheet: str, number: int) -> list[Any]:
        max_chars = self.limits.max_cell_chars
        cells: list[Any] = []
        for column, value in enumerate(raw):
            kind = type(value)
            if kind is str:
                if len(value) > max_chars:
                    raise TooLarge(
                        f"cell {sheet_ref(sheet)}!{get_column_letter(column + 1)}{number} holds "
                        f"more than {max_chars:,} characters, more than a spreadsheet cell can",
                        limit=max_chars,
                    )
                cells.append(value or None)
            elif kind is float:
                if value.is_integer() and abs(value) < _EXACT_INT:
                    cells.append(int(value))
                else:
                    # Excel writes 12.300000000000001 for 12.3; repr gives back 12.3.
                    cells.append(Decimal(repr(value)))
            elif kind is bool or kind is int:
                cells.append(value)
            else:
                cells.append(_moment(value))
        return cells


def parse_xlsx(data: bytes, *, registry: Registry, limits: Limits) -> ParsedDeclaration:
    """Read an XLSX declaration; raise an :class:`~veritrail.errors.InputError` if unreadable."""
    checked = prepare(data, limits)
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(checked)) as book:
            return _parse(_Reader(book, limits), registry)
    except _BROKEN as exc:
        raise _unreadable(exc) from exc
    except BaseException as exc:
        # A bug in the Rust parser surfaces as pyo3's PanicException, a BaseException.
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable(exc) from exc


def _unreadable(exc: BaseException) -> UnsupportedFormat:
    return UnsupportedFormat(
        f"the workbook cannot be read ({type(exc).__name__}: {str(exc)[:120]}). {SAVE_AS_XLSX}"
    )


def _parse(reader: _Reader, registry: Registry) -> ParsedDeclaration:
    sheets = [s.name for s in reader.book.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
    places = XlsxPlaces()
    asm = Assembler(registry, places, "xlsx")
    by_name = {fold(name): name for name in reversed(sheets)}
    if HEADER_SHEET not in by_name:
        found = ", ".join(repr(name) for name in sheets) or "none"
        asm.problem(
            "declaration!A1",
            "no_declaration_sheet",
            f"the workbook has no sheet named 'declaration' (its sheets: {found}); "
            "that sheet gives regime, type, period and state. Start from a template.",
        )
        raise asm.fail()
    dtype = asm.header(reader.block(by_name[HEADER_SHEET]))
    if dtype is None:
        raise asm.fail()
    blocks: list[Block] = []
    for name in sheets:
        key = fold(name)
        if key == HEADER_SHEET:
            continue
        known = section_for(name, dtype) is not None
        if key in CODES_SHEETS and not known:
            continue
        if not known:
            blocks.append(Block(name=name, number=1))  # reported as unknown, never read
        else:
            blocks.append(reader.block(name))
    asm.sections(blocks, dtype)
    return asm.result()


__all__ = ["XlsxPlaces", "parse_xlsx", "sheet_ref"]
