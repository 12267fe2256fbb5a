"""Re-evaluating cases when declarations arrive, as a background job.

Every submission and amendment queues one refresh (at most one waits at a
time); the worker runs all the checks and brings the cases up to date, so an
amendment that removes a discrepancy resolves its case, and an answer by
amendment is recorded on the request it answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veritrail.access import Actor, Role
from veritrail.actions.cases import do_refresh_cases
from veritrail.jobs import queue
from veritrail.jobs.worker import Handler, Report
from veritrail.store.context import Context
from veritrail.store.models import Job

REFRESH_JOB = "analysis.refresh"
CHECKS_ACTOR = Actor(
    username="veritrail-checks", role=Role.OPERATOR, display_name="Veritrail checks"
)


def enqueue_refresh(session: Session, *, created_by: str) -> None:
    """Queue a refresh in the caller's transaction, unless one is already waiting."""
    waiting = session.scalars(
        select(Job.id).where(Job.kind == REFRESH_JOB, Job.state == queue.QUEUED).limit(1)
    ).first()
    if waiting is None:
        queue.enqueue(session, kind=REFRESH_JOB, payload={}, created_by=created_by, total=1)


def refresh_handler(ctx: Context) -> Handler:
    def handle(job_id: str, payload: dict[str, Any], report: Report) -> dict[str, Any]:
        report(0, 1, "running the checks")
        summary = do_refresh_cases(ctx, actor=CHECKS_ACTOR)
        report(1, 1, "cases up to date")
        return summary.as_json()

    return handle


__all__ = ["CHECKS_ACTOR", "REFRESH_JOB", "enqueue_refresh", "refresh_handler"]
