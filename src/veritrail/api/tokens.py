"""API routes of one's own account: API tokens, and the export of one's state's data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions.tokens import CreatedToken, do_create_token, do_revoke_token
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import requires
from veritrail.queries.mydata import my_data_zip
from veritrail.queries.tokens import TokenPublic, list_tokens

router = APIRouter()

TokenManager = Annotated[Actor, Depends(requires(Action.TOKEN_MANAGE_OWN))]
Exporter = Annotated[Actor, Depends(requires(Action.MY_DATA_EXPORT))]


class TokenCreate(BaseModel):
    """A new token: what it is for, what it may do, and for how long."""

    name: str = Field(min_length=1, max_length=200, examples=["ci"])
    scopes: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Permissions the token carries; each must be held by your role.",
        examples=[["declaration.read", "declaration.submit"]],
    )
    expires_in_days: int = Field(ge=1, le=365, description="Lifetime in days (at most 365).")


@router.get("/tokens", tags=["tokens"])
def tokens(ctx: CtxDep, actor: TokenManager) -> list[TokenPublic]:
    """Your API tokens, newest first, with their state (active, expired, revoked); never
    their secret, which is shown only once, when a token is created."""
    return list_tokens(ctx, actor=actor)


@router.post("/tokens", tags=["tokens"], status_code=201)
def create_token(body: TokenCreate, ctx: CtxDep, actor: TokenManager) -> CreatedToken:
    """Create an API token for yourself. The response carries the token (`vt_…`) this once:
    keep it; only its hash is stored. Send it as `Authorization: Bearer vt_…`. A token cannot
    create further tokens: sign in to the web interface for that."""
    now = datetime.now(UTC)
    return do_create_token(
        ctx,
        actor=actor,
        username=actor.username,
        name=body.name,
        scopes=body.scopes,
        expires_at=now + timedelta(days=body.expires_in_days),
        now=now,
    )


@router.delete("/tokens/{token_id}", tags=["tokens"], status_code=204)
def revoke_token(token_id: str, ctx: CtxDep, actor: TokenManager) -> Response:
    """Revoke one of your tokens (administrators: anyone's). It stops working at once;
    revoking a revoked token changes nothing."""
    do_revoke_token(ctx, actor=actor, token_id=token_id)
    return Response(status_code=204)


@router.get(
    "/my-data",
    tags=["my data"],
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "A ZIP archive"}},
)
def my_data(ctx: CtxDep, actor: Exporter) -> Response:
    """Everything your state submitted, as a ZIP: each version's canonical JSON
    (`declarations/<id>/v<N>.json`), the original file as received, and `manifest.json`
    with the SHA-256 of both, so that each hash can be checked on your own machine."""
    data, name = my_data_zip(ctx, actor=actor)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


__all__ = ["router"]
