"""The job queue: rows in the database, claimed one at a time by a worker.

A job is queued by an interface (an upload), claimed by a worker (the server's
in-process worker on the embedded default), reports its progress as it goes,
and ends done (with a result) or failed (with a message the user can act on).
A job whose worker stopped beating for :data:`STALE` is queued again.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from veritrail.errors import NotFound
from veritrail.store.models import Job
from veritrail.store.types import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as its owner sees it."""

    id: str
    kind: str
    state: str
    done: int
    total: int
    message: str
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


def _view(job: Job) -> JobView:
    return JobView(
        id=job.id,
        kind=job.kind,
        state=job.state,
        done=job.done,
        total=job.total,
        message=job.message,
        result=job.result,
        error=job.error,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def new_job_id() -> str:
    return "J-" + uuid.uuid4().hex[:16].upper()


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    created_by: str,
    total: int = 0,
    job_id: str | None = None,
) -> str:
    """Queue a job in the caller's transaction; its id."""
    job_id = job_id or new_job_id()
    session.add(
        Job(
            id=job_id,
            kind=kind,
            state=QUEUED,
            payload=payload,
            created_by=created_by,
            total=total,
            message="waiting for a worker",
        )
    )
    return job_id


def claim(
    sessions: sessionmaker[Session], kinds: set[str]
) -> tuple[str, str, dict[str, Any]] | None:
    """Take the oldest queued job of ``kinds`` (or one whose worker went quiet).

    The claim is a conditional update, so two workers never run the same job.
    """
    now = utcnow()
    with sessions() as session, session.begin():
        candidates = session.scalars(
            select(Job.id)
            .where(
                Job.kind.in_(sorted(kinds)),
                or_(
                    Job.state == QUEUED,
                    (Job.state == RUNNING) & (Job.heartbeat_at < now - STALE),
                ),
            )
            .order_by(Job.created_at)
            .limit(5)
        ).all()
        for job_id in candidates:
            taken = session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    or_(
                        Job.state == QUEUED,
                        (Job.state == RUNNING) & (Job.heartbeat_at < now - STALE),
                    ),
                )
                .values(
                    state=RUNNING,
                    started_at=now,
                    heartbeat_at=now,
                    worker=worker_name(),
                    message="started",
                )
            )
            if getattr(taken, "rowcount", 0) == 1:
                kind, payload = session.execute(
                    select(Job.kind, Job.payload).where(Job.id == job_id)
                ).one()
                return job_id, kind, dict(payload)
    return None


def progress(
    sessions: sessionmaker[Session], job_id: str, *, done: int, total: int, message: str
) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(done=done, total=total, message=message[:500], heartbeat_at=utcnow())
        )


def finish(sessions: sessionmaker[Session], job_id: str, result: dict[str, Any]) -> None:
    now = utcnow()
    with sessions() as session, session.begin():
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state=DONE, result=result, finished_at=now, heartbeat_at=now, message="done")
        )


def fail(sessions: sessionmaker[Session], job_id: str, error: str) -> None:
    now = utcnow()
    with sessions() as session, session.begin():
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state=FAILED, error=error[:5000], finished_at=now, message="failed")
        )


def get(session: Session, job_id: str) -> JobView:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job with id {job_id!r}")
    return _view(job)


def recent(session: Session, created_by: str, limit: int = 20) -> list[JobView]:
    rows = session.scalars(
        select(Job).where(Job.created_by == created_by).order_by(Job.created_at.desc()).limit(limit)
    )
    return [_view(job) for job in rows]


__all__ = [
    "DONE",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "STALE",
    "JobView",
    "claim",
    "enqueue",
    "fail",
    "finish",
    "get",
    "new_job_id",
    "progress",
    "recent",
    "worker_name",
]
