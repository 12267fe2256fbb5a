"""Reads of reference data: facilities and organisations."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from veritrail.access import Actor
from veritrail.store.context import Context
from veritrail.store.models import Facility


class FacilityPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    state: str
    name: str
    kind: str
    regime: str
    latitude: float
    longitude: float
    operator: str | None


def list_facilities(
    ctx: Context, *, actor: Actor, state: str | None = None, limit: int = 500, offset: int = 0
) -> list[FacilityPublic]:
    """Facilities with coordinates; a national authority sees its own state's only."""
    query = select(Facility).order_by(Facility.state, Facility.id)
    if actor.is_national:
        query = query.where(Facility.state == actor.state)
    if state is not None:
        query = query.where(Facility.state == state)
    with ctx.sessions() as session:
        rows = session.scalars(query.limit(limit).offset(offset)).all()
    return [
        FacilityPublic(
            id=r.id,
            state=r.state,
            name=r.name,
            kind=r.kind,
            regime=r.regime,
            latitude=r.latitude,
            longitude=r.longitude,
            operator=r.operator,
        )
        for r in rows
    ]


__all__ = ["FacilityPublic", "list_facilities"]
