"""The shape of a regime pack, checked when a pack is loaded.

A regime pack is a folder under ``regimes/packs/``: ``regime.yaml`` describes
the regime and its code lists, and every other ``*.yaml`` file in the folder
describes one declaration type. See ``docs/regime-packs.md``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
IDENT = r"^[a-z][a-z0-9_]*$"
RESERVED_SECTIONS = frozenset({"declaration", "codes", "code_lists"})
# A section withheld from a reader is replaced by {"withheld": true, "classification": …};
# no field may bear that name, so the marker never reads as a filled-in form.
RESERVED_FIELDS = frozenset({"withheld"})


class Classification(StrEnum):
    """Confidentiality levels, from the lowest to the highest."""

    PUBLIC = "public"
    RESTRICTED = "restricted"
    PROTECTED = "protected"
    HIGHLY_PROTECTED = "highly_protected"

    @property
    def rank(self) -> int:
        """0 for public up to 3 for highly protected: higher is more confidential."""
        return _RANKS[self]

    def at_least(self, other: Classification) -> bool:
        return self.rank >= other.rank


_RANKS = {c: i for i, c in enumerate(Classification)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A label in the six UN languages; English is required, others fall back to it."""

    en: str
    ar: str | None = None
    es: str | None = None
    fr: str | None = None
    ru: str | None = None
    zh: str | None = None

    def get(self, language: str) -> str:
        value = getattr(self, language, None) if language in LANGUAGES else None
        return value or self.en


class Choice(_Strict):
    value: str
    label: Text


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    YEAR = "year"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    STATE = "state"
    CODE = "code"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"


class Condition(_Strict):
    """``field`` (in the same section or row) has one of the values ``in``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str
    in_: list[str | int | bool] = Field(alias="in")


class FieldSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(pattern=IDENT)]
    label: Text
    type: FieldType
    help: Text | None = None
    required: bool = False
    required_if: Condition | None = None
    choices: list[Choice] | None = None
    code_list: str | None = Field(default=None, alias="list")
    list_where: dict[str, list[str]] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int = 2000
    unit: str | None = None
    multiline: bool = False

    @model_validator(mode="after")
    def _choices_and_lists(self) -> FieldSpec:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError("a field of type 'choice' needs 'choices'")
        if self.type is not FieldType.CHOICE and self.choices:
            raise ValueError("'choices' is only allowed on fields of type 'choice'")
        if self.type is FieldType.CODE and not self.code_list:
            raise ValueError("a field of type 'code' needs 'list' (a code list of the regime)")
        if self.type is not FieldType.CODE and (self.code_list or self.list_where):
            raise ValueError("'list' is only allowed on fields of type 'code'")
        return self

    def choice_values(self) -> list[str]:
        return [c.value for c in self.choices or []]


class SectionKind(StrEnum):
    FORM = "form"
    TABLE = "table"


class SectionSpec(_Strict):
    id: Annotated[str, Field(pattern=IDENT)]
    title: Text
    kind: SectionKind
    help: Text | None = None
    fields: Annotated[list[FieldSpec], Field(min_length=1)]
    unique: list[str] = Field(default_factory=list)
    min_rows: int = 0
    max_rows: int = 100_000
    # A confidential annex: the section is classified higher than its declaration type.
    classification: Classification | None = None

    @model_validator(mode="after")
    def _fields_are_known(self) -> SectionSpec:
        ids = [f.id for f in self.fields]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"field ids repeated: {', '.join(dupes)}")
        reserved = sorted(set(ids) & RESERVED_FIELDS)
        if reserved:
            raise ValueError(f"field id {reserved[0]!r} is reserved (it marks a withheld annex)")
        for name in self.unique:
            if name not in ids:
                raise ValueError(f"'unique' names unknown field {name!r}")
        if self.unique and self.kind is not SectionKind.TABLE:
            raise ValueError("'unique' is only allowed on table sections")
        for f in self.fields:
            if f.required_if and f.required_if.field not in ids:
                raise ValueError(
                    f"field {f.id!r}: 'required_if' names unknown field {f.required_if.field!r}"
                )
        return self

    def field(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.id == field_id), None)


class Deadline(_Strict):
    """Due date of the declaration for a period: ``year_offset`` years after it."""

    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    year_offset: int = 1

    def due(self, period: int) -> date:
        return date(period + self.year_offset, self.month, self.day)

    @model_validator(mode="after")
    def _real_date(self) -> Deadline:
        date(2001, self.month, self.day)  # raises ValueError for 31 April and the like
        return self


class ThresholdRule(_Strict):
    """Warns about table rows below the declaration threshold of their item.

    The threshold of a row is looked up in ``limits`` by the ``by`` attribute of
    the row's code-list entry (for example a chemical's Schedule part).
    """

    kind: Literal["threshold"]
    section: str
    item: str
    quantity: str
    unit: str | None = None
    default_unit: Literal["g", "kg", "t"] = "kg"
    by: str
    limits: dict[str, Decimal]
    limit_unit: Literal["g", "kg", "t"] = "kg"
    aggregate: bool = False
    group_by: list[str] = Field(default_factory=list)
    severity: Literal["warning", "error"] = "warning"
    message: Text


class AtLeastOneRule(_Strict):
    """At least one of ``fields`` (in the form section) is filled in."""

    kind: Literal["at_least_one"]
    section: str
    fields: list[str]
    message: Text


Rule = Annotated[ThresholdRule | AtLeastOneRule, Field(discriminator="kind")]


Unit = Literal["g", "kg", "t", "items"]


class TransferSource(_Strict):
    """Where a declaration type's table holds transfers, and which field says what.

    A section holds one direction (``direction``) or both, told apart by the
    value of ``direction_field`` (rows with other values, such as production,
    are not transfers). ``partner`` is the other state: the destination of an
    export, the origin of an import.
    """

    section: str
    direction: Literal["export", "import"] | None = None
    direction_field: str | None = None
    partner: str
    item: str
    quantity: str
    unit_field: str | None = None
    unit: Unit | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> TransferSource:
        if (self.direction is None) == (self.direction_field is None):
            raise ValueError("give either 'direction' or 'direction_field'")
        if (self.unit is None) == (self.unit_field is None):
            raise ValueError("give either 'unit' or 'unit_field'")
        return self


class ReconciliationRule(_Strict):
    """How exporters' and importers' declarations of a declaration type are matched.

    Two sides differ when the difference is above the threshold: the larger of
    ``absolute`` (or the item's entry in ``limits``, looked up by the ``by``
    attribute of its code-list entry) and ``relative`` times the larger side,
    all in ``unit``. A side that declares nothing counts as zero, so a transfer
    below the threshold may go undeclared by the other side.
    """

    sources: Annotated[list[TransferSource], Field(min_length=1)]
    item_list: str | None = None
    item_groups: dict[str, list[str]] = Field(default_factory=dict)
    unit: Unit
    absolute: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    relative: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal(0)
    by: str | None = None
    limits: dict[str, Decimal] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _limits_need_by(self) -> ReconciliationRule:
        if self.limits and (self.by is None or self.item_list is None):
            raise ValueError("'limits' need 'by' and 'item_list'")
        return self

    def group_of(self, item: str) -> str:
        """The item as reconciled: its group's name, or the item itself."""
        for group, members in self.item_groups.items():
            if item in members:
                return group
        return item


class DeclarationType(_Strict):
    id: Annotated[str, Field(pattern=IDENT)]
    regime: Annotated[str, Field(pattern=IDENT)]
    title: Text
    description: Text | None = None
    reference: str
    period: Literal["calendar_year"] = "calendar_year"
    deadline: Deadline
    expected: Literal["every_party", "when_applicable"]
    classification: Classification
    nothing_to_declare: bool = False
    sections: Annotated[list[SectionSpec], Field(min_length=1)]
    rules: list[Rule] = Field(default_factory=list)
    reconciliation: ReconciliationRule | None = None

    @field_validator("sections")
    @classmethod
    def _unique_sections(cls, value: list[SectionSpec]) -> list[SectionSpec]:
        ids = [s.id for s in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"section ids repeated: {', '.join(dupes)}")
        reserved = sorted(set(ids) & RESERVED_SECTIONS)
        if reserved:
            raise ValueError(
                f"section id {reserved[0]!r} is reserved (spreadsheet templates use it)"
            )
        # Spreadsheet sheet names are cut to 31 characters.
        prefixes = [i[:31] for i in ids]
        clash = sorted({p for p in prefixes if prefixes.count(p) > 1})
        if clash:
            raise ValueError(f"section ids must differ in their first 31 characters: {clash[0]}")
        return value

    def section(self, section_id: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def annexes(self) -> dict[str, Classification]:
        """The confidential annexes: section id and the classification the pack gives it."""
        return {s.id: s.classification for s in self.sections if s.classification is not None}

    @property
    def key(self) -> str:
        return f"{self.regime}/{self.id}"


class CodeEntry(_Strict):
    model_config = ConfigDict(extra="allow", frozen=True)

    code: str
    name: Text


class CodeList(_Strict):
    id: Annotated[str, Field(pattern=IDENT)]
    title: Text
    format: Literal["cas", "plain"] = "plain"
    entries: Annotated[list[CodeEntry], Field(min_length=1)]

    @field_validator("entries")
    @classmethod
    def _unique_codes(cls, value: list[CodeEntry]) -> list[CodeEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.code in seen:
                raise ValueError(f"code {entry.code!r} listed twice")
            seen.add(entry.code)
        return value

    def attribute(self, entry: CodeEntry, name: str) -> Any:
        return (entry.model_extra or {}).get(name)


class Parties(_Strict):
    """Who is expected to report: all UN members (less ``except``) or a list."""

    all_un_members: bool = False
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    as_of: date


class Regime(_Strict):
    id: Annotated[str, Field(pattern=IDENT)]
    name: Text
    short_name: Text
    instrument: Text
    parties: Parties
    lists: list[str] = Field(default_factory=list)


__all__ = [
    "LANGUAGES",
    "RESERVED_FIELDS",
    "AtLeastOneRule",
    "Choice",
    "Classification",
    "CodeEntry",
    "CodeList",
    "Condition",
    "DeclarationType",
    "Deadline",
    "FieldSpec",
    "FieldType",
    "Parties",
    "Regime",
    "Rule",
    "SectionKind",
    "SectionSpec",
    "ReconciliationRule",
    "Text",
    "TransferSource",
    "Unit",
    "ThresholdRule",
]
