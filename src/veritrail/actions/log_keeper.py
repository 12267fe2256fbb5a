"""The server's log keeper: a background thread that keeps the log signed and complete.

Every write integrates its own entry right after commit; the keeper catches
what a killed process left committed but unsigned, commits the access log in
batches, and asks the configured witnesses to cosign new checkpoints. It also
applies the search outbox, so records written by any process (a command-line
import, another server) are searchable within a second.
"""

from __future__ import annotations

import logging
import threading
import time

from veritrail.access import OPERATOR
from veritrail.actions.ledger import commit_access_log, integrate
from veritrail.actions.witnessing import gather_cosignatures
from veritrail.errors import VeritrailError
from veritrail.search.indexer import sync_quietly
from veritrail.store.context import Context

logger = logging.getLogger(__name__)


class LogKeeper:
    """Runs :meth:`tick` every ``interval`` seconds until stopped."""

    def __init__(self, ctx: Context, *, interval: float = 1.0, access_every: float = 60.0) -> None:
        self.ctx = ctx
        self.interval = interval
        self.access_every = access_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_access = 0.0

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last_access >= self.access_every:
            commit_access_log(self.ctx, actor=OPERATOR)
            self._last_access = now
        integrate(self.ctx)
        if self.ctx.settings.log_witnesses:
            gather_cosignatures(self.ctx)
        sync_quietly(self.ctx)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except VeritrailError as exc:
                logger.warning("log keeper: %s", exc.message)
            except Exception:  # noqa: BLE001 - the keeper must outlive a bad moment
                logger.exception("log keeper failed; retrying")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="veritrail-log-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


__all__ = ["LogKeeper"]
