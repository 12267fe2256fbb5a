"""The audit row every action writes in its own transaction.

Changes to accounts, organisations, tokens, second factors, signing keys and
classifications are also committed to the transparency log, in the same
transaction, so a state can see that the rules around its data changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from veritrail.access import Actor
from veritrail.actions.ledger import commit_audit_event
from veritrail.store.commitments import goes_to_log
from veritrail.store.models import AuditEvent
from veritrail.store.types import utcnow


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
    event = AuditEvent(
        at=utcnow(),
        actor=actor.username,
        action=action,
        record_type=record_type,
        record_id=record_id,
        version=version,
        details=details,
    )
    session.add(event)
    if goes_to_log(action):
        commit_audit_event(session, actor=actor, event=event)


__all__ = ["record"]
