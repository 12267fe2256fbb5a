"""A version of a declaration as CSV or XLSX, laid out as the intake reads it.

The export takes the document a reader may see (see :mod:`veritrail.declarations.redact`):
a withheld annex keeps its block (CSV) or sheet (XLSX), holding only the marker::

    [plants]
    withheld,classification
    yes,highly_protected

so that the reader sees that something is withheld and at which level, and so that a
redacted export cannot be resubmitted by mistake as if the annex were empty (the intake
refuses the unknown ``withheld`` field). A complete export validates and amends as it is.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from veritrail.declarations.csvsafe import write_csv
from veritrail.declarations.document import HEADER_KEYS, MEDIA_TYPES
from veritrail.declarations.redact import WITHHELD, is_withheld
from veritrail.regimes.model import DeclarationType, SectionKind, SectionSpec

FORMATS = ("csv", "xlsx")
_BOLD = Font(bold=True)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _header(document: Mapping[str, Any]) -> list[list[Any]]:
    return [[key, _cell(document.get(key))] for key in HEADER_KEYS if key in document]


def _section_rows(spec: SectionSpec, value: Any) -> list[list[Any]]:
    """The rows of one section's block or sheet, below its name."""
    if is_withheld(value):
        return [[WITHHELD, "classification"], ["yes", value.get("classification")]]
    if spec.kind is SectionKind.FORM:
        values = value if isinstance(value, Mapping) else {}
        return [["field", "value"], *([f.id, _cell(values.get(f.id))] for f in spec.fields)]
    rows = value if isinstance(value, list) else []
    return [
        [f.id for f in spec.fields],
        *([_cell(row.get(f.id)) for f in spec.fields] for row in rows if isinstance(row, Mapping)),
    ]


def version_csv(document: Mapping[str, Any], dtype: DeclarationType) -> bytes:
    """The CSV block layout of ``docs/intake-formats.md``, one block per section."""
    data = document.get("data")
    data = data if isinstance(data, Mapping) else {}
    rows: list[list[Any]] = [
        [f"# Veritrail declaration: {dtype.key} - {dtype.title.en}"],
        ["[declaration]"],
        ["key", "value"],
        *_header(document),
    ]
    for spec in dtype.sections:
        rows += [[], [f"[{spec.id}]"], *_section_rows(spec, data.get(spec.id))]
    return write_csv(rows)


def _put(sheet: Worksheet, row: int, col: int, value: Any) -> None:
    cell = sheet.cell(row, col)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text from a declaration is never a formula


def _write(sheet: Worksheet, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
    for cell in sheet[1]:
        cell.font = _BOLD
    sheet.freeze_panes = "A2"


def version_xlsx(document: Mapping[str, Any], dtype: DeclarationType) -> bytes:
    """A workbook: the ``declaration`` sheet, then one sheet per section."""
    data = document.get("data")
    data = data if isinstance(data, Mapping) else {}
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # noqa: S101 - a new workbook always has one sheet
    first.title = "declaration"
    _write(first, [["key", "value"], *_header(document)])
    for spec in dtype.sections:
        _write(book.create_sheet(spec.id[:31]), _section_rows(spec, data.get(spec.id)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_version(
    document: Mapping[str, Any], dtype: DeclarationType, format: str
) -> tuple[bytes, str]:
    """The document in ``format`` (csv or xlsx) and its media type."""
    if format == "csv":
        return version_csv(document, dtype), MEDIA_TYPES["csv"]
    if format == "xlsx":
        return version_xlsx(document, dtype), MEDIA_TYPES["xlsx"]
    raise ValueError(f"unknown export format {format!r}; use one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "export_version", "version_csv", "version_xlsx"]
