"""The audit row every action writes in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from veritrail.access import Actor
from veritrail.store.models import AuditEvent


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: str,
    version: int | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEvent(
            actor=actor.username,
            action=action,
            record_type=record_type,
            record_id=record_id,
            version=version,
            details=details,
        )
    )


__all__ = ["record"]
