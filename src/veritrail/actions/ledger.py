"""Writes to the transparency log: entries with their records, integration, batches.

``commit_version`` and ``commit_audit_event`` run inside the caller's
transaction, so a record and its entry are stored together or not at all.
``integrate`` runs after commit and signs a checkpoint; ``commit_access_log``
puts the access log in, in batches.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from veritrail.access import Actor
from veritrail.ledger.envelope import Envelope
from veritrail.store import log
from veritrail.store.commitments import ACCESS_BATCH, access_batch_content, audit_content
from veritrail.store.context import Context
from veritrail.store.models import AccessEvent, AuditEvent, LedgerEntry

logger = logging.getLogger(__name__)

ACCESS_BATCH_LIMIT = 10_000
ACCESS_SETTLE = timedelta(seconds=10)


def _organisation(actor: Actor) -> str:
    return actor.organisation_id or actor.username


def commit_version(
    session: Session,
    *,
    actor: Actor,
    record_type: str,
    record_id: str,
    version: int,
    content_sha256: str,
    files: dict[str, str],
    at: datetime,
) -> int:
    """Append the envelope of one record version; its leaf index."""
    envelope = Envelope(
        record_type=record_type,
        record_id=record_id,
        version=version,
        content_sha256=content_sha256,
        organisation=_organisation(actor),
        time=at,
        files=files,
    )
    return log.append(
        session,
        [log.PendingEntry(envelope.to_bytes(), record_type, record_id, version)],
    )


def commit_audit_event(session: Session, *, actor: Actor, event: AuditEvent) -> int:
    """Append the entry of a change to accounts, keys or classification."""
    envelope = Envelope(
        record_type=event.record_type,
        record_id=event.record_id,
        version=event.version,
        content_sha256=hashlib.sha256(audit_content(event)).hexdigest(),
        organisation=_organisation(actor),
        time=event.at,
        files={"audit": event.action},
    )
    index = log.append(
        session,
        [log.PendingEntry(envelope.to_bytes(), event.record_type, event.record_id, None)],
    )
    event.ledger_index = index
    return index


def _last_batched_access_id(session: Session) -> int:
    last = session.scalars(
        select(LedgerEntry.record_id)
        .where(LedgerEntry.record_type == ACCESS_BATCH)
        .order_by(LedgerEntry.idx.desc())
        .limit(1)
    ).first()
    return int(last.split("-")[1]) if last else 0


def commit_access_log(ctx: Context, *, actor: Actor, now: datetime | None = None) -> int:
    """Commit access-log rows not yet in the log, as batches; how many rows went in.

    Rows younger than ``ACCESS_SETTLE`` are left for the next run: a row whose
    transaction commits late may carry a smaller id than rows already visible,
    and a batch must never pass over it.
    """
    total = 0
    moment = now or datetime.now(UTC)
    while True:
        with ctx.sessions() as session, session.begin():
            log.lock(session)  # one batcher at a time, so no range is committed twice
            after = _last_batched_access_id(session)
            events = list(
                session.scalars(
                    select(AccessEvent)
                    .where(AccessEvent.id > after, AccessEvent.at <= moment - ACCESS_SETTLE)
                    .order_by(AccessEvent.id)
                    .limit(ACCESS_BATCH_LIMIT)
                )
            )
            if not events:
                return total
            record_id = f"{events[0].id}-{events[-1].id}"
            envelope = Envelope(
                record_type=ACCESS_BATCH,
                record_id=record_id,
                version=None,
                content_sha256=hashlib.sha256(access_batch_content(events)).hexdigest(),
                organisation=_organisation(actor),
                time=moment,
                files={"rows": str(len(events))},
            )
            log.append(
                session, [log.PendingEntry(envelope.to_bytes(), ACCESS_BATCH, record_id, None)]
            )
            total += len(events)


def integrate(ctx: Context, *, attempts: int = 5) -> int:
    """Hash committed entries into tiles and sign a checkpoint; the log's signed size.

    Safe to call from any process at any time: concurrent calls queue on the
    log's lock and the later ones find nothing left to do.
    """
    signer = ctx.log_signer()
    for attempt in range(attempts):
        try:
            with ctx.sessions() as session, session.begin():
                return log.integrate(session, signer=signer, origin=signer.name)
        except OperationalError as exc:  # SQLite busy beyond its timeout: try again
            if attempt == attempts - 1:
                raise
            logger.warning("log integration retried: %s", exc.orig)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = [
    "commit_access_log",
    "commit_audit_event",
    "commit_version",
    "integrate",
]
