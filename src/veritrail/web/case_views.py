"""How discrepancy cases are shown: labels, figures, sources, history, and what forms share.

The secretariat's pages (``web.cases``), the states' portal
(``web.clarifications``) and the dashboard (``web.analysis``) show the same
statuses, kinds and figures the same way. Labels are message ids, translated
where the templates show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Form, Path, Query
from fastapi.responses import Response

from veritrail.actions.cases import ANSWERED, AWAITING, CLOSED, OPEN, RESOLVED
from veritrail.analysis.reconcile import plain
from veritrail.analysis.report import media_type
from veritrail.errors import Conflict, Forbidden, InputError, NotFound
from veritrail.queries.cases import CaseDetail
from veritrail.web.common import N_, state_name

# A text box takes this much; the action says what it accepts, with a message.
FORM_TEXT = 50_000
# Errors of an action shown on the page with the form as it was sent.
ACTION_ERRORS = (InputError, Conflict, Forbidden, NotFound)
CASE_STATUS_LABELS: dict[str, str] = {
    OPEN: N_("Open"),
    AWAITING: N_("Awaiting the state"),
    ANSWERED: N_("Answered"),
    CLOSED: N_("Closed"),
}
CHECK_LABELS: dict[str, str] = {
    "reconciliation": N_("Transfer reconciliation"),
    "anomaly": N_("Year-over-year change"),
    "facility": N_("Declared facilities"),
    "consistency": N_("Cross-regime consistency"),
}
KIND_LABELS: dict[str, str] = {
    "matched": N_("Matched"),
    "quantity_mismatch": N_("Quantities differ"),
    "missing_import": N_("Import not declared"),
    "missing_export": N_("Export not declared"),
    "below_threshold": N_("Below the threshold"),
    "year_over_year": N_("Unusual change from earlier years"),
    "disappeared": N_("Facility no longer declared"),
    "reappeared": N_("Facility declared again"),
    "schedule2_without_export_controls": N_("Schedule 2 activity without export controls"),
    "schedule_exports_without_export_controls": N_("Scheduled exports without export controls"),
}
CLOSURE_LABELS: dict[str, str] = {
    "explained": N_("Explained by the state"),
    "corrected": N_("Corrected by the state"),
    "not_a_discrepancy": N_("Not a discrepancy"),
    "duplicate": N_("Duplicate of another case"),
    "other": N_("Other reason (say which in the note)"),
    RESOLVED: N_("Resolved by an amendment"),
}
EVENT_LABELS: dict[str, str] = {
    "opened": N_("Opened by the checks"),
    "re_evaluated": N_("Re-evaluated on new figures"),
    "assigned": N_("Assigned"),
    "clarification_requested": N_("Clarification requested"),
    "explained": N_("Explanation received"),
    "answered_by_amendment": N_("Answered by an amendment"),
    "closed": N_("Closed"),
    "resolved": N_("Resolved when the checks ran again"),
    "reopened": N_("Reopened"),
}


def labels() -> dict[str, Any]:
    """The label tables every case template reads (message ids, translated there)."""
    return {
        "case_status_labels": CASE_STATUS_LABELS,
        "check_labels": CHECK_LABELS,
        "kind_labels": KIND_LABELS,
        "closure_labels": CLOSURE_LABELS,
        "event_labels": EVENT_LABELS,
    }


def number(value: Any) -> str:
    """A figure as people read it: thousands separated, no trailing zeros, — for none."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    return plain(value)


@dataclass(frozen=True, slots=True)
class ShownSource:
    """A declaration version or an imported file's row that a finding rests on."""

    state: str
    state_label: str
    declaration_id: str | None = None
    version: int | None = None
    import_id: str | None = None
    row: int | None = None


def shown_sources(finding: Mapping[str, Any], language: str) -> list[ShownSource]:
    out = []
    for source in finding.get("sources") or []:
        if not isinstance(source, dict):
            continue
        state = str(source.get("state") or "")
        version = source.get("version")
        row = source.get("row")
        out.append(
            ShownSource(
                state=state,
                state_label=state_name(state, language),
                declaration_id=source.get("declaration_id"),
                version=int(version) if isinstance(version, int) else None,
                import_id=source.get("import_id"),
                row=int(row) if isinstance(row, int) else None,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Figures:
    """Both sides of a transfer as the secretariat sees them."""

    exporter: str
    importer: str
    item: str
    unit: str
    exported: str
    imported: str
    difference: str
    threshold: str


def figures(case: CaseDetail, language: str) -> Figures | None:
    """The exporter's and importer's figures of a reconciliation case, else ``None``."""
    details = case.finding.get("details") or {}
    if case.check != "reconciliation" or not isinstance(details, dict):
        return None
    difference = details.get("difference")
    return Figures(
        exporter=state_name(str(details.get("exporter") or ""), language),
        importer=state_name(str(details.get("importer") or ""), language),
        item=str(details.get("item") or case.item or ""),
        unit=str(details.get("unit") or ""),
        exported=number(details.get("exported")),
        imported=number(details.get("imported")),
        difference=number(abs(difference) if isinstance(difference, int | float) else None),
        threshold=number(details.get("threshold")),
    )


def other_details(case: CaseDetail) -> list[tuple[str, str]]:
    """What another check found, as (name, value) pairs for a plain table."""
    details = case.finding.get("details") or {}
    if case.check == "reconciliation" or not isinstance(details, dict):
        return []
    out = []
    for key, value in details.items():
        if key == "key":  # the check's own identifier of the thing found
            continue
        if isinstance(value, list | tuple):
            text = ", ".join(number(v) if isinstance(v, int | float) else str(v) for v in value)
        else:
            text = number(value)
        out.append((key.replace("_", " "), text))
    return out


@dataclass(frozen=True, slots=True)
class ShownEvent:
    at: str
    actor: str
    kind: str
    state: str | None
    state_label: str
    message: str | None
    assignee: str | None
    reason: str | None


def shown_events(case: CaseDetail, language: str) -> list[ShownEvent]:
    return [
        ShownEvent(
            at=e.at.strftime("%Y-%m-%d %H:%M UTC"),
            actor=e.actor,
            kind=e.kind,
            state=e.state,
            state_label=state_name(e.state, language),
            message=e.message,
            assignee=str(e.details["assignee"]) if e.details.get("assignee") else None,
            reason=str(e.details["reason"]) if e.details.get("reason") else None,
        )
        for e in case.events
    ]


@dataclass
class FormState:
    """Which form on a case failed, why, and what it was sent with."""

    form: str = ""
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


# A year as a select or a text box sends it: empty for any year.
Year = Annotated[str, Query(max_length=10)]
FIRST_YEAR, LAST_YEAR = 1946, 2200


def year_of(text: str) -> int | None:
    """The year a form sent, or ``None`` when it was left empty."""
    text = text.strip()
    if not text:
        return None
    if not (text.isdecimal() and FIRST_YEAR <= int(text) <= LAST_YEAR):
        raise InputError(N_("Write the year as four digits, or leave it empty."))
    return int(text)


Format = Annotated[str, Path(pattern="^(csv|xlsx|pdf)$")]


def attachment(data: bytes, fmt: str, name: str) -> Response:
    """An export to download, named after what it holds."""
    return Response(
        data,
        media_type=media_type(fmt),
        headers={"content-disposition": f'attachment; filename="{name}.{fmt}"'},
    )


CaseId = Annotated[str, Path(max_length=64)]
Csrf = Annotated[str, Form(max_length=100)]
LongText = Annotated[str, Form(max_length=FORM_TEXT)]


__all__ = [
    "ACTION_ERRORS",
    "CASE_STATUS_LABELS",
    "CHECK_LABELS",
    "CLOSURE_LABELS",
    "EVENT_LABELS",
    "FORM_TEXT",
    "KIND_LABELS",
    "CaseId",
    "Csrf",
    "Figures",
    "Format",
    "FormState",
    "LongText",
    "ShownEvent",
    "ShownSource",
    "Year",
    "attachment",
    "figures",
    "labels",
    "number",
    "other_details",
    "shown_events",
    "shown_sources",
    "year_of",
]
