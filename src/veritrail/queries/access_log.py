"""Reads of the access log, for auditors."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.store.context import Context
from veritrail.store.models import AccessEvent


class AccessEventPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    at: datetime
    actor: str
    action: str
    record_type: str
    record_id: str
    version: int | None
    classification: str
    client: str | None
    purpose: str | None


def list_access_events(
    ctx: Context,
    *,
    actor: Actor,
    record_id: str | None = None,
    who: str | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AccessEventPublic]:
    """The newest reads of protected material first; page with ``before_id``."""
    require(actor, Action.ACCESS_LOG_READ)
    query = select(AccessEvent).order_by(AccessEvent.id.desc()).limit(limit)
    if record_id is not None:
        query = query.where(AccessEvent.record_id == record_id)
    if who is not None:
        query = query.where(AccessEvent.actor == who)
    if before_id is not None:
        query = query.where(AccessEvent.id < before_id)
    with ctx.sessions() as session:
        return [
            AccessEventPublic.model_validate(row, from_attributes=True)
            for row in session.scalars(query)
        ]


__all__ = ["AccessEventPublic", "list_access_events"]
