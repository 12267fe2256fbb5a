"""Dependencies of web views: the signed-in actor, or a redirect to sign in."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import ACTION_ATTRIBUTE
from veritrail.api.session import session_username
from veritrail.errors import NotAuthenticated
from veritrail.queries.accounts import actor_for


class LoginRequired(NotAuthenticated):
    """Raised by web views; turned into a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__("sign in to continue")
        self.next_url = next_url


def optional_actor(request: Request, ctx: CtxDep) -> Actor | None:
    username = session_username(request)
    return actor_for(ctx, username) if isinstance(username, str) else None


def web_actor(request: Request, ctx: CtxDep) -> Actor:
    actor = optional_actor(request, ctx)
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    return actor


WebActor = Annotated[Actor, Depends(web_actor)]


@cache
def web_requires(action: Action) -> Callable[..., Actor]:
    """Like ``api.permissions.requires`` for pages: signed-out readers go to sign-in."""

    def dependency(actor: WebActor) -> Actor:
        require(actor, action)
        return actor

    setattr(dependency, ACTION_ATTRIBUTE, action)
    dependency.__name__ = f"web_requires_{action.value.replace('.', '_')}"
    return dependency


MaybeActor = Annotated[Actor | None, Depends(optional_actor)]
WebReader = Annotated[Actor, Depends(web_requires(Action.DECLARATION_READ))]
WebSubmitter = Annotated[Actor, Depends(web_requires(Action.DECLARATION_SUBMIT))]
WebStatusReader = Annotated[Actor, Depends(web_requires(Action.STATUS_READ))]
WebReferenceReader = Annotated[Actor, Depends(web_requires(Action.REFERENCE_READ))]

__all__ = [
    "LoginRequired",
    "MaybeActor",
    "WebActor",
    "optional_actor",
    "web_actor",
    "web_requires",
]
