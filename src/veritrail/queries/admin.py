"""Reads for administrators: organisations and users, never passwords or second-factor secrets."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import func, select

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.errors import NotFound
from veritrail.store.context import Context
from veritrail.store.models import Organisation, User


class OrganisationPublic(BaseModel):
    id: str
    kind: str
    name: str
    state: str | None
    created_at: datetime
    users: int


class UserPublic(BaseModel):
    """A user as an administrator sees it."""

    username: str
    display_name: str
    role: str
    organisation_id: str
    organisation_name: str
    state: str | None
    language: str
    active: bool
    locked: bool
    locked_until: datetime | None
    failed_logins: int
    second_factor: bool  # enrolled in TOTP
    created_at: datetime


def _user(row: User, now: datetime) -> UserPublic:
    return UserPublic(
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation.name,
        state=row.organisation.state,
        language=row.language,
        active=row.active,
        locked=row.locked_until is not None and row.locked_until > now,
        locked_until=row.locked_until,
        failed_logins=row.failed_logins,
        second_factor=row.totp_secret is not None,
        created_at=row.created_at,
    )


def list_organisations(ctx: Context, *, actor: Actor) -> list[OrganisationPublic]:
    """Every organisation with its number of users, by kind then id."""
    require(actor, Action.USER_MANAGE)
    counts = (
        select(User.organisation_id, func.count().label("n"))
        .group_by(User.organisation_id)
        .subquery()
    )
    query = (
        select(Organisation, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .order_by(Organisation.kind, Organisation.id)
    )
    with ctx.sessions() as session:
        return [
            OrganisationPublic(
                id=org.id,
                kind=org.kind,
                name=org.name,
                state=org.state,
                created_at=org.created_at,
                users=int(n),
            )
            for org, n in session.execute(query)
        ]


def list_users(
    ctx: Context,
    *,
    actor: Actor,
    organisation_id: str | None = None,
    now: datetime | None = None,
) -> list[UserPublic]:
    """Every user (of one organisation when given), by username."""
    require(actor, Action.USER_MANAGE)
    now = now or datetime.now(UTC)
    query = select(User).order_by(User.username)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    with ctx.sessions() as session:
        return [_user(row, now) for row in session.scalars(query)]


def get_user(
    ctx: Context, *, actor: Actor, username: str, now: datetime | None = None
) -> UserPublic:
    require(actor, Action.USER_MANAGE)
    with ctx.sessions() as session:
        row = session.scalars(select(User).where(User.username == username)).first()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return _user(row, now or datetime.now(UTC))


__all__ = ["OrganisationPublic", "UserPublic", "get_user", "list_organisations", "list_users"]
