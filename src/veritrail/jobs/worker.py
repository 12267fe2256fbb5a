"""The in-process worker: a thread that claims queued jobs and runs their handlers.

Handlers are plain functions registered by kind; they get the job's id, its
payload and a ``report(done, total, message)`` callable, and return the job's
result. A :class:`~veritrail.errors.VeritrailError` fails the job with its
message; anything else fails it with a short notice and is logged in full.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from veritrail.errors import VeritrailError
from veritrail.jobs import queue

logger = logging.getLogger(__name__)

Report = Callable[[int, int, str], None]


class Handler(Protocol):
    def __call__(self, job_id: str, payload: dict[str, Any], report: Report) -> dict[str, Any]: ...


class Worker:
    """Polls the queue every ``interval`` seconds (at once after a job) until stopped."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        *,
        interval: float = 0.5,
    ) -> None:
        self.sessions = sessions
        self.handlers = dict(handlers)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_one(self) -> bool:
        """Claim and run one job; False when none was waiting."""
        claimed = queue.claim(self.sessions, set(self.handlers))
        if claimed is None:
            return False
        job_id, kind, payload = claimed

        def report(done: int, total: int, message: str) -> None:
            queue.progress(self.sessions, job_id, done=done, total=total, message=message)

        try:
            result = self.handlers[kind](job_id, payload, report)
        except VeritrailError as exc:
            queue.fail(self.sessions, job_id, exc.message)
        except Exception:
            logger.exception("job %s (%s) failed", job_id, kind)
            queue.fail(
                self.sessions, job_id, "the job stopped on an internal error; it has been logged"
            )
        else:
            queue.finish(self.sessions, job_id, result)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_one()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad moment
                logger.exception("job worker failed; retrying")
                busy = False
            if not busy:
                self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="veritrail-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


__all__ = ["Handler", "Report", "Worker"]
