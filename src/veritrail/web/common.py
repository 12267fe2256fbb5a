"""What every page view shares: flash messages, labels in the reader's language, periods."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from veritrail.access import Actor
from veritrail.actions import Context
from veritrail.declarations.models import Lifecycle, ReportingStatus, SubmissionResult
from veritrail.reference import states
from veritrail.regimes.model import Choice, FieldSpec, FieldType
from veritrail.web.render import language_of, render


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


STATUS_LABELS: dict[str, str] = {
    ReportingStatus.ON_TIME: N_("On time"),
    ReportingStatus.LATE: N_("Late"),
    ReportingStatus.MISSING: N_("Missing"),
    ReportingStatus.NOTHING_TO_DECLARE: N_("Nothing to declare"),
    ReportingStatus.NOT_YET_DUE: N_("Not yet due"),
    ReportingStatus.DRAFT: N_("Draft"),
}
STATUS_ORDER = [
    ReportingStatus.ON_TIME,
    ReportingStatus.LATE,
    ReportingStatus.MISSING,
    ReportingStatus.NOTHING_TO_DECLARE,
    ReportingStatus.NOT_YET_DUE,
    ReportingStatus.DRAFT,
]
LIFECYCLE_LABELS: dict[str, str] = {
    Lifecycle.DRAFT: N_("Draft"),
    Lifecycle.SUBMITTED: N_("Submitted"),
    Lifecycle.AMENDED: N_("Amended"),
}
CLASSIFICATION_LABELS: dict[str, str] = {
    "public": N_("Public"),
    "restricted": N_("Restricted"),
    "protected": N_("Protected"),
    "highly_protected": N_("Highly protected"),
}

HEADER_LABELS: dict[str, str] = {
    "format": N_("Format"),
    "regime": N_("Regime"),
    "type": N_("Declaration"),
    "period": N_("Period"),
    "state": N_("State"),
    "nothing_to_declare": N_("Nothing to declare"),
}


def flash(request: Request, message: str, kind: str = "success", **params: Any) -> None:
    """A message (a gettext id with ``%(name)s`` parameters) for the next page shown."""
    request.session["flash"] = {"kind": kind, "message": message, "params": params}


def flash_submitted(request: Request, result: SubmissionResult) -> None:
    """Tell the submitter the version stored, with the first warnings of the checks."""
    message = (
        N_("Amendment stored as version %(version)s.")
        if result.amendment
        else N_("Declaration submitted as version %(version)s.")
    )
    warnings = [
        {"path": str(w.get("path", ""))[:80], "message": str(w.get("message", ""))[:200]}
        for w in result.warnings[:10]
    ]
    request.session["flash"] = {
        "kind": "success",
        "message": message,
        "params": {"version": result.version},
        "warnings": warnings,
        "more": max(0, len(result.warnings) - 10),
    }


def page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a full page, with the flash message left by the previous request."""
    values: dict[str, Any] = {
        "flash": request.session.pop("flash", None),
        "status_labels": STATUS_LABELS,
        "lifecycle_labels": LIFECYCLE_LABELS,
        "classification_labels": CLASSIFICATION_LABELS,
    }
    values.update(context or {})
    return render(request, name, values, actor=actor, status_code=status_code)


def partial(
    request: Request, name: str, context: dict[str, Any], *, actor: Actor | None = None
) -> HTMLResponse:
    """Render a fragment for htmx (no flash is consumed)."""
    values: dict[str, Any] = {"status_labels": STATUS_LABELS}
    values.update(context)
    return render(request, name, values, actor=actor)


def current_period(now: datetime | None = None) -> int:
    """The calendar year most recently ended: the one reported on this year."""
    return (now or datetime.now(UTC)).year - 1


def period_choices(now: datetime | None = None) -> list[int]:
    year = (now or datetime.now(UTC)).year
    return list(range(year, year - 6, -1))


def state_name(code: str | None, language: str) -> str:
    if not code:
        return ""
    found = states.by_alpha3(code)
    return found.name(language) if found else code


def state_options(language: str) -> list[tuple[str, str]]:
    """Every state as (alpha-3, name in ``language``), sorted by name."""
    return sorted(
        ((s.alpha3, s.name(language)) for s in states.all_states()),
        key=lambda pair: pair[1].casefold(),
    )


def choice_label(choices: list[Choice] | None, value: Any, language: str) -> str:
    for choice in choices or []:
        if choice.value == value:
            return choice.label.get(language)
    return "" if value is None else str(value)


def display_value(spec: FieldSpec | None, value: Any, language: str) -> str:
    """A stored value as a reader sees it: labels for choices, names for states."""
    if value is None or value == "":
        return ""
    if spec is None:
        return str(value)
    if spec.type is FieldType.CHOICE:
        return choice_label(spec.choices, value, language)
    if spec.type is FieldType.STATE:
        return state_name(str(value), language)
    if spec.type is FieldType.BOOLEAN:
        return "✓" if value is True else "✗" if value is False else str(value)
    if spec.unit:
        return f"{value} {spec.unit}"
    return str(value)


def regime_title(ctx: Context, regime: str, language: str) -> str:
    pack = ctx.registry.packs.get(regime)
    return pack.regime.short_name.get(language) if pack else regime


def type_title(ctx: Context, regime: str, type_: str, language: str) -> str:
    pack = ctx.registry.packs.get(regime)
    dtype = pack.types.get(type_) if pack else None
    return dtype.title.get(language) if dtype else type_


def lang(request: Request) -> str:
    return language_of(request)


__all__ = [
    "CLASSIFICATION_LABELS",
    "HEADER_LABELS",
    "LIFECYCLE_LABELS",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "N_",
    "choice_label",
    "current_period",
    "display_value",
    "flash",
    "flash_submitted",
    "lang",
    "page",
    "partial",
    "period_choices",
    "regime_title",
    "state_name",
    "state_options",
    "type_title",
]


def client_of(request: Request) -> str | None:
    """Where a request came from, for the access log."""
    return request.client.host if request.client else None
