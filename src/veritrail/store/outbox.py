"""The search outbox: each change that search must see, written in the change's transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from veritrail.store.models import SearchOutbox
from veritrail.store.types import utcnow

# Applied rows stay this long, so an index rebuilt meanwhile can catch up from its start.
KEEP_APPLIED = timedelta(days=1)


def touch(session: Session, record_type: str, record_id: str) -> None:
    """Ask the indexer to refresh one record's search entry."""
    session.add(SearchOutbox(record_type=record_type, record_id=record_id))


def pending(session: Session, after: int, limit: int) -> list[SearchOutbox]:
    """Outbox rows after position ``after``, oldest first."""
    return list(
        session.scalars(
            select(SearchOutbox)
            .where(SearchOutbox.id > after)
            .order_by(SearchOutbox.id)
            .limit(limit)
        )
    )


def last_position(session: Session) -> int:
    return int(session.scalar(select(func.max(SearchOutbox.id))) or 0)


def prune(session: Session, applied: int) -> int:
    """Drop rows the index applied more than :data:`KEEP_APPLIED` ago."""
    result = session.execute(
        delete(SearchOutbox).where(
            SearchOutbox.id <= applied, SearchOutbox.created_at < utcnow() - KEEP_APPLIED
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["KEEP_APPLIED", "last_position", "pending", "prune", "touch"]
