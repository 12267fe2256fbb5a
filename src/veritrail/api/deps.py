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
from veritrail.api.session import csrf_matches, session_username
from veritrail.errors import Forbidden, InputError, NotAuthenticated
from veritrail.queries.accounts import actor_for
from veritrail.queries.tokens import token_actor

# Bounds of integer parameters: the largest value an INTEGER (versions) and a BIGINT
# (row ids, offsets) column holds on both SQLite and PostgreSQL. Beyond them a request is
# a 422 naming the parameter, not a database error.
SQL_INT_MAX = 2**31 - 1
SQL_BIGINT_MAX = 2**63 - 1


def client_of(request: Request) -> str | None:
    """Where a request came from, for the access log."""
    return request.client.host if request.client else None


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


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _require_csrf_header(request: Request) -> None:
    """A write made with the session cookie must also carry the page's CSRF token.

    Machine clients use tokens and are not concerned; a browser page sends the
    token in the ``X-CSRF-Token`` header, which another site cannot read.
    """
    if not csrf_matches(request, request.headers.get("x-csrf-token")):
        raise Forbidden(
            "a write with the web session needs the page's X-CSRF-Token header; "
            "machine clients use an API token instead"
        )


def current_actor(request: Request, ctx: CtxDep) -> Actor:
    """The caller: an API token (Bearer) or the signed-in web session."""
    actor = _bearer(request, ctx)
    if actor is not None:
        return actor
    username = session_username(request)
    if username:
        found = actor_for(ctx, username)
        if found is not None:
            if request.method not in SAFE_METHODS:
                _require_csrf_header(request)
            return found
    raise NotAuthenticated(
        "sign in first: send an API token as 'Authorization: Bearer vt_…', or use the "
        "session of the web interface"
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def no_nul_characters(request: Request) -> None:
    """Refuse a NUL character in the path, the query or a JSON or text body: PostgreSQL
    text and JSON cannot hold it, so it would otherwise fail deep in a query instead of
    here, with what to fix named."""
    parameters = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in parameters:
        if "\x00" in str(name) or "\x00" in str(value):
            raise InputError(f"the parameter {name!r} contains a NUL character (\\x00); remove it")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/json" or media_type.startswith("text/"):
        # The body is read once and kept by the request, so the route reads it again for free.
        body = await request.body()
        if b"\x00" in body or b"\\u0000" in body:
            raise InputError("the request body contains a NUL character (\\u0000); remove it")
    elif media_type == "application/x-www-form-urlencoded":
        # Parsed once and cached by the request, so the route reads the same form.
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str) and "\x00" in value:
                raise InputError(f"the form field {name!r} contains a NUL character; remove it")


__all__ = [
    "client_of",
    "SQL_BIGINT_MAX",
    "SQL_INT_MAX",
    "CtxDep",
    "CurrentActor",
    "current_actor",
    "get_ctx",
    "no_nul_characters",
]
