"""Dependencies of every API route: the context and the actor.

An API caller is either a signed-in web session (the cookie) or a machine
client presenting an API token (``Authorization: Bearer vt_…``). Passwords are
not accepted here: a password alone must not bypass the second factor of
the web sign-in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from veritrail.access import Actor
from veritrail.actions import Context
from veritrail.actions.tokens import do_note_token_use
from veritrail.api.session import session_username
from veritrail.errors import NotAuthenticated
from veritrail.queries.accounts import actor_for
from veritrail.queries.tokens import token_actor


def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


def _bearer(request: Request, ctx: Context) -> Actor | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthenticated(
            f"the {scheme or 'empty'} authorization scheme is not accepted; send an API token "
            "as 'Authorization: Bearer vt_…' (HTTP Basic is no longer accepted)"
        )
    secret = value.strip()
    if not secret:
        raise NotAuthenticated("the Bearer authorization header carries no token")
    use = token_actor(ctx, secret)
    do_note_token_use(ctx, token_id=use.token_id, last_used_at=use.last_used_at)
    # Kept for the access log and for error reports: the token's id, never the token.
    request.state.token_id = use.token_id
    return use.actor


def current_actor(request: Request, ctx: CtxDep) -> Actor:
    """The caller: an API token (Bearer) or the signed-in web session."""
    actor = _bearer(request, ctx)
    if actor is not None:
        return actor
    username = session_username(request)
    if username:
        found = actor_for(ctx, username)
        if found is not None:
            return found
    raise NotAuthenticated(
        "sign in first: send an API token as 'Authorization: Bearer vt_…', or use the "
        "session of the web interface"
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]

__all__ = ["CtxDep", "CurrentActor", "current_actor", "get_ctx"]
