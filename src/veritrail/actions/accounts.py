"""Writes to organisations, users and facilities."""

from __future__ import annotations

from sqlalchemy import select

from veritrail.access import Actor, Role
from veritrail.access.passwords import hash_password
from veritrail.actions import audit
from veritrail.errors import Conflict, InputError, NotFound
from veritrail.reference import states
from veritrail.store.context import Context
from veritrail.store.models import Facility, Organisation, User

ORGANISATION_KINDS = ("secretariat", "national_authority", "laboratory", "observer")


def do_create_organisation(
    ctx: Context, *, actor: Actor, id: str, kind: str, name: str, state: str | None = None
) -> None:
    if kind not in ORGANISATION_KINDS:
        raise InputError(
            f"organisation kind {kind!r} is not one of {', '.join(ORGANISATION_KINDS)}"
        )
    if state is not None and states.by_alpha3(state) is None:
        raise InputError(f"{state!r} is not an ISO 3166-1 alpha-3 state code")
    with ctx.sessions() as session, session.begin():
        if session.get(Organisation, id) is not None:
            raise Conflict(f"organisation {id!r} exists already")
        session.add(Organisation(id=id, kind=kind, name=name, state=state))
        audit.record(
            session,
            actor=actor,
            action="organisation.create",
            record_type="organisation",
            record_id=id,
        )


def do_create_user(
    ctx: Context,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: Role,
    organisation_id: str,
    display_name: str = "",
    language: str = "en",
) -> None:
    if len(password) < 10:
        raise InputError("a password needs at least 10 characters")
    with ctx.sessions() as session, session.begin():
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound(f"no organisation {organisation_id!r}")
        if role in (Role.NA_SUBMITTER, Role.NA_VIEWER) and organisation.state is None:
            raise InputError("national authority roles belong to a state's national authority")
        if session.scalars(select(User.id).where(User.username == username)).first():
            raise Conflict(f"user {username!r} exists already")
        session.add(
            User(
                username=username,
                display_name=display_name or username,
                password_hash=hash_password(password),
                role=role.value,
                organisation_id=organisation_id,
                language=language,
            )
        )
        audit.record(
            session,
            actor=actor,
            action="user.create",
            record_type="user",
            record_id=username,
            role=role.value,
        )


def do_add_facilities(ctx: Context, *, actor: Actor, facilities: list[Facility]) -> int:
    with ctx.sessions() as session, session.begin():
        session.add_all(facilities)
        audit.record(
            session,
            actor=actor,
            action="facility.import",
            record_type="facility",
            record_id="*",
            count=len(facilities),
        )
    return len(facilities)


__all__ = ["ORGANISATION_KINDS", "do_add_facilities", "do_create_organisation", "do_create_user"]
