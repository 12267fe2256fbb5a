"""Dependencies of every API route: the context and the actor."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from veritrail.access import Actor
from veritrail.actions import Context
from veritrail.errors import NotAuthenticated
from veritrail.queries.accounts import actor_for, authenticate


def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


def _basic(request: Request, ctx: Context) -> Actor | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("malformed Basic authorization header") from None
    actor = authenticate(ctx, username=username, password=password)
    if actor is None:
        raise NotAuthenticated("wrong username or password")
    return actor


def current_actor(request: Request, ctx: CtxDep) -> Actor:
    """The signed-in user (session cookie) or HTTP Basic credentials."""
    actor = _basic(request, ctx)
    if actor is not None:
        return actor
    username = request.session.get("user") if "session" in request.scope else None
    if username:
        found = actor_for(ctx, username)
        if found is not None:
            return found
    raise NotAuthenticated("sign in first (session cookie or HTTP Basic credentials)")


CurrentActor = Annotated[Actor, Depends(current_actor)]

__all__ = ["CtxDep", "CurrentActor", "current_actor", "get_ctx"]
