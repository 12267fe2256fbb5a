"""Reconciliation findings told in the reader's language, from their figures.

The analysis layer writes each finding's title and explanation in English, for
the log and the command line. Pages rebuild them for transfer findings from the
structured figures, with state names and messages in the reader's language;
other checks keep their English text (shown with ``lang="en"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from veritrail.i18n import translator
from veritrail.web.case_views import KIND_LABELS, number
from veritrail.web.common import N_, state_name

_MISSING_IMPORT = {
    False: N_(
        "%(exporter)s declared exporting %(exported)s to %(importer)s; %(importer)s "
        "submitted no report on these transfers for %(year)s."
    ),
    True: N_(
        "%(exporter)s declared exporting %(exported)s to %(importer)s; the report of "
        "%(importer)s for %(year)s has no such import."
    ),
}
_MISSING_EXPORT = {
    False: N_(
        "%(importer)s declared importing %(imported)s from %(exporter)s; %(exporter)s "
        "submitted no report on these transfers for %(year)s."
    ),
    True: N_(
        "%(importer)s declared importing %(imported)s from %(exporter)s; the report of "
        "%(exporter)s for %(year)s has no such export."
    ),
}
_DIFFER = N_(
    "%(exporter)s declared exporting %(exported)s; %(importer)s declared importing "
    "%(imported)s; the difference is %(difference)s."
)
_ONE_SIDED = N_(
    "Only one side declared it (%(declared)s), below the threshold: the other side need "
    "not declare it."
)
_THRESHOLD = N_("The threshold is %(threshold)s.")
_OWN = {
    "export": N_(
        "Your declaration for %(year)s shows exporting %(declared)s of %(item)s to "
        "%(partner)s; the partner state's declaration does not agree with it."
    ),
    "import": N_(
        "Your declaration for %(year)s shows importing %(declared)s of %(item)s from "
        "%(partner)s; the partner state's declaration does not agree with it."
    ),
}
_OWN_NOTHING = {
    "export": N_(
        "Your declarations for %(year)s show no export of %(item)s to %(partner)s; the "
        "partner state's declaration does not agree with it."
    ),
    "import": N_(
        "Your declarations for %(year)s show no import of %(item)s from %(partner)s; the "
        "partner state's declaration does not agree with it."
    ),
}
_UNITS = {"items": N_("items"), "item": N_("item"), "kg": N_("kg")}


@dataclass(frozen=True, slots=True)
class Told:
    """A finding's title and explanation, and the language they are written in."""

    title: str
    explanation: str
    language: str


def _amount(value: Any, unit: str, language: str) -> str:
    if unit == "items" and value == 1:
        unit = "item"
    return f"{number(value)} {translator(language).gettext(_UNITS.get(unit, unit))}"


def _title(d: Mapping[str, Any], kind: str, language: str) -> str:
    label = translator(language).gettext(KIND_LABELS.get(kind, kind))
    exporter = state_name(d.get("exporter"), language)
    importer = state_name(d.get("importer"), language)
    return f"{exporter} → {importer}, {d.get('item')}, {d.get('year')}: {label}"


def transfer(details: Mapping[str, Any], language: str) -> Told:
    """A transfer finding (its ``as_json`` figures) in ``language``."""
    t = translator(language).gettext
    kind = str(details.get("kind"))
    unit = str(details.get("unit") or "")
    values = {
        "exporter": state_name(details.get("exporter"), language),
        "importer": state_name(details.get("importer"), language),
        "year": details.get("year"),
        "exported": _amount(details.get("exported"), unit, language),
        "imported": _amount(details.get("imported"), unit, language),
        "difference": _amount(abs(float(details.get("difference") or 0)), unit, language),
        "threshold": _amount(details.get("threshold"), unit, language),
    }
    if kind == "missing_import":
        text = t(_MISSING_IMPORT[bool(details.get("importer_reported"))])
    elif kind == "missing_export":
        text = t(_MISSING_EXPORT[bool(details.get("exporter_reported"))])
    elif kind == "below_threshold":
        side = "exported" if details.get("exported") is not None else "imported"
        values["declared"] = values[side]
        text = t(_ONE_SIDED)
    else:
        text = t(_DIFFER)
    explanation = f"{text % values} {t(_THRESHOLD) % values}"
    return Told(_title(details, kind, language), explanation, language)


def own_side(own: Mapping[str, Any], language: str) -> str:
    """A state's own side of a transfer case (the national view), in ``language``."""
    t = translator(language).gettext
    direction = "export" if own.get("direction") == "export" else "import"
    values = {
        "year": own.get("year"),
        "item": own.get("item"),
        "partner": state_name(own.get("partner"), language),
        "declared": _amount(own.get("declared"), str(own.get("unit") or ""), language),
    }
    mine = own.get("declared") is not None
    return t((_OWN if mine else _OWN_NOTHING)[direction]) % values


def title(case: Any, language: str) -> str:
    """A case's title (a summary or a whole case): rebuilt for transfers, else as stored."""
    if case.check == "reconciliation" and len(case.states) == 2:
        pair = {
            "exporter": case.states[0],
            "importer": case.states[1],
            "item": case.item,
            "year": case.year,
        }
        return _title(pair, case.kind, language)
    return str(case.title)


def told(case: Any, language: str) -> Told:
    """A whole case's title and explanation for a page, in ``language`` where rebuilt."""
    finding = case.finding or {}
    if case.check == "reconciliation":
        if getattr(case, "viewed_as", None):
            return Told(title(case, language), own_side(finding, language), language)
        details = finding.get("details")
        if isinstance(details, Mapping) and details.get("exporter"):
            return transfer(details, language)
    return Told(case.title, case.explanation, "en")


__all__ = ["Told", "own_side", "title", "told", "transfer"]
