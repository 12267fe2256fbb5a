"""API routes for classification changes and the access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions import do_reclassify, do_reclassify_annex
from veritrail.api.deps import SQL_BIGINT_MAX, CtxDep
from veritrail.api.permissions import requires
from veritrail.queries.access_log import AccessEventPublic, list_access_events
from veritrail.regimes.model import Classification

router = APIRouter()

Reclassifier = Annotated[Actor, Depends(requires(Action.DECLARATION_RECLASSIFY))]
LogReader = Annotated[Actor, Depends(requires(Action.ACCESS_LOG_READ))]


class ClassificationChange(BaseModel):
    classification: Classification
    reason: str = Field(min_length=1, max_length=1000)
    group_id: str | None = Field(default=None, max_length=64)


@router.put("/declarations/{declaration_id}/classification", tags=["declarations"], status_code=204)
def reclassify(
    declaration_id: str, change: ClassificationChange, ctx: CtxDep, actor: Reclassifier
) -> None:
    """Change a declaration's classification; the change and its reason are logged."""
    do_reclassify(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        classification=change.classification,
        reason=change.reason,
        group_id=change.group_id,
    )


class AnnexClassificationChange(BaseModel):
    classification: Classification
    reason: str = Field(min_length=1, max_length=1000)


@router.put(
    "/declarations/{declaration_id}/annexes/{section}/classification",
    tags=["declarations"],
    status_code=204,
)
def reclassify_annex(
    declaration_id: str,
    section: Annotated[str, Path(max_length=64, description="Section id of the annex")],
    change: AnnexClassificationChange,
    ctx: CtxDep,
    actor: Reclassifier,
) -> None:
    """Raise or lower one confidential annex of a declaration; the change and its reason are
    logged.

    The annex never goes below the declaration's own classification. A highly protected
    annex is limited to the declaration's need-to-know group: name the group on the
    declaration first (`PUT /api/declarations/{id}/classification` with `group_id`).
    """
    do_reclassify_annex(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        section=section,
        classification=change.classification,
        reason=change.reason,
    )


@router.get("/access-log", tags=["oversight"])
def access_log(
    ctx: CtxDep,
    actor: LogReader,
    record_id: Annotated[str | None, Query(max_length=64)] = None,
    who: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: Annotated[int | None, Query(ge=1, le=SQL_BIGINT_MAX)] = None,
) -> list[AccessEventPublic]:
    """Reads of protected and highly protected material, newest first (auditors)."""
    return list_access_events(
        ctx, actor=actor, record_id=record_id, who=who, limit=limit, before_id=before_id
    )
