"""Turn blocks of spreadsheet rows into the canonical document.

CSV and XLSX share one layout: a ``declaration`` block of key/value rows, then
one block per section (a CSV ``[section]`` row or a sheet named by the section
id). Form blocks hold ``field, value`` rows; table blocks a header row of field
ids (or labels) and one row per entry. The format modules only cut the input
into :class:`Block` objects and say how to name a place (:class:`Places`); this
module builds the document and its ``locations`` and reports every structural
problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from veritrail.declarations.document import FORMAT, HEADER_KEYS, ParsedDeclaration, pointer
from veritrail.errors import NotFound, Problem, ValidationFailed
from veritrail.regimes.loader import Registry
from veritrail.regimes.model import LANGUAGES, DeclarationType, SectionKind, SectionSpec

from ._common import fold, is_empty

SHEET_NAME_MAX = 31  # Excel's limit on sheet names
_TRUE = frozenset({"true", "yes", "y", "1", "x", "是", "oui", "si", "sí", "да", "نعم"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "non", "нет", "لا"})


@dataclass(slots=True)
class Line:
    """One non-blank row: its number in the file or sheet, and its cells."""

    number: int
    cells: list[Any]


@dataclass
class Block:
    name: str  # as written: a sheet name or the text between brackets
    number: int  # row where the block starts (its ``[name]`` row, or 1 for a sheet)
    lines: list[Line] = field(default_factory=list)


class Places(Protocol):
    """How a format names a place in the original file."""

    def block(self, block: Block) -> str: ...

    def row(self, block: Block, number: int) -> str: ...

    def cell(self, block: Block, number: int, column: int, header: str | None) -> str: ...


def section_for(name: str, dtype: DeclarationType) -> SectionSpec | None:
    """The section a block name stands for (sheet names are cut at 31 characters)."""
    key = fold(name)
    for section in dtype.sections:
        if key in (fold(section.id), fold(section.id[:SHEET_NAME_MAX])):
            return section
    return None


def field_names(section: SectionSpec) -> dict[str, str]:
    """Folded field ids and labels (any language) -> field id; ids win over labels."""
    names: dict[str, str] = {}
    for spec in section.fields:
        for language in LANGUAGES:
            label = getattr(spec.label, language)
            if label:
                names.setdefault(fold(label), spec.id)
    names.update({fold(spec.id): spec.id for spec in section.fields})
    return names


def _known_fields(section: SectionSpec) -> str:
    return ", ".join(f"{f.id} ({f.label.en})" for f in section.fields)


def header_value(key: str, value: Any) -> Any:
    """A declaration-block value as the canonical document wants it."""
    if key == "nothing_to_declare":
        word = fold(value)
        if word in _TRUE or value is True:
            return True
        if word in _FALSE or value is False:
            return False
        return str(value)
    if key == "period":
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value
    return value.strip() if isinstance(value, str) else str(value)


class Assembler:
    """Builds one document; collects problems instead of stopping at the first."""

    def __init__(self, registry: Registry, places: Places, source_format: str) -> None:
        self.registry = registry
        self.places = places
        self.source_format = source_format
        self.problems: list[Problem] = []
        self.document: dict[str, Any] = {"format": FORMAT}
        self.locations: dict[str, str] = {}

    def problem(self, where: str, code: str, message: str) -> None:
        self.problems.append(Problem(path=where, code=code, message=message))

    def fail(self) -> ValidationFailed:
        return ValidationFailed(self.problems)

    # -- the declaration block ---------------------------------------------------

    def header(self, block: Block) -> DeclarationType | None:
        place = self.places
        seen: dict[str, int] = {}
        lines = block.lines
        if lines and [fold(c) for c in lines[0].cells[:2]] == ["key", "value"]:
            lines = lines[1:]
        for line in lines:
            key = "" if is_empty(line.cells[0]) else fold(line.cells[0]).replace(" ", "_")
            value = line.cells[1] if len(line.cells) > 1 else None
            where = place.cell(block, line.number, 0, None)
            if not key:
                self.problem(
                    where,
                    "missing_key",
                    "a value without a key; write the key "
                    f"({', '.join(HEADER_KEYS[1:])}) in the first column",
                )
                continue
            if key in seen:
                self.problem(
                    where,
                    "duplicate_key",
                    f"{key!r} is given twice (first in row {seen[key]}); keep one",
                )
                continue
            seen[key] = line.number
            if key == "data":
                self.problem(
                    where,
                    "reserved_key",
                    "'data' is not a key of the declaration block; give each section its own block",
                )
                continue
            self.locations[pointer(key)] = place.cell(block, line.number, 1, None)
            if not is_empty(value):
                self.document[key] = header_value(key, value)
        return self._declaration_type(block)

    def _declaration_type(self, block: Block) -> DeclarationType | None:
        regime, type_id = self.document.get("regime"), self.document.get("type")
        missing = [k for k, v in (("regime", regime), ("type", type_id)) if not v]
        if missing:
            self.problem(
                self.places.block(block),
                "required",
                f"the declaration block needs {' and '.join(missing)} "
                "(for example: regime cwc, type adnd) to know which form this is",
            )
            return None
        try:
            return self.registry.declaration_type(str(regime), str(type_id))
        except NotFound as exc:
            key = "type" if str(regime) in self.registry.packs else "regime"
            self.problem(
                self.locations.get("/" + key, self.places.block(block)),
                "unknown_declaration_type",
                exc.message,
            )
            return None

    # -- section blocks -------------------------------------------------------

    def sections(self, blocks: list[Block], dtype: DeclarationType) -> None:
        data: dict[str, Any] = {}
        first_block: dict[str, Block] = {}
        for block in blocks:
            section = section_for(block.name, dtype)
            where = self.places.block(block)
            if section is None:
                known = ", ".join(f"{s.id} ({s.title.en})" for s in dtype.sections)
                self.problem(
                    where,
                    "unknown_section",
                    f"{block.name!r} is not a section of {dtype.key}; its sections are: {known}",
                )
                continue
            if section.id in first_block:
                self.problem(
                    where,
                    "duplicate_section",
                    f"section {section.id!r} appears "
                    f"twice (first at {self.places.block(first_block[section.id])})",
                )
                continue
            first_block[section.id] = block
            self.locations[pointer("data", section.id)] = where
            if section.kind is SectionKind.FORM:
                data[section.id] = self._form(block, section)
            else:
                data[section.id] = self._table(block, section)
        self.document["data"] = data

    def _form(self, block: Block, section: SectionSpec) -> dict[str, Any]:
        names = field_names(section)
        values: dict[str, Any] = {}
        seen: dict[str, int] = {}
        lines = block.lines
        if lines and [fold(c) for c in lines[0].cells[:2]] == ["field", "value"]:
            lines = lines[1:]
        for line in lines:
            written = line.cells[0]
            value = line.cells[1] if len(line.cells) > 1 else None
            where = self.places.cell(block, line.number, 0, None)
            field_id = names.get(fold(written)) if not is_empty(written) else None
            if field_id is None:
                what = (
                    f"unknown field {str(written)!r}"
                    if not is_empty(written)
                    else ("a value without a field name")
                )
                self.problem(
                    where,
                    "unknown_field",
                    f"{what}; the fields of {section.id} are: {_known_fields(section)}",
                )
                continue
            if field_id in seen:
                self.problem(
                    where,
                    "duplicate_field",
                    f"field {field_id!r} is given twice (first in row {seen[field_id]})",
                )
                continue
            seen[field_id] = line.number
            self.locations[pointer("data", section.id, field_id)] = self.places.cell(
                block, line.number, 1, None
            )
            if not is_empty(value):
                values[field_id] = value
        return values

    def _columns(self, block: Block, section: SectionSpec, head: Line) -> list[str | None]:
        names = field_names(section)
        columns: list[str | None] = []
        seen: dict[str, int] = {}
        for index, written in enumerate(head.cells):
            field_id = names.get(fold(written)) if not is_empty(written) else None
            if field_id is None and not is_empty(written):
                self.problem(
                    self.places.cell(block, head.number, index, None),
                    "unknown_column",
                    f"unknown column {str(written)!r}; the columns of {section.id} are: "
                    f"{_known_fields(section)}",
                )
            elif field_id is not None and field_id in seen:
                self.problem(
                    self.places.cell(block, head.number, index, None),
                    "duplicate_column",
                    f"column {field_id!r} appears twice",
                )
                field_id = None
            if field_id is not None:
                seen[field_id] = index
            columns.append(field_id)
        return columns

    def _table(self, block: Block, section: SectionSpec) -> list[dict[str, Any]]:
        if not block.lines:
            return []
        head, *body = block.lines
        columns = self._columns(block, section, head)
        width = len(columns)
        unlabelled = {col for col, written in enumerate(head.cells) if is_empty(written)}
        prefix = pointer("data", section.id)
        mapped = [
            (col, pointer(field_id), str(head.cells[col]).strip())
            for col, field_id in enumerate(columns)
            if field_id is not None
        ]
        cell, row_place, locations = self.places.cell, self.places.row, self.locations
        rows: list[dict[str, Any]] = []
        headless: set[int] = set()
        for line in body:
            base = f"{prefix}/{len(rows)}"
            number = line.number
            locations[base] = row_place(block, number)
            for col, suffix, header in mapped:
                locations[base + suffix] = cell(block, number, col, header)
            row: dict[str, Any] = {}
            for col, value in enumerate(line.cells):
                if value is None or value == "" or is_empty(value):
                    continue
                field_id = columns[col] if col < width else None
                if field_id is not None:
                    row[field_id] = value
                elif (col >= width or col in unlabelled) and col not in headless:
                    headless.add(col)
                    self.problem(
                        cell(block, number, col, None),
                        "no_header",
                        "a value in a column without a header; write the field id "
                        f"in row {head.number} of this column or remove the value",
                    )
            rows.append(row)
        return rows

    def result(self) -> ParsedDeclaration:
        if self.problems:
            raise self.fail()
        return ParsedDeclaration(
            document=self.document, source_format=self.source_format, locations=self.locations
        )


def assemble(
    header: Block | None,
    blocks: list[Block],
    *,
    registry: Registry,
    places: Places,
    source_format: str,
    missing_header: tuple[str, str],
) -> ParsedDeclaration:
    """The document read from ``header`` and section ``blocks``, or every problem found."""
    asm = Assembler(registry, places, source_format)
    if header is None:
        asm.problem(missing_header[0], "no_declaration_block", missing_header[1])
        raise asm.fail()
    dtype = asm.header(header)
    if dtype is None:
        raise asm.fail()
    asm.sections(blocks, dtype)
    return asm.result()


__all__ = ["Assembler", "Block", "Line", "Places", "assemble", "field_names", "section_for"]
