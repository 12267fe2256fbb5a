"""The declaration form generated from a regime pack, and its way back into a document.

Inputs are named ``<section>.<field>`` in form sections and
``<section>.<row key>.<field>`` in table rows. Row keys are opaque tokens, so
rows can be added and removed in the browser without renumbering; rows keep
the order in which the browser sends them. A problem's JSON pointer
(``/data/<section>/<row>/<field>``) is mapped back to the input it concerns.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from veritrail.declarations.document import FORMAT
from veritrail.errors import Problem
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import DeclarationType, FieldSpec, FieldType, SectionKind, SectionSpec
from veritrail.web.common import state_options

HEADER_FIELDS = ("regime", "type", "state", "period", "id", "nothing_to_declare", "format")


@dataclass
class Widget:
    """One input of the form, ready for the template."""

    name: str
    id: str
    spec: FieldSpec
    label: str
    control: str  # input, select, checkbox, textarea
    input_type: str = "text"
    inputmode: str | None = None
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    datalist: str | None = None
    help: str = ""
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class Row:
    key: str
    cells: list[Widget]
    errors: list[Problem] = field(default_factory=list)


@dataclass
class Section:
    spec: SectionSpec
    title: str
    help: str
    widgets: list[Widget] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        return self.spec.kind is SectionKind.TABLE


@dataclass
class Datalist:
    id: str
    options: list[tuple[str, str]]


def new_row_key() -> str:
    return "n" + secrets.token_hex(4)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def datalist_id(section: SectionSpec, spec: FieldSpec) -> str:
    return f"list-{section.id}-{spec.id}"


def widget(
    section: SectionSpec, spec: FieldSpec, value: Any, language: str, row_key: str | None = None
) -> Widget:
    name = f"{section.id}.{row_key}.{spec.id}" if row_key else f"{section.id}.{spec.id}"
    label = spec.label.get(language)
    w = Widget(
        name=name,
        id="f-" + name.replace(".", "-"),
        spec=spec,
        label=label,
        control="input",
        value=_text(value),
        help=spec.help.get(language) if spec.help else "",
    )
    match spec.type:
        case FieldType.CHOICE:
            w.control = "select"
            w.options = [(c.value, c.label.get(language)) for c in spec.choices or []]
        case FieldType.STATE:
            w.control = "select"
            w.options = state_options(language)
        case FieldType.BOOLEAN:
            w.control = "checkbox"
            w.checked = value is True or _text(value).casefold() in ("true", "yes", "1", "on")
        case FieldType.DATE:
            w.input_type = "date"
        case FieldType.CODE:
            w.datalist = datalist_id(section, spec)
        case FieldType.INTEGER | FieldType.YEAR:
            w.inputmode = "numeric"
        case FieldType.DECIMAL | FieldType.LATITUDE | FieldType.LONGITUDE:
            w.inputmode = "decimal"
        case FieldType.TEXT if spec.multiline:
            w.control = "textarea"
    return w


def build_sections(
    dtype: DeclarationType, data: dict[str, Any], language: str, *, blank_row: bool = True
) -> list[Section]:
    """The form's sections filled with ``data`` (the ``data`` part of a document)."""
    sections: list[Section] = []
    for spec in dtype.sections:
        section = Section(
            spec=spec,
            title=spec.title.get(language),
            help=spec.help.get(language) if spec.help else "",
        )
        value = data.get(spec.id)
        if spec.kind is SectionKind.FORM:
            values = value if isinstance(value, dict) else {}
            section.widgets = [widget(spec, f, values.get(f.id), language) for f in spec.fields]
        else:
            rows = [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []
            if not rows and blank_row:
                rows = [{}]
            section.rows = [table_row(spec, r, language, f"r{i}") for i, r in enumerate(rows)]
        sections.append(section)
    return sections


def table_row(section: SectionSpec, values: dict[str, Any], language: str, key: str) -> Row:
    return Row(
        key=key, cells=[widget(section, f, values.get(f.id), language, key) for f in section.fields]
    )


def datalists(dtype: DeclarationType, registry: Registry, language: str) -> list[Datalist]:
    """Suggestions for every code field: the allowed codes with their names."""
    out: list[Datalist] = []
    for section in dtype.sections:
        for spec in section.fields:
            if spec.type is not FieldType.CODE:
                continue
            code_list = registry.code_list(dtype.regime, spec.code_list or "")
            where = spec.list_where or {}
            options = [
                (e.code, e.name.get(language))
                for e in code_list.entries
                if all(str(code_list.attribute(e, k)) in v for k, v in where.items())
            ]
            out.append(Datalist(datalist_id(section, spec), options))
    return out


def _blank(value: str) -> bool:
    return not value.strip()


def document_from_form(
    dtype: DeclarationType, items: Iterable[tuple[str, str]], header: dict[str, Any]
) -> dict[str, Any]:
    """The canonical document a submitted form describes; empty table rows are dropped."""
    forms: dict[str, dict[str, Any]] = {
        s.id: {} for s in dtype.sections if s.kind is SectionKind.FORM
    }
    rows: dict[str, dict[str, dict[str, Any]]] = {
        s.id: {} for s in dtype.sections if s.kind is SectionKind.TABLE
    }
    for name, value in items:
        parts = name.split(".")
        if len(parts) == 2 and parts[0] in forms:
            forms[parts[0]][parts[1]] = value
        elif len(parts) == 3 and parts[0] in rows:
            rows[parts[0]].setdefault(parts[1], {})[parts[2]] = value
    data: dict[str, Any] = {}
    for spec in dtype.sections:
        if spec.kind is SectionKind.FORM:
            data[spec.id] = _values(spec, forms[spec.id])
        else:
            kept = [_values(spec, raw) for raw in rows[spec.id].values() if _filled(spec, raw)]
            data[spec.id] = kept
    document: dict[str, Any] = {"format": FORMAT, **header, "data": data}
    if document.get("nothing_to_declare"):
        document["data"] = {}
    return document


def _filled(spec: SectionSpec, raw: dict[str, str]) -> bool:
    """A row counts when any of its fields other than check boxes has a value."""
    return any(
        not _blank(raw.get(f.id, "")) for f in spec.fields if f.type is not FieldType.BOOLEAN
    )


def _values(spec: SectionSpec, raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in spec.fields:
        value = raw.get(f.id, "")
        if f.type is FieldType.BOOLEAN:
            out[f.id] = value.casefold() in ("true", "on", "1", "yes")
        elif not _blank(value):
            out[f.id] = value.strip() if f.type is not FieldType.TEXT or not f.multiline else value
    return out


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


@dataclass
class PlacedProblems:
    """Problems sorted to where the form shows them."""

    header: list[Problem] = field(default_factory=list)
    everything: list[tuple[Problem, str | None]] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[Problem, str | None]]:
        return [(p, a) for p, a in self.everything if p.severity == "error"]

    @property
    def warnings(self) -> list[tuple[Problem, str | None]]:
        return [(p, a) for p, a in self.everything if p.severity != "error"]


def place_problems(sections: list[Section], problems: list[Problem]) -> PlacedProblems:
    """Attach each problem to its input, row or section; return them all for the summary.

    Each summary entry carries the id of the input (or section) to link to.
    """
    placed = PlacedProblems()
    by_id = {s.spec.id: s for s in sections}
    for problem in problems:
        pointer = problem.field or problem.path
        parts = [_unescape(p) for p in pointer.split("/")[1:]] if pointer.startswith("/") else []
        anchor: str | None = None
        section = by_id.get(parts[1]) if len(parts) >= 2 and parts[0] == "data" else None
        if section is None:
            placed.header.append(problem)
            anchor = "form-header" if parts and parts[0] in HEADER_FIELDS else None
        elif not section.is_table:
            target = next(
                (w for w in section.widgets if len(parts) > 2 and w.spec.id == parts[2]), None
            )
            anchor = _attach(target, problem) if target else _section(section, problem)
        else:
            row = None
            if len(parts) > 2 and parts[2].isdigit() and int(parts[2]) < len(section.rows):
                row = section.rows[int(parts[2])]
            if row is None:
                anchor = _section(section, problem)
            else:
                cell = next(
                    (w for w in row.cells if len(parts) > 3 and w.spec.id == parts[3]), None
                )
                if cell is not None:
                    anchor = _attach(cell, problem)
                else:
                    row.errors.append(problem)
                    anchor = f"row-{section.spec.id}-{row.key}"
        placed.everything.append((problem, anchor))
    return placed


def _attach(target: Widget, problem: Problem) -> str:
    (target.errors if problem.severity == "error" else target.warnings).append(problem)
    return target.id


def _section(section: Section, problem: Problem) -> str:
    section.errors.append(problem)
    return f"section-{section.spec.id}"


__all__ = [
    "Datalist",
    "PlacedProblems",
    "Row",
    "Section",
    "Widget",
    "build_sections",
    "datalists",
    "document_from_form",
    "new_row_key",
    "place_problems",
    "table_row",
    "widget",
]
