"""CSV intake: one declaration as blocks of rows in one UTF-8 file.

The layout (also in ``docs/intake-formats.md``)::

    # Lines whose first cell starts with # are comments; blank lines are ignored.
    [declaration]
    key,value
    regime,cwc
    type,adnd
    period,2025
    state,FRA
    id,
    nothing_to_declare,no

    [site]                      <- a form section: field,value rows
    field,value
    name,Example plant

    [lines]                     <- a table section: a header row, then data rows
    cas,activity,partner_state,quantity,unit,remarks
    75-44-5,export,DEU,12.5,t,

- A block starts with a row whose first cell is ``[name]`` and the others are
  empty. ``[declaration]`` comes first; every other block is named by a section
  id of the declaration type. The ``key,value`` and ``field,value`` rows are
  optional headers.
- Headers may be field ids or field labels (in any of the six languages, case
  and spacing ignored).
- The separator is found from the file: comma, semicolon (what Excel writes in
  many European locales) or tab. Fields are quoted the usual way (RFC 4180).
- The file must be UTF-8, with or without a byte order mark; other encodings
  are named in the error.
- Trailing empty cells (Excel pads rows with them) are ignored. A leading
  apostrophe put before ``= + - @`` by Veritrail's own CSV exports (see
  :mod:`veritrail.declarations.csvsafe`) is taken off again.

Locations read ``row 12, column "quantity"`` (the header as written), or
``row 3, column 2`` in key/value blocks. Rows are counted as a spreadsheet
shows them: every record of the file, blank and comment rows included.
"""

from __future__ import annotations

import csv
import io
import re

from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import Problem, TooLarge, ValidationFailed
from veritrail.regimes.loader import Registry

from ._common import Limits, decode_text, fold
from ._grid import Block, Line, assemble

_MARKER = re.compile(r"^\s*\[\s*([^\]\[]*?)\s*\]\s*$")
_DELIMITERS = (",", ";", "\t")
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
HEADER_BLOCK = "declaration"


class CsvPlaces:
    def block(self, block: Block) -> str:
        return f"row {block.number}"

    def row(self, block: Block, number: int) -> str:
        return f"row {number}"

    def cell(self, block: Block, number: int, column: int, header: str | None) -> str:
        if header:
            return f'row {number}, column "{header}"'
        return f"row {number}, column {column + 1}"


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one found on most of the first content lines."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    seen = 0
    for raw in text[:65536].splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", '"#')) or _MARKER.match(line.strip(",;\t")):
            continue
        for delimiter in _DELIMITERS:
            counts[delimiter] += delimiter in line
        seen += 1
        if seen >= 50:
            break
    best = max(_DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties: comma
    return best if counts[best] else ","


def _value(cell: str) -> str:
    return cell[1:] if cell.startswith(_NEUTRALISED) else cell


def parse_csv(data: bytes, *, registry: Registry, limits: Limits) -> ParsedDeclaration:
    """Read a CSV declaration; raise an :class:`~veritrail.errors.InputError` if unreadable."""
    text = decode_text(data, what="CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    places = CsvPlaces()
    problems: list[Problem] = []
    header: Block | None = None
    blocks: list[Block] = []
    current: Block | None = None
    cells_read = 0
    number = 0
    stray = False
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ValidationFailed(
                [
                    Problem(
                        f"row {number + 1}",
                        "csv_syntax",
                        f"the CSV cannot be read here: {exc}. "
                        "Check the quotes: a quoted value must end with a quote, and a quote "
                        'inside it is written twice ("").',
                    )
                ],
                "the file is not valid CSV",
            ) from exc
        number += 1
        cells_read += max(len(record), 1)
        if cells_read > limits.max_spreadsheet_cells:
            raise TooLarge(
                f"the CSV has more than {limits.max_spreadsheet_cells:,} cells, the most "
                "accepted in one upload; split the declaration",
                limit=limits.max_spreadsheet_cells,
            )
        while record and not record[-1].strip():
            record.pop()
        if not record or record[0].lstrip().startswith("#"):
            continue
        marker = _MARKER.match(record[0]) if len(record) == 1 else None
        if marker and not marker.group(1):
            problems.append(
                Problem(
                    f"row {number}",
                    "unnamed_block",
                    "a block without a name; write [declaration] or [section id]",
                )
            )
        if marker:
            current = Block(name=marker.group(1), number=number)
            if fold(current.name) == HEADER_BLOCK:
                if header is not None:
                    problems.append(
                        Problem(
                            f"row {number}",
                            "duplicate_section",
                            f"a second [declaration] block (the first is at row "
                            f"{header.number}); keep one",
                        )
                    )
                elif blocks:
                    problems.append(
                        Problem(
                            f"row {number}",
                            "declaration_not_first",
                            "the [declaration] block must come before the section blocks",
                        )
                    )
                header = header or current
            else:
                blocks.append(current)
            continue
        if current is None:
            if not stray:
                problems.append(
                    Problem(
                        f"row {number}",
                        "outside_block",
                        "a row before the first block; a Veritrail CSV starts "
                        "with a [declaration] row (a template shows the layout)",
                    )
                )
            stray = True
            continue
        current.lines.append(Line(number, [_value(c) for c in record]))
    if problems:
        raise ValidationFailed(problems)
    return assemble(
        header,
        blocks,
        registry=registry,
        places=places,
        source_format="csv",
        missing_header=(
            "row 1",
            "no [declaration] block; a Veritrail CSV starts with a "
            "[declaration] row followed by regime, type, period and state rows",
        ),
    )


__all__ = ["parse_csv", "sniff_delimiter"]
