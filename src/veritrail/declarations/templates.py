"""Templates and schemas generated from a declaration type of a regime pack.

Every function takes the :class:`~veritrail.regimes.model.DeclarationType` and
the :class:`~veritrail.regimes.loader.Registry` (for its code lists), so a new
declaration type gets its JSON Schema, JSON, CSV and XLSX templates with no
code. Templates are laid out exactly as :mod:`veritrail.declarations.intake`
reads them; ``prefill`` (a canonical document, typically last period's) fills
in the data, never the ``id``.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from veritrail.declarations.csvsafe import write_csv
from veritrail.declarations.document import FORMAT
from veritrail.declarations.intake.xlsx_ import CODES_SHEETS
from veritrail.reference import states
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import (
    CodeEntry,
    DeclarationType,
    FieldSpec,
    FieldType,
    SectionKind,
    SectionSpec,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
INTEGER_PATTERN = r"^\s*[+-]?\d+\s*$"
_TEXT_TYPES = {FieldType.TEXT, FieldType.CODE, FieldType.STATE, FieldType.CHOICE, FieldType.DATE}
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_EXCEL_ROWS = 1_048_576


# --- shared helpers ----------------------------------------------------------


def allowed_codes(spec: FieldSpec, dtype: DeclarationType, registry: Registry) -> list[CodeEntry]:
    """Entries of a code field's list that the field accepts (``list_where`` applied)."""
    code_list = registry.code_list(dtype.regime, spec.code_list or "")
    where = spec.list_where or {}
    return [
        e
        for e in code_list.entries
        if all(str(code_list.attribute(e, k)) in v for k, v in where.items())
    ]


def _state_codes() -> list[tuple[str, str]]:
    return sorted((s.alpha3, s.name("en")) for s in states.all_states())


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _prefill(dtype: DeclarationType, prefill: dict[str, Any] | None) -> dict[str, Any]:
    """The part of ``prefill``'s data that this declaration type knows."""
    data = (prefill or {}).get("data") or {}
    out: dict[str, Any] = {}
    if not isinstance(data, dict):
        return out
    for section in dtype.sections:
        ids = {f.id for f in section.fields}
        value = data.get(section.id)
        if section.kind is SectionKind.FORM and isinstance(value, dict):
            out[section.id] = {k: v for k, v in value.items() if k in ids}
        elif section.kind is SectionKind.TABLE and isinstance(value, list):
            out[section.id] = [
                {k: v for k, v in row.items() if k in ids} for row in value if isinstance(row, dict)
            ]
    return out


def _header_values(
    dtype: DeclarationType, period: int | None, state: str | None, prefill: dict[str, Any] | None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "regime": dtype.regime,
        "type": dtype.id,
        "period": period,
        "state": state or (prefill or {}).get("state"),
    }
    if dtype.nothing_to_declare:
        values["nothing_to_declare"] = False
    return values


def _cell_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def describe(spec: FieldSpec, dtype: DeclarationType, registry: Registry) -> str:
    """What a field accepts, in English, for comments and help columns."""
    match spec.type:
        case FieldType.CHOICE:
            what = "one of: " + ", ".join(f"{c.value} ({c.label.en})" for c in spec.choices or [])
        case FieldType.CODE:
            title = registry.code_list(dtype.regime, spec.code_list or "").title.en
            what = f"a code of the list {spec.code_list} ({title})"
        case FieldType.STATE:
            what = "a state, as ISO 3166-1 alpha-3 code (FRA) or name"
        case FieldType.BOOLEAN:
            what = "yes or no"
        case FieldType.DATE:
            what = "a date, YYYY-MM-DD"
        case FieldType.YEAR:
            what = "a year, such as 2025"
        case FieldType.INTEGER:
            what = "a whole number"
        case FieldType.DECIMAL | FieldType.LATITUDE | FieldType.LONGITUDE:
            what = "a number (decimal point: .)"
        case _:
            what = f"text, at most {spec.max_length} characters"
    bounds = [
        f"≥ {spec.min}" if spec.min is not None else "",
        f"≤ {spec.max}" if spec.max is not None else "",
    ]
    if any(bounds):
        what += " " + " and ".join(b for b in bounds if b)
    if spec.unit:
        what += f", in {spec.unit}"
    return what


def _requirement(spec: FieldSpec) -> str:
    if spec.required:
        return "Required."
    if spec.required_if:
        values = ", ".join(str(v) for v in spec.required_if.in_)
        return f"Required when {spec.required_if.field} is {values}."
    return "Optional."


# --- JSON ----------------------------------------------------------------------


def _field_schema(spec: FieldSpec, dtype: DeclarationType, registry: Registry) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": spec.label.en}
    if spec.help:
        schema["description"] = spec.help.en
    bounds: dict[str, Any] = {}
    lo, hi = spec.min, spec.max
    if spec.type in (FieldType.LATITUDE, FieldType.LONGITUDE):
        limit = Decimal(90 if spec.type is FieldType.LATITUDE else 180)
        lo = max(lo, -limit) if lo is not None else -limit
        hi = min(hi, limit) if hi is not None else limit
    if lo is not None:
        bounds["minimum"] = _json_number(lo)
    if hi is not None:
        bounds["maximum"] = _json_number(hi)
    match spec.type:
        case FieldType.TEXT:
            schema.update(type="string", maxLength=spec.max_length)
        case FieldType.INTEGER:
            schema["anyOf"] = [
                {"type": "integer", **bounds},
                {"type": "string", "pattern": INTEGER_PATTERN},
            ]
        case FieldType.DECIMAL | FieldType.LATITUDE | FieldType.LONGITUDE:
            schema["anyOf"] = [
                {"type": "number", **bounds},
                {"type": "string", "pattern": DECIMAL_PATTERN},
            ]
        case FieldType.DATE:
            schema.update(type="string", format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")
        case FieldType.YEAR:
            schema.update(type="integer", minimum=1900, maximum=2200)
        case FieldType.BOOLEAN:
            schema["type"] = "boolean"
        case FieldType.CHOICE:
            schema.update(type="string", enum=spec.choice_values())
        case FieldType.STATE:
            schema.update(type="string", enum=[code for code, _ in _state_codes()])
        case FieldType.CODE:
            codes = allowed_codes(spec, dtype, registry)
            schema.update(type="string", enum=[e.code for e in codes])
    return schema


def _object_schema(
    section: SectionSpec, dtype: DeclarationType, registry: Registry
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.id: _field_schema(f, dtype, registry) for f in section.fields},
    }
    required = [f.id for f in section.fields if f.required]
    if required:
        schema["required"] = required
    conditions = [
        {
            "if": {
                "properties": {f.required_if.field: {"enum": list(f.required_if.in_)}},
                "required": [f.required_if.field],
            },
            "then": {"required": [f.id]},
        }
        for f in section.fields
        if f.required_if
    ]
    if conditions:
        schema["allOf"] = conditions
    return schema


def _section_schema(
    section: SectionSpec, dtype: DeclarationType, registry: Registry
) -> dict[str, Any]:
    title = {"title": section.title.en}
    if section.help:
        title["description"] = section.help.en
    if section.kind is SectionKind.FORM:
        return {**title, **_object_schema(section, dtype, registry)}
    return {
        **title,
        "type": "array",
        "minItems": section.min_rows,
        "maxItems": section.max_rows,
        "items": _object_schema(section, dtype, registry),
    }


def json_schema(dtype: DeclarationType, registry: Registry) -> dict[str, Any]:
    """JSON Schema (2020-12) of the canonical document of ``dtype``."""
    needed = [
        s.id
        for s in dtype.sections
        if s.min_rows or (s.kind is SectionKind.FORM and any(f.required for f in s.fields))
    ]
    data: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {s.id: _section_schema(s, dtype, registry) for s in dtype.sections},
    }
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:veritrail:declaration:{dtype.regime}:{dtype.id}",
        "title": dtype.title.en,
        "type": "object",
        "additionalProperties": False,
        "required": ["regime", "type", "period", "state"],
        "properties": {
            "format": {"const": FORMAT},
            "regime": {"const": dtype.regime},
            "type": {"const": dtype.id},
            "period": {"title": "Calendar year reported on", "type": "integer", "minimum": 1946},
            "state": {
                "title": "Declaring state (ISO 3166-1 alpha-3)",
                "type": "string",
                "enum": [code for code, _ in _state_codes()],
            },
            "id": {
                "title": "Identifier of the declaration this one amends",
                "type": "string",
                "minLength": 1,
                "maxLength": 40,
            },
            "nothing_to_declare": {"type": "boolean"}
            if dtype.nothing_to_declare
            else {"const": False},
            "data": data,
        },
    }
    if dtype.description:
        schema["description"] = dtype.description.en
    filled = {"required": ["data"], "properties": {"data": {"required": needed}}}
    if dtype.nothing_to_declare:
        schema["if"] = {
            "properties": {"nothing_to_declare": {"const": True}},
            "required": ["nothing_to_declare"],
        }
        schema["else"] = filled
    else:
        schema["allOf"] = [filled]
    return schema


def json_template(
    dtype: DeclarationType,
    registry: Registry,
    *,
    period: int | None = None,
    state: str | None = None,
    prefill: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A canonical document with the header filled in and the data empty (or prefilled)."""
    filled = _prefill(dtype, prefill)
    data = {
        s.id: filled.get(s.id, {} if s.kind is SectionKind.FORM else []) for s in dtype.sections
    }
    return {"format": FORMAT, **_header_values(dtype, period, state, prefill), "data": data}


# --- CSV -----------------------------------------------------------------------


def csv_template(
    dtype: DeclarationType,
    registry: Registry,
    *,
    period: int | None = None,
    state: str | None = None,
    prefill: dict[str, Any] | None = None,
) -> bytes:
    """The CSV block layout of ``docs/intake-formats.md``, with help as # comment rows."""
    header = _header_values(dtype, period, state, prefill)
    filled = _prefill(dtype, prefill)
    rows: list[list[Any]] = [
        [f"# Veritrail declaration: {dtype.key} - {dtype.title.en}"],
        [f"# {dtype.reference}"],
        ["# Rows starting with # are ignored. Save as CSV UTF-8."],
        ["[declaration]"],
        ["key", "value"],
        *([key, _cell_text(value)] for key, value in header.items()),
        ["id", ""],
    ]
    for section in dtype.sections:
        rows += [[], [f"# {section.title.en}"]]
        rows += [
            [f"# {f.id}: {f.label.en}. {_requirement(f)} {describe(f, dtype, registry)}"]
            for f in section.fields
        ]
        rows.append([f"[{section.id}]"])
        if section.kind is SectionKind.FORM:
            values = filled.get(section.id, {})
            rows.append(["field", "value"])
            rows += [[f.id, _cell_text(values.get(f.id))] for f in section.fields]
        else:
            rows.append([f.id for f in section.fields])
            rows += [
                [_cell_text(row.get(f.id)) for f in section.fields]
                for row in filled.get(section.id, [])
            ]
    return write_csv(rows)


# --- XLSX ----------------------------------------------------------------------


class _Codes:
    """The ``codes`` sheet: one pair of columns (code, name) per list used."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.ref = sheet.title  # a plain identifier: never needs quoting
        self.ranges: dict[tuple[str, ...], str] = {}

    def range_for(self, title: str, entries: list[tuple[str, str]]) -> str:
        key = (title, *(code for code, _ in entries))
        if key not in self.ranges:
            col = len(self.ranges) * 3 + 1
            code_col, name_col = get_column_letter(col), get_column_letter(col + 1)
            self.sheet.cell(1, col, title).font = _BOLD
            self.sheet.cell(1, col + 1, "name").font = _BOLD
            for row, (code, name) in enumerate(entries, start=2):
                _put(self.sheet, row, col, code)
                _put(self.sheet, row, col + 1, name)
            self.sheet.column_dimensions[code_col].width = 14
            self.sheet.column_dimensions[name_col].width = 40
            last = len(entries) + 1
            self.ranges[key] = f"{self.ref}!${code_col}$2:${code_col}${last}"
        return self.ranges[key]


def _put(sheet: Worksheet, row: int, col: int, value: Any) -> None:
    cell = sheet.cell(row, col)
    cell.value = _cell_text(value)
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # text from a declaration is never a formula


def _validation(
    spec: FieldSpec, dtype: DeclarationType, registry: Registry, codes: _Codes
) -> DataValidation | None:
    formula: str | None = None
    if spec.type is FieldType.CHOICE:
        inline = ",".join(spec.choice_values())
        formula = (
            f'"{inline}"'
            if len(inline) < 250 and '"' not in inline
            else "="
            + (codes.range_for(spec.id, [(c.value, c.label.en) for c in spec.choices or []]))
        )
    elif spec.type is FieldType.BOOLEAN:
        formula = '"yes,no"'
    elif spec.type is FieldType.STATE:
        formula = "=" + codes.range_for("state", _state_codes())
    elif spec.type is FieldType.CODE:
        entries = [(e.code, e.name.en) for e in allowed_codes(spec, dtype, registry)]
        formula = "=" + codes.range_for(spec.code_list or spec.id, entries)
    if formula is None:
        return None
    check = DataValidation(type="list", formula1=formula, allow_blank=True)
    check.showErrorMessage = True
    check.errorStyle = "warning" if spec.type is FieldType.STATE else "stop"
    check.errorTitle = spec.label.en[:32]
    check.error = f"Expected {describe(spec, dtype, registry)}"[:255]
    return check


def _comment(spec: FieldSpec, dtype: DeclarationType, registry: Registry) -> Comment:
    parts = [
        spec.label.en,
        spec.label.zh or "",
        _requirement(spec),
        f"Expected: {describe(spec, dtype, registry)}.",
    ]
    if spec.help:
        parts += [spec.help.en, spec.help.zh or ""]
    comment = Comment("\n".join(p for p in parts if p), "Veritrail")
    comment.width, comment.height = 320, 160
    return comment


def _head(sheet: Worksheet, row: int, col: int, value: str) -> None:
    cell = sheet.cell(row, col, value)
    cell.font, cell.fill = _BOLD, _HEAD_FILL


def _add_check(sheet: Worksheet, check: DataValidation | None, ref: str) -> None:
    if check is not None:
        sheet.add_data_validation(check)
        check.add(ref)


def _declaration_sheet(sheet: Worksheet, header: dict[str, Any], codes: _Codes) -> None:
    help_text = {
        "regime": "Regime (do not change)",
        "type": "Declaration type (do not change)",
        "period": "Calendar year reported on, such as 2025",
        "state": "Declaring state: ISO 3166-1 alpha-3 code, such as FRA",
        "nothing_to_declare": "yes if there is nothing to declare this period",
        "id": "Only for an amendment: the id of the declaration it replaces",
    }
    for col, title in enumerate(("key", "value", "help"), start=1):
        _head(sheet, 1, col, title)
    for row, (key, value) in enumerate([*header.items(), ("id", None)], start=2):
        sheet.cell(row, 1, key)
        _put(sheet, row, 2, value)
        sheet.cell(row, 3, help_text.get(key, ""))
        ref = f"B{row}"
        if key == "state":
            sheet[ref].number_format = "@"
            check = DataValidation(
                type="list",
                formula1="=" + codes.range_for("state", _state_codes()),
                allow_blank=True,
                errorStyle="warning",
            )
            _add_check(sheet, check, ref)
        elif key == "nothing_to_declare":
            _add_check(sheet, DataValidation(type="list", formula1='"yes,no"'), ref)
        elif key == "period":
            _add_check(
                sheet,
                DataValidation(type="whole", operator="between", formula1="1946", formula2="2200"),
                ref,
            )
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 60
    sheet.freeze_panes = "A2"


def _form_sheet(
    sheet: Worksheet,
    section: SectionSpec,
    values: dict[str, Any],
    dtype: DeclarationType,
    registry: Registry,
    codes: _Codes,
) -> None:
    for col, title in enumerate(("field", "value", "label"), start=1):
        _head(sheet, 1, col, title)
    for row, spec in enumerate(section.fields, start=2):
        sheet.cell(row, 1, spec.id).comment = _comment(spec, dtype, registry)
        _put(sheet, row, 2, values.get(spec.id))
        if spec.type in _TEXT_TYPES:
            sheet.cell(row, 2).number_format = "@"
        required = " *" if spec.required else ""
        sheet.cell(row, 3, f"{spec.label.en}{required} / {spec.label.zh or ''}".rstrip(" /"))
        _add_check(sheet, _validation(spec, dtype, registry, codes), f"B{row}")
    sheet.column_dimensions["A"].width = max(12, *(len(f.id) + 2 for f in section.fields))
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 60
    sheet.freeze_panes = "A2"


def _table_sheet(
    sheet: Worksheet,
    section: SectionSpec,
    rows: list[dict[str, Any]],
    dtype: DeclarationType,
    registry: Registry,
    codes: _Codes,
) -> None:
    last = min(section.max_rows + 1, _EXCEL_ROWS)
    for col, spec in enumerate(section.fields, start=1):
        letter = get_column_letter(col)
        _head(sheet, 1, col, spec.id)
        sheet.cell(1, col).comment = _comment(spec, dtype, registry)
        sheet.column_dimensions[letter].width = min(
            50, max(12, len(spec.id) + 2, len(spec.label.en) // 2)
        )
        if spec.type in _TEXT_TYPES:
            sheet.column_dimensions[letter].number_format = "@"
        _add_check(sheet, _validation(spec, dtype, registry, codes), f"{letter}2:{letter}{last}")
        for row, values in enumerate(rows, start=2):
            _put(sheet, row, col, values.get(spec.id))
    sheet.freeze_panes = "A2"


def xlsx_template(
    dtype: DeclarationType,
    registry: Registry,
    *,
    period: int | None = None,
    state: str | None = None,
    prefill: dict[str, Any] | None = None,
) -> bytes:
    """A workbook laid out as the XLSX intake reads it, with dropdowns and help comments."""
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # noqa: S101 - a new workbook always has one sheet
    first.title = "declaration"
    taken = {s.id[:31].casefold() for s in dtype.sections}
    codes_name = next(n for n in CODES_SHEETS if n not in taken)
    codes = _Codes(book.create_sheet(codes_name))
    _declaration_sheet(first, _header_values(dtype, period, state, prefill), codes)
    filled = _prefill(dtype, prefill)
    for index, section in enumerate(dtype.sections, start=1):
        sheet = book.create_sheet(section.id[:31], index)
        if section.kind is SectionKind.FORM:
            _form_sheet(sheet, section, filled.get(section.id, {}), dtype, registry, codes)
        else:
            _table_sheet(sheet, section, filled.get(section.id, []), dtype, registry, codes)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = [
    "allowed_codes",
    "csv_template",
    "describe",
    "json_schema",
    "json_template",
    "xlsx_template",
]
