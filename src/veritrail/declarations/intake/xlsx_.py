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

Locations read ``lines!C12``. The workbook is checked as a zip archive before
anything is parsed, and read as a stream with a budget of cells (see
:mod:`._ooxml`). Cell values keep their type: text, whole numbers as ``int``,
other numbers as :class:`~decimal.Decimal`, booleans, and date cells as ISO
``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from xml.parsers import expat

from openpyxl.utils import get_column_letter

from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import UnsupportedFormat
from veritrail.regimes.loader import Registry

from ._common import Limits, fold, is_empty
from ._grid import Assembler, Block, Line, section_for
from ._ooxml import SAVE_AS_XLSX, Budget, Workbook, check_zip, iter_rows, open_workbook

HEADER_SHEET = "declaration"
CODES_SHEETS = ("codes", "code_lists")  # template code lists; the second if a section is "codes"
_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    KeyError,
    IndexError,
    OSError,
    expat.ExpatError,
)


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


def _block(book: Workbook, name: str, part: str, budget: Budget) -> Block:
    block = Block(name=name, number=1)
    for number, cells in iter_rows(book, part, budget):
        while cells and is_empty(cells[-1]):
            cells.pop()
        if cells:
            block.lines.append(Line(number, cells))
    return block


def parse_xlsx(data: bytes, *, registry: Registry, limits: Limits) -> ParsedDeclaration:
    """Read an XLSX declaration; raise an :class:`~veritrail.errors.InputError` if unreadable."""
    try:
        return _parse(data, registry, limits)
    except _BROKEN as exc:
        raise UnsupportedFormat(
            f"the workbook cannot be read ({type(exc).__name__}: {str(exc)[:120]}). {SAVE_AS_XLSX}"
        ) from exc


def _parse(data: bytes, registry: Registry, limits: Limits) -> ParsedDeclaration:
    archive = check_zip(data, limits)
    with archive:
        budget = Budget(limits)
        book = open_workbook(archive, budget)
        places = XlsxPlaces()
        asm = Assembler(registry, places, "xlsx")
        by_name = {fold(name): (name, part) for name, part in reversed(book.sheets)}
        if HEADER_SHEET not in by_name:
            found = ", ".join(repr(name) for name, _ in book.sheets) or "none"
            asm.problem(
                "declaration!A1",
                "no_declaration_sheet",
                f"the workbook has no sheet named 'declaration' (its sheets: {found}); "
                "that sheet gives regime, type, period and state. Start from a template.",
            )
            raise asm.fail()
        dtype = asm.header(_block(book, *by_name[HEADER_SHEET], budget))
        if dtype is None:
            raise asm.fail()
        blocks: list[Block] = []
        for name, part in book.sheets:
            key = fold(name)
            if key == HEADER_SHEET:
                continue
            known = section_for(name, dtype) is not None
            if key in CODES_SHEETS and not known:
                continue
            if not known:
                blocks.append(Block(name=name, number=1))  # reported as unknown, never read
            else:
                blocks.append(_block(book, name, part, budget))
        asm.sections(blocks, dtype)
        return asm.result()


__all__ = ["XlsxPlaces", "parse_xlsx", "sheet_ref"]
