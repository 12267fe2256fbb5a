"""Tables of findings and cases as CSV, XLSX and PDF, for analysts to take away.

CSV goes through :func:`veritrail.declarations.csvsafe.write_csv`, so no cell
runs as a formula when opened. The PDF uses Noto Sans from the system fonts
(installed with the browser fonts by ``make setup``), so state names and
arrows print; without it, the PDF falls back to a core font and replaces
characters that font lacks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font

from veritrail.declarations.csvsafe import neutralise, write_csv
from veritrail.errors import InputError

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_FONT = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
_BOLD = Path("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf")

Cell = str | int | float | None


def media_type(fmt: str) -> str:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise InputError(
            f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None


def render(fmt: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table in ``fmt`` (csv, xlsx or pdf)."""
    media_type(fmt)
    if fmt == "csv":
        return write_csv([list(headers), *[list(r) for r in rows]])
    if fmt == "xlsx":
        return _xlsx(title, headers, rows)
    return _pdf(title, headers, rows)


def _xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has its first sheet
    sheet.title = title[:31].replace("/", "-") or "Sheet1"
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Numbers stay numbers; text is neutralised like the CSV.
        sheet.append([v if isinstance(v, int | float) or v is None else neutralise(v) for v in row])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf(title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    if _FONT.exists() and _BOLD.exists():
        pdf.add_font("Noto", "", str(_FONT))
        pdf.add_font("Noto", "B", str(_BOLD))
        family = "Noto"

        def text(value: Cell) -> str:
            return "" if value is None else str(value)

    else:
        family = "Helvetica"

        def text(value: Cell) -> str:
            raw = "" if value is None else str(value)
            return raw.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, "B", 13)
    pdf.cell(0, 8, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pdf.cell(0, 5, f"Veritrail, {stamp}; {len(rows):,} rows", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as table:
        heading = table.row()
        for header in headers:
            heading.cell(text(header))
        for row in rows:
            line = table.row()
            for value in row:
                line.cell(text(value))
    return bytes(pdf.output())


__all__ = ["FORMATS", "media_type", "render"]
