"""What changed between two versions of a declaration, field by field and row by row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from veritrail.declarations.document import HEADER_KEYS
from veritrail.regimes.model import DeclarationType, SectionKind


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class RowChange:
    kind: str  # "added", "removed", "changed"
    key: str  # the row's unique key, or its position
    changes: list[FieldChange] = field(default_factory=list)
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SectionDiff:
    section: str
    kind: str
    fields: list[FieldChange] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.fields and not self.rows


@dataclass(frozen=True, slots=True)
class DeclarationDiff:
    header: list[FieldChange]
    sections: list[SectionDiff]
    # Annexes left out of the comparison because the reader may not see them:
    # section id and classification.
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.header and all(s.empty for s in self.sections)

    def summary(self) -> dict[str, int]:
        rows = [r for s in self.sections for r in s.rows]
        return {
            "header": len(self.header),
            "fields": sum(len(s.fields) for s in self.sections),
            "rows_added": sum(r.kind == "added" for r in rows),
            "rows_removed": sum(r.kind == "removed" for r in rows),
            "rows_changed": sum(r.kind == "changed" for r in rows),
        }


def _field_changes(old: dict[str, Any], new: dict[str, Any], order: list[str]) -> list[FieldChange]:
    keys = order + sorted((set(old) | set(new)) - set(order))
    return [FieldChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def _row_key(row: dict[str, Any], unique: list[str]) -> str:
    return " / ".join(str(row.get(f, "")) for f in unique)


def diff_documents(
    old: dict[str, Any], new: dict[str, Any], dtype: DeclarationType
) -> DeclarationDiff:
    """Compare two canonical documents of the same declaration type.

    Table rows are matched on the section's ``unique`` fields when it has them,
    so a reordered table shows no change; otherwise rows are compared by position.
    """
    header = _field_changes(
        {k: old.get(k) for k in HEADER_KEYS if k != "id"},
        {k: new.get(k) for k in HEADER_KEYS if k != "id"},
        [k for k in HEADER_KEYS if k != "id"],
    )
    sections: list[SectionDiff] = []
    old_data, new_data = old.get("data") or {}, new.get("data") or {}
    for spec in dtype.sections:
        order = [f.id for f in spec.fields]
        if spec.kind is SectionKind.FORM:
            changes = _field_changes(
                old_data.get(spec.id) or {}, new_data.get(spec.id) or {}, order
            )
            sections.append(SectionDiff(spec.id, "form", fields=changes))
            continue
        old_rows: list[dict[str, Any]] = old_data.get(spec.id) or []
        new_rows: list[dict[str, Any]] = new_data.get(spec.id) or []
        if spec.unique:
            before = {_row_key(r, spec.unique): r for r in old_rows}
            after = {_row_key(r, spec.unique): r for r in new_rows}
        else:
            before = {str(i + 1): r for i, r in enumerate(old_rows)}
            after = {str(i + 1): r for i, r in enumerate(new_rows)}
        rows: list[RowChange] = []
        for key, row in after.items():
            if key not in before:
                rows.append(RowChange("added", key, new=row))
            elif before[key] != row:
                rows.append(
                    RowChange(
                        "changed",
                        key,
                        _field_changes(before[key], row, order),
                        old=before[key],
                        new=row,
                    )
                )
        rows.extend(RowChange("removed", k, old=r) for k, r in before.items() if k not in after)
        sections.append(SectionDiff(spec.id, "table", rows=rows))
    return DeclarationDiff(header=header, sections=sections)


__all__ = ["DeclarationDiff", "FieldChange", "RowChange", "SectionDiff", "diff_documents"]
