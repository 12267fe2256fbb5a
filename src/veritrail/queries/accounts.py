"""Reads of users: sign-in and the actor behind a session."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from veritrail.access import Actor, Role
from veritrail.access.passwords import verify_password
from veritrail.access.sealing import Sealer
from veritrail.store.context import Context
from veritrail.store.models import Declaration, Facility, GroupMember, User

# A well-formed argon2id hash no password matches: unknown usernames cost as much as known ones.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + "A" * 43


def _actor(user: User, groups: frozenset[str] = frozenset()) -> Actor:
    return Actor(
        username=user.username,
        role=Role(user.role),
        state=user.organisation.state,
        organisation_id=user.organisation_id,
        display_name=user.display_name,
        language=user.language,
        groups=groups,
    )


def authenticate(
    ctx: Context, *, username: str, password: str, now: datetime | None = None
) -> Actor | None:
    """The actor for a valid password, else None (without saying which part was wrong).

    Password only, and no failure is counted: the web sign-in goes through
    :mod:`veritrail.actions.login`, which also asks for the second factor and
    locks accounts. Inactive and locked accounts are refused here too.
    """
    moment = now or datetime.now(UTC)
    with ctx.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        if not user.active or (user.locked_until is not None and user.locked_until > moment):
            return None
        return _actor(user)


def second_factor_secret(ctx: Context, *, username: str) -> str | None:
    """The unsealed TOTP secret of ``username``, or None if not enrolled.

    For the local operator only (``veritrail demo`` prints the demo accounts'
    secrets); never shown through the web interface or the API.
    """
    with ctx.sessions() as session:
        sealed = session.scalars(select(User.totp_secret).where(User.username == username)).first()
    if sealed is None:
        return None
    return Sealer.from_settings(ctx.settings).unseal(sealed)


def actor_for(ctx: Context, username: str) -> Actor | None:
    """The actor of a signed-in user, with the need-to-know groups it belongs to."""
    with ctx.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            return None
        groups = frozenset(
            session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id))
        )
        return _actor(user, groups)


def is_empty(ctx: Context) -> bool:
    """True when no declaration, user or facility is stored yet."""
    with ctx.sessions() as session:
        return not any(
            session.scalar(select(func.count()).select_from(model))
            for model in (Declaration, User, Facility)
        )


__all__ = ["actor_for", "authenticate", "is_empty", "second_factor_secret"]
