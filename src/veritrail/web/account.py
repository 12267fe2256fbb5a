"""My account: API tokens for machine clients, and the export of one's state's data.

A new token is shown in the response to the form that created it and
nowhere else: never in a redirect, a flash message or the session cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, can
from veritrail.actions.tokens import (
    CreatedToken,
    do_create_token,
    do_revoke_token,
    grantable_scopes,
)
from veritrail.api.deps import CtxDep
from veritrail.errors import InputError, NotFound
from veritrail.queries.tokens import list_tokens
from veritrail.web.common import N_, flash, page
from veritrail.web.deps import web_requires
from veritrail.web.security import check_csrf

router = APIRouter()

TokenOwner = Annotated[Actor, Depends(web_requires(Action.TOKEN_MANAGE_OWN))]

SCOPE_LABELS: dict[str, str] = {
    Action.DECLARATION_READ: N_("Read declarations, their versions and original files"),
    Action.DECLARATION_SUBMIT: N_("Submit and amend declarations"),
    Action.DECLARATION_RECLASSIFY: N_("Change the classification of declarations"),
    Action.STATUS_READ: N_("Read reporting status"),
    Action.REFERENCE_READ: N_("Read regimes, templates, states and facilities"),
    Action.ACCESS_LOG_READ: N_("Read the access log"),
    Action.USER_MANAGE: N_("Manage organisations, users and tokens"),
    Action.TOKEN_MANAGE_OWN: N_("List and revoke one's own API tokens"),
    Action.MY_DATA_EXPORT: N_("Export everything one's own state submitted"),
    Action.SIGNING_KEY_READ: N_("See the signing keys of states"),
    Action.SIGNING_KEY_MANAGE: N_("Register, rotate and revoke signing keys"),
}
TOKEN_STATE_LABELS: dict[str, str] = {
    "active": N_("Active"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}
LIFETIMES = (7, 30, 90, 180, 365)


def _account_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    *,
    created: CreatedToken | None = None,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "account/index.html",
        {
            "tokens": list_tokens(ctx, actor=actor),
            "scopes": grantable_scopes(actor.role),
            "scope_labels": SCOPE_LABELS,
            "token_state_labels": TOKEN_STATE_LABELS,
            "lifetimes": LIFETIMES,
            "can_export": actor.state is not None and can(actor, Action.MY_DATA_EXPORT),
            "show_signing_keys": actor.state is not None and can(actor, Action.SIGNING_KEY_READ),
            "created": created,
            "error": error,
            "form": form or {"name": "", "scopes": [], "days": 90},
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/account", include_in_schema=False)
def account(request: Request, ctx: CtxDep, actor: TokenOwner) -> Response:
    """My account: API tokens, and the export of one's state's data."""
    return _account_page(request, ctx, actor)


@router.post("/account/tokens", include_in_schema=False)
def create_token(
    request: Request,
    ctx: CtxDep,
    actor: TokenOwner,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    days: Annotated[int, Form(ge=1, le=365)] = 90,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    now = datetime.now(UTC)
    try:
        created = do_create_token(
            ctx,
            actor=actor,
            username=actor.username,
            name=name,
            scopes=scopes,
            expires_at=now + timedelta(days=days),
            now=now,
        )
    except InputError as exc:
        form = {"name": name, "scopes": scopes, "days": days}
        return _account_page(request, ctx, actor, error=exc.message, form=form, status_code=400)
    response = _account_page(request, ctx, actor, created=created, status_code=201)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(
    request: Request,
    ctx: CtxDep,
    actor: TokenOwner,
    token_id: str,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    # Only one's own tokens here, administrators included: theirs are under /admin/tokens.
    if not any(t.id == token_id for t in list_tokens(ctx, actor=actor)):
        raise NotFound(f"no API token {token_id!r}")
    if do_revoke_token(ctx, actor=actor, token_id=token_id):
        flash(request, N_("Token %(id)s revoked."), id=token_id)
    return RedirectResponse("/account", status_code=303)


__all__ = ["SCOPE_LABELS", "TOKEN_STATE_LABELS", "router"]
