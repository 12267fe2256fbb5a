"""Append-only record of reads of protected and highly protected material."""

from __future__ import annotations

from sqlalchemy.orm import Session

from veritrail.store.models import AccessEvent


def record_access(
    session: Session,
    *,
    actor: str,
    action: str,
    record_type: str,
    record_id: str,
    classification: str,
    version: int | None = None,
    client: str | None = None,
    purpose: str | None = None,
) -> None:
    """Add one access event to ``session``; the caller commits it."""
    session.add(
        AccessEvent(
            actor=actor,
            action=action,
            record_type=record_type,
            record_id=record_id,
            version=version,
            classification=classification,
            client=(client or "")[:100] or None,
            purpose=(purpose or "")[:300] or None,
        )
    )


__all__ = ["record_access"]
