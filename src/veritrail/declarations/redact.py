"""Confidential annexes: which sections a reader may see, and the document without the others.

A section of a declaration type may carry its own classification in the regime pack (a
confidential annex, at least as high as the type's). One declaration may raise or lower
an annex (``Declaration.annex_classification``), never below the declaration's own
classification. A reader who may read the declaration but not an annex gets the document
with the annex's data replaced by a marker::

    "data": {"plants": {"withheld": true, "classification": "highly_protected"}, …}

The marker is an object even where the section is a table, and ``withheld`` is a field id
no pack may use, so a client tells a withheld annex from data by
``isinstance(value, dict) and value.get("withheld") is True``. The marker says nothing of
what the annex holds: not whether it is empty, nor how many rows it has. A redacted
document no longer hashes to the version's ``content_sha256`` and is not a valid
submission.

Everything here is pure: the queries compute what the reader may see with the policy and
call these functions wherever a version's content leaves the system.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeGuard

from veritrail.regimes.model import Classification, DeclarationType, SectionKind

WITHHELD = "withheld"
_VALUES = frozenset(c.value for c in Classification)


def annex_classifications(
    dtype: DeclarationType,
    declaration: Classification,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Classification]:
    """The classification of each annex of one declaration.

    An annex is a section the pack classifies, or one this declaration's ``overrides``
    classify; it is never below the declaration itself (a declaration raised above its
    annex carries the annex up with it).
    """
    levels = dict(dtype.annexes)
    known = {s.id for s in dtype.sections}
    for section, value in (overrides or {}).items():
        if section in known and value in _VALUES:
            levels[section] = Classification(value)
    return {
        section: level if level.at_least(declaration) else declaration
        for section, level in levels.items()
    }


def withheld_annexes(
    annexes: Mapping[str, Classification], visible: Collection[Classification]
) -> dict[str, Classification]:
    """The annexes (section id and classification) a reader who sees ``visible`` may not see."""
    return {section: level for section, level in annexes.items() if level not in visible}


def marker(level: Classification) -> dict[str, Any]:
    """What stands in a document for an annex withheld at ``level``."""
    return {WITHHELD: True, "classification": level.value}


def is_withheld(value: Any) -> TypeGuard[dict[str, Any]]:
    """Is ``value`` (a document's ``data.<section>``) the marker of a withheld annex?"""
    return isinstance(value, dict) and value.get(WITHHELD) is True


def redact(
    document: Mapping[str, Any],
    dtype: DeclarationType,
    visible: Collection[Classification],
    *,
    annexes: Mapping[str, Classification] | None = None,
) -> dict[str, Any]:
    """``document`` as a reader who may see the classifications ``visible`` may read it.

    ``annexes`` are the declaration's annex classifications (see
    :func:`annex_classifications`); the pack's when not given. Every annex beyond the
    reader's reach is replaced by its marker, whether the version filled it in or not.
    The document given is not changed.
    """
    levels = dtype.annexes if annexes is None else annexes
    hidden = withheld_annexes(levels, visible)
    out = dict(document)
    if not hidden:
        return out
    data = document.get("data")
    data = dict(data) if isinstance(data, Mapping) else {}
    for spec in dtype.sections:
        if spec.id in hidden:
            data[spec.id] = marker(hidden[spec.id])
    out["data"] = data
    return out


def without_sections(dtype: DeclarationType, sections: Collection[str]) -> DeclarationType:
    """The declaration type less ``sections``: what a diff or an export may walk through."""
    if not sections:
        return dtype
    kept = [s for s in dtype.sections if s.id not in sections]
    return dtype.model_copy(update={"sections": kept})


def line_count(document: Mapping[str, Any], dtype: DeclarationType) -> int:
    """Rows of the document's table sections, withheld annexes counting for none."""
    data = document.get("data")
    if not isinstance(data, Mapping):
        return 0
    return sum(
        len(value)
        for spec in dtype.sections
        if spec.kind is SectionKind.TABLE and isinstance(value := data.get(spec.id), list)
    )


def highest_shown(
    declaration: Classification,
    annexes: Mapping[str, Classification],
    visible: Collection[Classification],
) -> Classification:
    """The highest classification of what a reader is shown of one declaration's content."""
    shown = [level for level in annexes.values() if level in visible]
    return max([declaration, *shown], key=lambda level: level.rank)


__all__ = [
    "WITHHELD",
    "annex_classifications",
    "highest_shown",
    "is_withheld",
    "line_count",
    "marker",
    "redact",
    "withheld_annexes",
    "without_sections",
]
