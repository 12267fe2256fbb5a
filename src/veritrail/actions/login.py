"""Sign-in attempts: password, second factor, enrolment, and lock-out.

Every attempt is one transaction that reads the user row for update, so that
concurrent attempts count correctly. ``MAX_FAILURES`` failed attempts in a row
(a wrong password or a wrong code) lock the account for ``LOCK_DURATION``; a
successful sign-in resets the count. Every failure and every lock-out writes
an audit row; so does every sign-in.

An unknown username, an inactive account and a wrong password give the same
answer (:attr:`Outcome.REFUSED`), after the same amount of hashing work. A
locked account says that it is locked, and until when: a user who is locked
out must be able to tell why; the per-address rate limit of the sign-in pages
keeps that from becoming a way to list accounts.

Users of a role in ``NEEDS_SECOND_FACTOR``, and any user with an enrolled
secret, need a TOTP code as well. The shared secret is stored sealed
(:mod:`veritrail.access.sealing`) and ``totp_last_step`` keeps a code from
being accepted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veritrail.access import Actor, Role, totp
from veritrail.access.passwords import verify_password
from veritrail.access.policy import NEEDS_SECOND_FACTOR
from veritrail.access.sealing import Sealer
from veritrail.actions import audit
from veritrail.errors import Conflict, InputError, NotFound
from veritrail.store.context import Context
from veritrail.store.models import User

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)

# A well-formed argon2id hash no password matches, verified against when the
# username is unknown so that the answer takes as long as for a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + "A" * 43

# Whoever tries to sign in is not anyone yet: failed attempts are recorded under
# this name, with the username they tried as the record. Never used for a decision.
ANONYMOUS = Actor(username="anonymous", role=Role.NA_VIEWER, display_name="Not signed in")


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    NEEDS_CODE = "needs_code"  # the password was right; a TOTP code must follow
    NEEDS_ENROLMENT = "needs_enrolment"  # the password was right; no second factor yet
    REFUSED = "refused"  # wrong username, password or code (never says which of the first two)
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a sign-in attempt came to."""

    outcome: Outcome
    username: str
    actor: Actor | None = None  # who signed in, for SIGNED_IN
    locked_until: datetime | None = None  # for LOCKED
    language: str = "en"

    @property
    def signed_in(self) -> bool:
        return self.outcome is Outcome.SIGNED_IN


def _now(now: datetime | None) -> datetime:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("sign-in times are timezone-aware UTC")
    return moment


def _user_for_update(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(User.username == username).with_for_update(of=User)
    ).first()


def _actor(user: User) -> Actor:
    return Actor(
        username=user.username,
        role=Role(user.role),
        state=user.organisation.state,
        organisation_id=user.organisation_id,
        display_name=user.display_name,
        language=user.language,
    )


def needs_second_factor(user: User) -> bool:
    """A role that reaches protected material, or a user who enrolled anyway."""
    return Role(user.role) in NEEDS_SECOND_FACTOR or user.totp_secret is not None


def _record(session: Session, action: str, username: str, **details: Any) -> None:
    audit.record(
        session,
        actor=ANONYMOUS,
        action=action,
        record_type="user",
        record_id=username[:64],
        **{k: v for k, v in details.items() if v is not None},
    )


def _locked(
    session: Session, user: User, now: datetime, client: str | None, **details: Any
) -> Attempt | None:
    """LOCKED while the lock lasts (recorded); clears a lock that has run out."""
    if user.locked_until is None:
        return None
    if user.locked_until > now:
        _record(
            session,
            "sign_in.refused_locked",
            user.username,
            client=client,
            locked_until=user.locked_until.isoformat(),
            **details,
        )
        return Attempt(Outcome.LOCKED, user.username, locked_until=user.locked_until)
    user.locked_until = None
    user.failed_logins = 0
    return None


def _fail(
    session: Session, user: User, *, reason: str, now: datetime, client: str | None
) -> Attempt:
    """Count a failed attempt; lock the account at the MAX_FAILURES-th in a row."""
    user.failed_logins = (user.failed_logins or 0) + 1
    _record(
        session,
        "sign_in.failed",
        user.username,
        reason=reason,
        client=client,
        failures=user.failed_logins,
    )
    if user.failed_logins < MAX_FAILURES:
        return Attempt(Outcome.REFUSED, user.username)
    user.locked_until = now + LOCK_DURATION
    user.failed_logins = 0
    _record(
        session,
        "sign_in.locked",
        user.username,
        client=client,
        locked_until=user.locked_until.isoformat(),
        after=MAX_FAILURES,
    )
    return Attempt(Outcome.LOCKED, user.username, locked_until=user.locked_until)


def _succeed(
    session: Session, user: User, *, client: str | None, second_factor: bool, **details: Any
) -> Attempt:
    user.failed_logins = 0
    user.locked_until = None
    actor = _actor(user)
    audit.record(
        session,
        actor=actor,
        action="sign_in",
        record_type="user",
        record_id=user.username[:64],
        second_factor=second_factor,
        client=client,
        **details,
    )
    return Attempt(Outcome.SIGNED_IN, user.username, actor=actor, language=user.language)


def _check_code(
    ctx: Context,
    session: Session,
    user: User,
    sealed: str,
    code: str,
    *,
    now: datetime,
    client: str | None,
) -> Attempt:
    secret = Sealer.from_settings(ctx.settings).unseal(sealed)
    step = totp.accepted_step(secret, code, at=now, last_step=user.totp_last_step)
    if step is None:
        return _fail(session, user, reason="code", now=now, client=client)
    user.totp_last_step = step
    return _succeed(session, user, client=client, second_factor=True)


def do_sign_in(
    ctx: Context,
    *,
    username: str,
    password: str,
    code: str | None = None,
    client: str | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Check a password, and the TOTP code too when one is given (sign-in in one step).

    Without a code, a user who needs a second factor gets NEEDS_CODE (or
    NEEDS_ENROLMENT if none is enrolled yet), and nothing is counted or reset.
    """
    now = _now(now)
    with ctx.sessions() as session, session.begin():
        user = _user_for_update(session, username)
        if user is None or not user.active:
            verify_password(user.password_hash if user else _DUMMY_HASH, password)
            _record(
                session,
                "sign_in.failed",
                username,
                reason="unknown_user" if user is None else "inactive",
                client=client,
            )
            return Attempt(Outcome.REFUSED, username)
        locked = _locked(session, user, now, client)
        if locked is not None:
            return locked
        if not verify_password(user.password_hash, password):
            return _fail(session, user, reason="password", now=now, client=client)
        if not needs_second_factor(user):
            return _succeed(session, user, client=client, second_factor=False)
        if user.totp_secret is None:
            return Attempt(Outcome.NEEDS_ENROLMENT, user.username, language=user.language)
        if not code:
            return Attempt(Outcome.NEEDS_CODE, user.username, language=user.language)
        return _check_code(ctx, session, user, user.totp_secret, code, now=now, client=client)


def do_verify_code(
    ctx: Context,
    *,
    username: str,
    code: str,
    client: str | None = None,
    now: datetime | None = None,
) -> Attempt:
    """The second step, for a user whose password was checked moments before."""
    now = _now(now)
    with ctx.sessions() as session, session.begin():
        user = _user_for_update(session, username)
        if user is None or not user.active:
            return Attempt(Outcome.REFUSED, username)
        locked = _locked(session, user, now, client)
        if locked is not None:
            return locked
        if user.totp_secret is None:
            return Attempt(Outcome.NEEDS_ENROLMENT, user.username, language=user.language)
        return _check_code(ctx, session, user, user.totp_secret, code, now=now, client=client)


def do_confirm_enrolment(
    ctx: Context,
    *,
    username: str,
    secret: str,
    code: str,
    client: str | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Enrol ``secret`` as the user's second factor once ``code`` proves the app has it.

    For a user whose password was checked moments before; a wrong code counts
    toward the lock-out like any other failed attempt.
    """
    now = _now(now)
    with ctx.sessions() as session, session.begin():
        user = _user_for_update(session, username)
        if user is None or not user.active:
            return Attempt(Outcome.REFUSED, username)
        locked = _locked(session, user, now, client)
        if locked is not None:
            return locked
        if user.totp_secret is not None:
            raise Conflict("a second factor is enrolled already; sign in with its code")
        step = totp.accepted_step(secret, code, at=now)
        if step is None:
            return _fail(session, user, reason="enrolment_code", now=now, client=client)
        user.totp_secret = Sealer.from_settings(ctx.settings).seal(secret)
        user.totp_last_step = step
        audit.record(
            session,
            actor=_actor(user),
            action="totp.enrol",
            record_type="user",
            record_id=user.username[:64],
        )
        return _succeed(session, user, client=client, second_factor=True)


def do_set_totp_secret(ctx: Context, *, actor: Actor, username: str, secret: str | None) -> None:
    """Set (or with None, clear) a user's second-factor secret: demo accounts, resets.

    Clearing it makes the user enrol again at the next sign-in.
    """
    if secret is not None:
        secret = totp.normalise(secret).upper()
        if len(secret) < 16:
            raise InputError("a TOTP secret needs at least 16 base32 characters (80 bits)")
    with ctx.sessions() as session, session.begin():
        user = _user_for_update(session, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        user.totp_secret = (
            Sealer.from_settings(ctx.settings).seal(secret) if secret is not None else None
        )
        user.totp_last_step = None
        audit.record(
            session,
            actor=actor,
            action="totp.set" if secret is not None else "totp.clear",
            record_type="user",
            record_id=username[:64],
        )


def do_sign_in_oidc(
    ctx: Context,
    *,
    username: str,
    issuer: str,
    subject: str,
    second_factor: bool,
    client: str | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Sign in a user the identity provider vouched for; ``second_factor`` if its amr says so.

    REFUSED for an unknown or inactive account, LOCKED while a lock-out lasts,
    NEEDS_CODE or NEEDS_ENROLMENT when the role needs a second factor the
    provider did not check; SIGNED_IN otherwise.
    """
    moment = now or datetime.now(UTC)
    details: dict[str, Any] = {"method": "oidc", "issuer": issuer, "subject": subject}
    with ctx.sessions() as session, session.begin():
        user = _user_for_update(session, username)
        if user is None or not user.active:
            reason = "unknown_user" if user is None else "inactive"
            _record(session, "sign_in.failed", username, reason=reason, client=client, **details)
            return Attempt(Outcome.REFUSED, username)
        locked = _locked(session, user, moment, client, **details)
        if locked is not None:
            return locked
        if second_factor or not needs_second_factor(user):
            return _succeed(session, user, client=client, second_factor=second_factor, **details)
        _record(session, "sign_in.oidc_identified", user.username, client=client, **details)
        outcome = Outcome.NEEDS_ENROLMENT if user.totp_secret is None else Outcome.NEEDS_CODE
        return Attempt(outcome, user.username, language=user.language)


__all__ = [
    "do_sign_in_oidc",
    "ANONYMOUS",
    "LOCK_DURATION",
    "MAX_FAILURES",
    "Attempt",
    "Outcome",
    "do_confirm_enrolment",
    "do_set_totp_secret",
    "do_sign_in",
    "do_verify_code",
    "needs_second_factor",
]
