"""Reads of users: sign-in and the actor behind a session."""

from __future__ import annotations

from sqlalchemy import func, select

from veritrail.access import Actor, Role
from veritrail.access.passwords import verify_password
from veritrail.store.context import Context
from veritrail.store.models import Declaration, Facility, GroupMember, User


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


def authenticate(ctx: Context, *, username: str, password: str) -> Actor | None:
    """The actor for valid credentials, else None (without saying which part was wrong)."""
    with ctx.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            verify_password("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + "A" * 43, password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        return _actor(user)


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


__all__ = ["actor_for", "authenticate", "is_empty"]
