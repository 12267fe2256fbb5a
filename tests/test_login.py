"""Sign-in: the TOTP second factor, enrolment, lock-out, rate limit and sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from factories import TOTP_SECRET, make_user, totp_code
from veritrail.access import OPERATOR, Role, totp
from veritrail.access.policy import NEEDS_SECOND_FACTOR
from veritrail.access.sealing import Sealer
from veritrail.actions import Context
from veritrail.actions.login import (
    LOCK_DURATION,
    MAX_FAILURES,
    Outcome,
    do_confirm_enrolment,
    do_set_totp_secret,
    do_sign_in,
    do_verify_code,
)
from veritrail.api import session as sessions
from veritrail.errors import ConfigurationError
from veritrail.queries.accounts import authenticate, second_factor_secret
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import AuditEvent, User
from veritrail.web import auth

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NOW = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


def code(at: datetime = NOW, secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).at(at)


def user_row(ctx: Context, username: str) -> User:
    with ctx.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user


def audit_actions(ctx: Context, username: str) -> list[str]:
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.record_id == username)
                .order_by(AuditEvent.id)
            )
        )


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def post_password(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> Any:
    """POST the sign-in form (``extra`` adds ``code`` or ``next``); the response."""
    data = {"username": username, "password": password, "csrf": csrf_of(client), "next": "/"}
    return client.post("/login", data=data | extra)


# --- The second factor ------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OPERATOR])
def test_second_factor_is_required_by_role(ctx: Context, role: Role) -> None:
    state = "FRA" if role in (Role.NA_SUBMITTER, Role.NA_VIEWER) else None
    make_user(ctx, "someone", role, state=state, password=PASSWORD)
    attempt = do_sign_in(ctx, username="someone", password=PASSWORD, now=NOW)
    if role in NEEDS_SECOND_FACTOR:
        assert attempt.outcome is Outcome.NEEDS_CODE and attempt.actor is None
        assert do_sign_in(
            ctx, username="someone", password=PASSWORD, code=code(), now=NOW
        ).signed_in
    else:
        assert attempt.signed_in and attempt.actor is not None and attempt.actor.role is role


def test_the_roles_that_reach_protected_material_need_it() -> None:
    assert {Role.NA_SUBMITTER, Role.NA_VIEWER, Role.ANALYST, Role.INSPECTOR} <= NEEDS_SECOND_FACTOR
    assert Role.ADMIN not in NEEDS_SECOND_FACTOR and Role.AUDITOR not in NEEDS_SECOND_FACTOR


def test_a_code_is_accepted_once(ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    first = do_sign_in(ctx, username="analyst", password=PASSWORD, code=code(), now=NOW)
    assert first.signed_in
    assert user_row(ctx, "analyst").totp_last_step == totp.step_at(NOW)
    # The same code again, in the same step or the next one: refused as a replay.
    for later in (NOW, NOW + timedelta(seconds=25)):
        replay = do_verify_code(ctx, username="analyst", code=code(), now=later)
        assert replay.outcome is Outcome.REFUSED
    # An older code still inside the window is refused too: it predates the last one used.
    older = do_verify_code(ctx, username="analyst", code=code(NOW - timedelta(seconds=30)), now=NOW)
    assert older.outcome is Outcome.REFUSED
    # The next step's code is fine.
    nxt = NOW + timedelta(seconds=30)
    assert do_verify_code(ctx, username="analyst", code=code(nxt), now=nxt).signed_in


def test_codes_one_step_either_side_are_accepted_not_two(ctx: Context) -> None:
    make_user(ctx, "inspector", Role.INSPECTOR, password=PASSWORD)
    for offset, ok in ((-60, False), (60, False), (-30, True), (30, True)):
        attempt = do_verify_code(
            ctx, username="inspector", code=code(NOW + timedelta(seconds=offset)), now=NOW
        )
        assert attempt.signed_in is ok, offset
    assert not totp.accepted_step(TOTP_SECRET, "12345", at=NOW)
    assert not totp.accepted_step(TOTP_SECRET, "abcdef", at=NOW)
    assert totp.accepted_step(TOTP_SECRET, code()[:3] + " " + code()[3:], at=NOW)


def test_the_secret_is_stored_sealed(ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    stored = user_row(ctx, "analyst").totp_secret
    assert stored is not None and TOTP_SECRET not in stored
    assert second_factor_secret(ctx, username="analyst") == TOTP_SECRET
    with pytest.raises(ConfigurationError, match="server.s key"):
        Sealer("another key").unseal(stored)
    with pytest.raises(ConfigurationError):
        Sealer.from_settings(ctx.settings).unseal(stored[:-4] + "AAAA")


# --- Lock-out ---------------------------------------------------------------------------


def test_lock_out_after_five_failures_and_unlock_after_the_time(ctx: Context) -> None:
    make_user(ctx, "fra", Role.NA_SUBMITTER, state="FRA", password=PASSWORD)
    for n in range(1, MAX_FAILURES):
        attempt = do_sign_in(ctx, username="fra", password="wrong", now=NOW, client="10.0.0.9")
        assert attempt.outcome is Outcome.REFUSED
        assert user_row(ctx, "fra").failed_logins == n
    fifth = do_sign_in(ctx, username="fra", password="wrong", now=NOW)
    assert fifth.outcome is Outcome.LOCKED and fifth.locked_until == NOW + LOCK_DURATION
    assert user_row(ctx, "fra").locked_until == NOW + LOCK_DURATION

    # Locked: even the right password and code are refused, and say until when.
    during = NOW + LOCK_DURATION - timedelta(seconds=1)
    still = do_sign_in(ctx, username="fra", password=PASSWORD, code=code(during), now=during)
    assert still.outcome is Outcome.LOCKED and still.locked_until == NOW + LOCK_DURATION
    assert authenticate(ctx, username="fra", password=PASSWORD, now=during) is None

    after = NOW + LOCK_DURATION + timedelta(seconds=1)
    assert do_sign_in(ctx, username="fra", password=PASSWORD, code=code(after), now=after).signed_in
    row = user_row(ctx, "fra")
    assert row.failed_logins == 0 and row.locked_until is None

    actions = audit_actions(ctx, "fra")
    assert actions.count("sign_in.failed") == MAX_FAILURES
    assert actions.count("sign_in.locked") == 1
    assert actions.count("sign_in.refused_locked") == 1
    assert actions[-1] == "sign_in"


def test_wrong_codes_count_toward_the_lock_out(ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    wrong = f"{(int(code()) + 1) % 1_000_000:06d}"
    for _ in range(MAX_FAILURES - 1):
        attempt = do_verify_code(ctx, username="analyst", code=wrong, now=NOW)
        assert attempt.outcome is Outcome.REFUSED
    last = do_sign_in(ctx, username="analyst", password=PASSWORD, code=wrong, now=NOW)
    assert last.outcome is Outcome.LOCKED
    reasons = []
    with ctx.sessions() as session:
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in.failed")
        ):
            reasons.append(event.details["reason"])
    assert reasons == ["code"] * MAX_FAILURES


def test_success_resets_the_count(ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    for _ in range(MAX_FAILURES - 1):
        do_sign_in(ctx, username="analyst", password="wrong", now=NOW)
    assert do_sign_in(ctx, username="analyst", password=PASSWORD, code=code(), now=NOW).signed_in
    assert user_row(ctx, "analyst").failed_logins == 0
    assert do_sign_in(ctx, username="analyst", password="wrong", now=NOW).outcome is Outcome.REFUSED


def test_unknown_users_are_refused_like_wrong_passwords(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    unknown = do_sign_in(ctx, username="nobody", password=PASSWORD, now=NOW)
    wrong = do_sign_in(ctx, username="analyst", password="wrong", now=NOW)
    assert unknown.outcome is wrong.outcome is Outcome.REFUSED
    assert audit_actions(ctx, "nobody") == ["sign_in.failed"]

    pages = [post_password(client, "nobody"), post_password(client, "analyst", "wrong")]
    assert [p.status_code for p in pages] == [401, 401]
    messages = [re.findall(r'role="alert">([^<]+)<', p.text) for p in pages]
    assert messages[0] == messages[1] == ["Wrong username or password."]


def test_lock_out_is_shown_with_its_end(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    for _ in range(MAX_FAILURES - 1):
        assert post_password(client, "analyst", "wrong").status_code == 401
    page = post_password(client, "analyst", "wrong")
    assert page.status_code == 403
    until = user_row(ctx, "analyst").locked_until
    assert until is not None
    assert "locked after too many failed sign-in attempts" in page.text
    assert until.strftime("%Y-%m-%d %H:%M UTC") in page.text


def test_inactive_accounts_cannot_sign_in(ctx: Context) -> None:
    make_user(ctx, "auditor", Role.AUDITOR, password=PASSWORD)
    with ctx.sessions() as session, session.begin():
        session.scalars(select(User).where(User.username == "auditor")).one().active = False
    attempt = do_sign_in(ctx, username="auditor", password=PASSWORD, now=NOW)
    assert attempt.outcome is Outcome.REFUSED


# --- Through the web: two steps, one step, enrolment, sessions --------------------------


def test_two_step_sign_in(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    before = csrf_of(client)
    response = post_password(client, "analyst")
    assert response.status_code == 303 and response.headers["location"] == "/login/code"
    # Only "password right" is remembered: no page opens yet.
    assert client.get("/overview").status_code == 303
    form = client.get("/login/code")
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.text
    csrf = CSRF.search(form.text)
    assert csrf is not None and csrf.group(1) != before  # the session was rotated

    wrong = client.post("/login/code", data={"code": "000000", "csrf": csrf.group(1)})
    assert wrong.status_code == 401 and "not valid, or was used already" in wrong.text
    right = client.post(
        "/login/code", data={"code": totp_code(ctx, "analyst"), "csrf": csrf.group(1)}
    )
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert client.get("/overview").status_code == 200
    assert user_row(ctx, "analyst").failed_logins == 0


def test_one_step_sign_in_with_a_code(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    used = totp_code(ctx, "analyst")
    response = post_password(client, "analyst", code=used)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.get("/overview").status_code == 200
    # The same code a second time is a replay, refused with the generic message.
    client.cookies.clear()
    again = post_password(client, "analyst", code=used)
    assert again.status_code == 401 and "Wrong username, password or code." in again.text
    assert user_row(ctx, "analyst").failed_logins == 1


def test_the_password_step_expires(
    client: TestClient, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    assert post_password(client, "analyst").status_code == 303
    csrf = csrf_of(client, "/login/code")
    later = datetime.now(UTC) + auth.PENDING_FOR + timedelta(seconds=5)
    monkeypatch.setattr(auth, "_now", lambda: later)
    response = client.post("/login/code", data={"code": totp_code(ctx, "analyst"), "csrf": csrf})
    assert response.status_code == 401 and "took too long" in response.text
    assert client.get("/login/code").headers["location"] == "/login"


def test_enrolment(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "fra", Role.NA_SUBMITTER, state="FRA", password=PASSWORD)
    do_set_totp_secret(ctx, actor=OPERATOR, username="fra", secret=None)  # not enrolled yet
    response = post_password(client, "fra", next="/declarations")
    assert response.status_code == 303 and response.headers["location"] == "/login/enrol"
    assert client.get("/login/code").headers["location"] == "/login"
    page = client.get("/login/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text and "<title>otpauth</title>" in page.text
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', page.text)
    assert uri is not None
    parsed = pyotp.parse_uri(uri.group(1).replace("&amp;", "&"))
    assert isinstance(parsed, pyotp.TOTP) and parsed.issuer == "Veritrail"
    shown = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page.text)
    assert shown is not None and shown.group(1).replace(" ", "") == parsed.secret
    assert not re.search(r"\sstyle\s*=|<script(?![^>]*\bsrc=)", page.text)
    csrf = CSRF.search(page.text)
    assert csrf is not None

    wrong = client.post("/login/enrol", data={"code": "000000", "csrf": csrf.group(1)})
    assert wrong.status_code == 401 and user_row(ctx, "fra").totp_secret is None
    done = client.post("/login/enrol", data={"code": parsed.now(), "csrf": csrf.group(1)})
    assert done.status_code == 303 and done.headers["location"] == "/declarations"
    assert second_factor_secret(ctx, username="fra") == parsed.secret
    assert "totp.enrol" in audit_actions(ctx, "fra")
    assert client.get("/declarations").status_code == 200

    # From now on the password alone is not enough.
    client.cookies.clear()
    assert post_password(client, "fra").headers["location"] == "/login/code"


def test_enrolment_action_refuses_a_wrong_code(ctx: Context) -> None:
    make_user(ctx, "admin", Role.ADMIN, password=PASSWORD)
    secret = totp.new_secret()
    refused = do_confirm_enrolment(ctx, username="admin", secret=secret, code="000000", now=NOW)
    assert refused.outcome is Outcome.REFUSED and user_row(ctx, "admin").failed_logins == 1
    ok = do_confirm_enrolment(
        ctx, username="admin", secret=secret, code=totp.code_at(secret, NOW), now=NOW
    )
    assert ok.signed_in
    # An administrator who enrolled is asked for codes too.
    attempt = do_sign_in(ctx, username="admin", password=PASSWORD, now=NOW)
    assert attempt.outcome is Outcome.NEEDS_CODE


def test_accounts_without_a_second_factor_sign_in_with_the_password(
    client: TestClient, ctx: Context
) -> None:
    make_user(ctx, "auditor", Role.AUDITOR, password=PASSWORD)
    response = post_password(client, "auditor")
    assert response.status_code == 303 and response.headers["location"] == "/"


def _request(session: dict[str, object]) -> Request:
    return Request({"type": "http", "session": session, "headers": []})


def test_idle_sessions_end() -> None:
    now = datetime.now(UTC)
    session: dict[str, object] = {"user": "analyst", "seen": int(now.timestamp()), "lang": "zh"}
    request = _request(session)
    later = now + sessions.IDLE_TIMEOUT - timedelta(seconds=5)
    assert sessions.session_username(request, now=later) == "analyst"
    assert session["seen"] == int(later.timestamp())
    gone = later + sessions.IDLE_TIMEOUT + timedelta(seconds=1)
    assert sessions.session_username(request, now=gone) is None
    assert session == {"lang": "zh"}
    # A session from before last-seen was kept is no longer valid.
    assert sessions.session_username(_request({"user": "analyst"})) is None


# --- Rate limit -------------------------------------------------------------------------


def test_rate_limit_per_address(client: TestClient) -> None:
    # Without a CSRF token each attempt is refused at once, but still counted.
    statuses = [
        client.post("/login", data={"username": "x", "password": "y"}).status_code
        for _ in range(auth.RATE_LIMIT)
    ]
    assert statuses == [403] * auth.RATE_LIMIT
    limited = client.post("/login/code", data={"code": "123456"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= auth.RATE_WINDOW
    assert "Too many sign-in attempts from your address" in limited.text


def test_sliding_window() -> None:
    clock = [100.0]
    window = auth.SlidingWindow(3, 60, clock=lambda: clock[0])
    assert [window.hit("a") for _ in range(3)] == [None, None, None]
    assert window.hit("a") == 60 and window.hit("b") is None
    clock[0] += 59.5
    assert window.hit("a") == 1
    clock[0] += 1
    assert window.hit("a") is None


# --- The demo ---------------------------------------------------------------------------


def test_demo_secrets_are_deterministic_and_printed(
    ctx: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    from veritrail.cli.demo import print_logins
    from veritrail.demo.world import demo_totp_secret

    assert demo_totp_secret(1540, "analyst") == demo_totp_secret(1540, "analyst")
    assert demo_totp_secret(1540, "analyst") != demo_totp_secret(1541, "analyst")
    assert demo_totp_secret(1540, "analyst") != demo_totp_secret(1540, "inspector")
    make_user(ctx, "analyst", Role.ANALYST, password=PASSWORD)
    make_user(ctx, "admin", Role.ADMIN, password=PASSWORD)
    secret = demo_totp_secret(1540, "analyst")
    do_set_totp_secret(ctx, actor=OPERATOR, username="analyst", secret=secret)
    print_logins(ctx, now=NOW)
    printed = capsys.readouterr().out
    assert secret in printed and totp.code_at(secret, NOW) in printed
