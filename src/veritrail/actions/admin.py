"""Administrators' writes to accounts: roles, deactivation, passwords, lock-outs, second factor.

Each function checks the ``user.manage`` permission itself, owns one
transaction and writes its audit row with the change. Temporary passwords
are returned to be shown once, and never written to the audit row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veritrail.access import Actor, Role
from veritrail.access.actor import NATIONAL
from veritrail.access.passwords import hash_password
from veritrail.access.policy import Action, require
from veritrail.actions import audit
from veritrail.actions.accounts import do_create_user
from veritrail.errors import Conflict, InputError, NotFound
from veritrail.store.context import Context
from veritrail.store.models import User

# Roles an administrator may give: the operator is the machine itself, not an account.
ASSIGNABLE_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.OPERATOR)


def temporary_password() -> str:
    """A password to hand over once (about 96 bits), to be replaced by its user."""
    return secrets.token_urlsafe(12)


def _check_role(role: Role) -> None:
    if role not in ASSIGNABLE_ROLES:
        raise InputError(f"the role {role.value} cannot be given to an account")


def _change_user(
    ctx: Context,
    *,
    actor: Actor,
    username: str,
    action: str,
    change: Callable[[Session, User], dict[str, Any] | None],
) -> None:
    """Apply ``change`` to one user and record it; ``change`` returns the audit details,
    or None when nothing changed (then nothing is recorded)."""
    require(actor, Action.USER_MANAGE)
    with ctx.sessions() as session, session.begin():
        user = session.scalars(
            select(User).where(User.username == username).with_for_update(of=User)
        ).first()
        if user is None:
            raise NotFound(f"no user {username!r}")
        details = change(session, user)
        if details is None:
            return
        audit.record(
            session,
            actor=actor,
            action=action,
            record_type="user",
            record_id=username,
            **details,
        )


def do_create_user_with_temporary_password(
    ctx: Context,
    *,
    actor: Actor,
    username: str,
    role: Role,
    organisation_id: str,
    display_name: str = "",
    language: str = "en",
) -> str:
    """Create an account and return its temporary password (shown once)."""
    require(actor, Action.USER_MANAGE)
    _check_role(role)
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InputError("a username has 1 to 100 characters and no spaces", field="username")
    password = temporary_password()
    do_create_user(
        ctx,
        actor=actor,
        username=username,
        password=password,
        role=role,
        organisation_id=organisation_id,
        display_name=display_name.strip(),
        language=language,
    )
    return password


def do_change_role(ctx: Context, *, actor: Actor, username: str, role: Role) -> None:
    _check_role(role)
    if username == actor.username:
        raise Conflict("you cannot change your own role; ask another administrator")

    def change(session: Session, user: User) -> dict[str, Any] | None:
        if user.role == role.value:
            return None
        if role in NATIONAL and user.organisation.state is None:
            raise InputError(
                "national authority roles belong to a state's national authority; "
                f"{user.organisation_id} is not one"
            )
        old, user.role = user.role, role.value
        return {"old": old, "new": role.value}

    _change_user(ctx, actor=actor, username=username, action="user.role", change=change)


def do_set_active(ctx: Context, *, actor: Actor, username: str, active: bool) -> None:
    """Deactivate (sessions and API tokens stop working at once) or reactivate an account."""
    if username == actor.username and not active:
        raise Conflict("you cannot deactivate your own account; ask another administrator")

    def change(session: Session, user: User) -> dict[str, Any] | None:
        if user.active == active:
            return None
        user.active = active
        return {}

    action = "user.reactivate" if active else "user.deactivate"
    _change_user(ctx, actor=actor, username=username, action=action, change=change)


def do_reset_password(ctx: Context, *, actor: Actor, username: str) -> str:
    """Set a new temporary password (returned, shown once) and lift any lock-out."""
    password = temporary_password()

    def change(session: Session, user: User) -> dict[str, Any] | None:
        user.password_hash = hash_password(password)
        user.password_changed_at = None
        user.failed_logins = 0
        user.locked_until = None
        return {}

    _change_user(ctx, actor=actor, username=username, action="user.password_reset", change=change)
    return password


def do_unlock_user(ctx: Context, *, actor: Actor, username: str) -> None:
    """Clear failed sign-ins and the lock-out they caused."""

    def change(session: Session, user: User) -> dict[str, Any] | None:
        if user.failed_logins == 0 and user.locked_until is None:
            return None
        details: dict[str, Any] = {"failed_logins": user.failed_logins}
        if user.locked_until is not None:
            details["locked_until"] = user.locked_until.isoformat()
        user.failed_logins = 0
        user.locked_until = None
        return details

    _change_user(ctx, actor=actor, username=username, action="user.unlock", change=change)


def do_reset_second_factor(ctx: Context, *, actor: Actor, username: str) -> None:
    """Forget the user's TOTP secret, so that they enrol again at their next sign-in."""

    def change(session: Session, user: User) -> dict[str, Any] | None:
        if user.totp_secret is None:
            return None
        user.totp_secret = None
        user.totp_last_step = None
        return {}

    _change_user(
        ctx, actor=actor, username=username, action="user.second_factor_reset", change=change
    )


__all__ = [
    "ASSIGNABLE_ROLES",
    "do_change_role",
    "do_create_user_with_temporary_password",
    "do_reset_password",
    "do_reset_second_factor",
    "do_set_active",
    "do_unlock_user",
    "temporary_password",
]
