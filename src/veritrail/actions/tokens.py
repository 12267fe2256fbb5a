"""Writes to API tokens: creation (the secret is shown once), revocation, use.

A token is ``vt_`` followed by 32 random bytes (URL-safe base64). Only its
SHA-256 is stored, so a copy of the database gives no usable token. Its
scopes are permissions (:class:`~veritrail.access.policy.Action` values) the
owner's role holds; the role's grants still apply on every request, so a
token never reaches further than its owner, even after a change of role.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select

from veritrail.access import Actor, Role
from veritrail.access.policy import Action, can, require
from veritrail.actions import audit
from veritrail.errors import Forbidden, InputError, NotFound
from veritrail.store.context import Context
from veritrail.store.models import ApiToken, User

TOKEN_PREFIX = "vt_"  # noqa: S105 - the visible prefix of every token, not a secret
MAX_LIFETIME = timedelta(days=365)
# Writing last_used_at on every request would turn each read into a write;
# once a minute is precise enough to tell a live token from a forgotten one.
USE_RESOLUTION = timedelta(minutes=1)


class CreatedToken(BaseModel):
    """A new token; ``token`` is shown this once and cannot be recovered."""

    id: str
    token: str
    username: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime


def grantable_scopes(role: Role) -> list[str]:
    """The scopes a token of a user with ``role`` may carry."""
    probe = Actor(username="-", role=role)
    return [a.value for a in Action if a is not Action.PUBLIC and can(probe, a)]


def _check_scopes(owner: Actor, scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen:
        raise InputError("choose at least one scope for the token", field="scopes")
    allowed = grantable_scopes(owner.role)
    for scope in chosen:
        if scope not in allowed:
            known = scope in {a.value for a in Action}
            reason = (
                f"the role {owner.role.value} of {owner.username} does not hold it"
                if known
                else "it is not a permission of Veritrail"
            )
            raise InputError(
                f"the scope {scope!r} cannot be given: {reason}; "
                f"allowed scopes: {', '.join(allowed)}",
                field="scopes",
            )
    return chosen


def do_create_token(
    ctx: Context,
    *,
    actor: Actor,
    username: str,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
    now: datetime | None = None,
) -> CreatedToken:
    """Create a token for ``username``: a user for themself, or the local operator for anyone.

    A token cannot create tokens: that would let a leaked token outlive its
    expiry. Sign in, or ask the operator.
    """
    now = now or datetime.now(UTC)
    if actor.scopes is not None:
        raise Forbidden("an API token cannot create tokens; sign in to the web interface")
    if actor.role is not Role.OPERATOR:
        require(actor, Action.TOKEN_MANAGE_OWN)
        if username != actor.username:
            raise Forbidden("you may only create API tokens for yourself")
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("give the token a name of 1 to 200 characters", field="name")
    if expires_at.tzinfo is None:
        raise InputError("the expiry needs a time zone", field="expires_at")
    if expires_at <= now:
        raise InputError("the expiry must lie in the future", field="expires_at")
    if expires_at - now > MAX_LIFETIME + timedelta(minutes=5):
        raise InputError("a token lives at most 365 days", field="expires_at")
    with ctx.sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user {username!r}")
        if not user.active:
            raise InputError(f"the account {username!r} is deactivated")
        owner = Actor(username=user.username, role=Role(user.role), state=user.organisation.state)
        chosen = _check_scopes(owner, scopes)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = "T-" + uuid.uuid4().hex[:16].upper()
        session.add(
            ApiToken(
                id=token_id,
                user_id=user.id,
                name=name,
                token_sha256=hashlib.sha256(secret.encode("utf-8")).hexdigest(),
                scopes=chosen,
                created_at=now,
                expires_at=expires_at,
            )
        )
        audit.record(
            session,
            actor=actor,
            action="token.create",
            record_type="api_token",
            record_id=token_id,
            user=username,
            name=name,
            scopes=chosen,
            expires_at=expires_at.isoformat(),
        )
    return CreatedToken(
        id=token_id,
        token=secret,
        username=username,
        name=name,
        scopes=chosen,
        created_at=now,
        expires_at=expires_at,
    )


def do_revoke_token(
    ctx: Context, *, actor: Actor, token_id: str, now: datetime | None = None
) -> bool:
    """Revoke a token: one's own, or anyone's for administrators and the operator.

    Returns False when it was revoked already (nothing changes then).
    """
    now = now or datetime.now(UTC)
    manager = can(actor, Action.USER_MANAGE) and (
        actor.scopes is None or Action.USER_MANAGE.value in actor.scopes
    )
    with ctx.sessions() as session, session.begin():
        found = session.execute(
            select(ApiToken, User.username)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id == token_id)
            .with_for_update(of=ApiToken)
        ).first()
        # Someone else's token is reported as absent, so identifiers reveal nothing.
        if found is None or (found[1] != actor.username and not manager):
            raise NotFound(f"no API token {token_id!r}")
        row, username = found
        if not manager:
            require(actor, Action.TOKEN_MANAGE_OWN)
        if row.revoked_at is not None:
            return False
        row.revoked_at = now
        audit.record(
            session,
            actor=actor,
            action="token.revoke",
            record_type="api_token",
            record_id=row.id,
            user=username,
        )
    return True


def do_note_token_use(
    ctx: Context, *, token_id: str, last_used_at: datetime | None, now: datetime | None = None
) -> None:
    """Record when a token was last used (at most once a minute; no audit row for a read)."""
    now = now or datetime.now(UTC)
    if last_used_at is not None and now - last_used_at < USE_RESOLUTION:
        return
    with ctx.sessions() as session, session.begin():
        row = session.get(ApiToken, token_id)
        if row is not None:
            row.last_used_at = now


__all__ = [
    "MAX_LIFETIME",
    "TOKEN_PREFIX",
    "CreatedToken",
    "do_create_token",
    "do_note_token_use",
    "do_revoke_token",
    "grantable_scopes",
]
