"""Reads of API tokens: who a presented token stands for, and the lists of tokens.

A token is never stored: only its SHA-256 is, and a presented token is found
by hashing it. Nothing here logs or returns a token's secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import select

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.errors import NotAuthenticated
from veritrail.queries.accounts import actor_for
from veritrail.store.context import Context
from veritrail.store.models import ApiToken, User

TOKEN_PREFIX = "vt_"  # noqa: S105 - the visible prefix of every token, not a secret


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenPublic(BaseModel):
    """An API token as its owner and administrators see it: never its secret."""

    id: str
    username: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    state: TokenState


@dataclasses.dataclass(frozen=True, slots=True)
class TokenUse:
    """The actor a valid token stands for, and what to note about its use."""

    token_id: str
    actor: Actor
    last_used_at: datetime | None


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _state(row: ApiToken, now: datetime) -> TokenState:
    if row.revoked_at is not None:
        return TokenState.REVOKED
    if row.expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def _public(row: ApiToken, username: str, now: datetime) -> TokenPublic:
    return TokenPublic(
        id=row.id,
        username=username,
        name=row.name,
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        state=_state(row, now),
    )


def token_actor(ctx: Context, secret: str, *, now: datetime | None = None) -> TokenUse:
    """The actor behind a presented token, limited to the token's scopes.

    Raises :class:`NotAuthenticated` saying why a token is refused; the
    message never repeats the token.
    """
    now = now or datetime.now(UTC)
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise NotAuthenticated(
            "this is not a Veritrail API token (they start with vt_); create one under "
            "My account → API tokens"
        )
    with ctx.sessions() as session:
        found = session.execute(
            select(ApiToken, User.username)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_sha256 == token_digest(secret))
        ).first()
    if found is None:
        raise NotAuthenticated("this API token is not known; check it or create a new one")
    row, username = found
    state = _state(row, now)
    if state is TokenState.REVOKED:
        when = row.revoked_at.date().isoformat() if row.revoked_at else ""
        raise NotAuthenticated(f"this API token ({row.id}) was revoked on {when}; create a new one")
    if state is TokenState.EXPIRED:
        raise NotAuthenticated(
            f"this API token ({row.id}) expired on {row.expires_at.date().isoformat()}; "
            "create a new one"
        )
    actor = actor_for(ctx, username)
    if actor is None:
        raise NotAuthenticated(f"the account behind this API token ({row.id}) is deactivated")
    return TokenUse(
        token_id=row.id,
        actor=dataclasses.replace(actor, scopes=frozenset(row.scopes)),
        last_used_at=row.last_used_at,
    )


def list_tokens(
    ctx: Context,
    *,
    actor: Actor,
    everyone: bool = False,
    owner: str | None = None,
    now: datetime | None = None,
) -> list[TokenPublic]:
    """The actor's own tokens, newest first.

    With ``everyone`` (administrators and the operator), every user's tokens,
    or those of ``owner`` only.
    """
    require(actor, Action.USER_MANAGE if everyone else Action.TOKEN_MANAGE_OWN)
    now = now or datetime.now(UTC)
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if not everyone:
        query = query.where(User.username == actor.username)
    elif owner is not None:
        query = query.where(User.username == owner)
    query = query.order_by(ApiToken.created_at.desc(), ApiToken.id)
    with ctx.sessions() as session:
        return [_public(row, username, now) for row, username in session.execute(query)]


__all__ = [
    "TOKEN_PREFIX",
    "TokenPublic",
    "TokenState",
    "TokenUse",
    "list_tokens",
    "token_actor",
    "token_digest",
]
