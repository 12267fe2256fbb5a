"""API routes for reference data: states and facilities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.api.deps import SQL_INT_MAX, CtxDep
from veritrail.api.permissions import requires
from veritrail.errors import InputError
from veritrail.queries.reference import FacilityPublic, list_facilities
from veritrail.reference import all_states, lookup

router = APIRouter()

ReferenceReader = Annotated[Actor, Depends(requires(Action.REFERENCE_READ))]


@router.get("/states", tags=["reference"])
def states(actor: ReferenceReader) -> list[dict[str, Any]]:
    """UN member and observer states: ISO 3166-1 codes and names in the six UN languages."""
    return [
        {
            "alpha2": s.alpha2,
            "alpha3": s.alpha3,
            "numeric": s.numeric,
            "status": s.status,
            "names": s.names,
        }
        for s in all_states()
    ]


@router.get("/facilities", tags=["reference"])
def facilities(
    ctx: CtxDep,
    actor: ReferenceReader,
    state: Annotated[str | None, Query(max_length=60, description="ISO 3166-1 alpha-3")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=SQL_INT_MAX)] = 0,
) -> list[FacilityPublic]:
    """Declared facilities with their coordinates (WGS 84)."""
    alpha3 = None
    if state is not None:
        found = lookup(state)
        if found is None:
            raise InputError(f"{state!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
        alpha3 = found.alpha3
    return list_facilities(ctx, actor=actor, state=alpha3, limit=limit, offset=offset)
