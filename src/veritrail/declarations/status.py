"""Reporting status per state, regime and period, from deadlines in the packs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from veritrail.declarations.models import ReportingStatus
from veritrail.regimes.model import DeclarationType

# Worst first: a regime's status for a state is the worst of its expected types.
_ORDER = [
    ReportingStatus.MISSING,
    ReportingStatus.LATE,
    ReportingStatus.DRAFT,
    ReportingStatus.NOT_YET_DUE,
    ReportingStatus.ON_TIME,
    ReportingStatus.NOTHING_TO_DECLARE,
]


@dataclass(frozen=True, slots=True)
class Filed:
    """The facts about one declaration that its reporting status depends on."""

    type: str
    first_submitted_at: datetime | None
    nothing_to_declare: bool


def due_moment(dtype: DeclarationType, period: int) -> datetime:
    """The end of the due day, in UTC: a submission before it is on time."""
    return datetime.combine(dtype.deadline.due(period) + timedelta(days=1), time(), UTC)


def type_status(
    dtype: DeclarationType, period: int, filed: list[Filed], now: datetime
) -> ReportingStatus:
    submitted = [f for f in filed if f.first_submitted_at is not None]
    if not submitted:
        if filed:
            return (
                ReportingStatus.DRAFT
                if now < due_moment(dtype, period)
                else ReportingStatus.MISSING
            )
        return (
            ReportingStatus.NOT_YET_DUE
            if now < due_moment(dtype, period)
            else ReportingStatus.MISSING
        )
    first = min(f.first_submitted_at for f in submitted if f.first_submitted_at)
    if first >= due_moment(dtype, period):
        return ReportingStatus.LATE
    if all(f.nothing_to_declare for f in submitted):
        return ReportingStatus.NOTHING_TO_DECLARE
    return ReportingStatus.ON_TIME


def regime_status(
    expected: list[DeclarationType], period: int, filed: list[Filed], now: datetime
) -> ReportingStatus:
    """The worst status over the declaration types every party must file."""
    statuses = [
        type_status(dtype, period, [f for f in filed if f.type == dtype.id], now)
        for dtype in expected
    ]
    if not statuses:
        return ReportingStatus.NOT_YET_DUE
    return min(statuses, key=_ORDER.index)


def regime_due(expected: list[DeclarationType], period: int) -> date:
    return min(d.deadline.due(period) for d in expected)


__all__ = ["Filed", "due_moment", "regime_due", "regime_status", "type_status"]
