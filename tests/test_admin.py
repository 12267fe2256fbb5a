"""Administration pages and actions, and the account page, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories import make_user
from test_tokens import session_cookie, token_for
from veritrail.access import Role
from veritrail.access.passwords import verify_password
from veritrail.actions import Context
from veritrail.actions.admin import do_change_role, do_set_active
from veritrail.errors import Conflict, Forbidden
from veritrail.queries.accounts import actor_for
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import ApiToken, AuditEvent, User

CSRF = "test-csrf"


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    make_user(ctx, "admin", Role.ADMIN)
    make_user(ctx, "admin2", Role.ADMIN)
    make_user(ctx, "analyst", Role.ANALYST)
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


def as_user(client: TestClient, settings: Settings, username: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("veritrail_session", session_cookie(settings, username))
    return client


def cookies(client: TestClient) -> str:
    return " ".join(str(c.value) for c in client.cookies.jar)


def audits(ctx: Context, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def user_row(ctx: Context, username: str) -> User:
    with ctx.sessions() as session:
        row = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(row)
        return row


def assert_clean_html(response: object) -> None:
    """No inline script, style or event handler: the strict CSP holds."""
    text = response.text  # type: ignore[attr-defined]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "javascript:" not in text


ADMIN_GETS = ["/admin", "/admin/users", "/admin/users/fra", "/admin/organisations", "/admin/tokens"]
ADMIN_POSTS = [
    ("/admin/users", {"username": "x", "role": "analyst", "organisation_id": "secretariat"}),
    ("/admin/users/fra/role", {"role": "na_viewer"}),
    ("/admin/users/fra/active", {"active": "false"}),
    ("/admin/users/fra/password", {}),
    ("/admin/users/fra/unlock", {}),
    ("/admin/users/fra/second-factor", {}),
    ("/admin/organisations", {"id": "lab", "kind": "laboratory", "name": "Lab"}),
    ("/admin/tokens/T-1/revoke", {}),
]


def test_signed_out_readers_go_to_sign_in(client: TestClient) -> None:
    for path in [*ADMIN_GETS, "/account"]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path


def test_only_administrators_reach_admin(client: TestClient, settings: Settings) -> None:
    for username in ("analyst", "fra"):
        as_user(client, settings, username)
        for path in ADMIN_GETS:
            assert client.get(path).status_code == 403, (username, path)
        for path, data in ADMIN_POSTS:
            response = client.post(path, data={**data, "csrf": CSRF})
            assert response.status_code == 403, (username, path)
    # Nothing changed.
    assert actor_for(client.app.state.ctx, "fra") is not None  # type: ignore[attr-defined]


def test_admin_pages_render(client: TestClient, settings: Settings, ctx: Context) -> None:
    token_for(ctx, "fra")
    as_user(client, settings, "admin")
    assert client.get("/admin").headers["location"] == "/admin/users"
    expected = {
        "/admin/users": "fra",
        "/admin/users/fra": "Reset second factor",
        "/admin/organisations": "na-FRA",
        "/admin/tokens": "declaration.read",
    }
    for path, text in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.text, path
        assert_clean_html(response)
    assert client.get("/admin/users/nobody").status_code == 404


def test_every_admin_write_needs_the_csrf_token(client: TestClient, settings: Settings) -> None:
    as_user(client, settings, "admin")
    for path, data in ADMIN_POSTS:
        assert client.post(path, data={**data, "csrf": "forged"}).status_code == 403, path


def test_organisations_and_users_are_created_and_audited(
    client: TestClient, settings: Settings, ctx: Context
) -> None:
    as_user(client, settings, "admin")
    created = client.post(
        "/admin/organisations",
        data={
            "id": "na-CHN",
            "kind": "national_authority",
            "name": "NA China",
            "state": "CHN",
            "csrf": CSRF,
        },
    )
    assert created.status_code == 303
    assert [e.record_id for e in audits(ctx, "organisation.create") if e.actor == "admin"] == [
        "na-CHN"
    ]
    stateless = client.post(
        "/admin/organisations",
        data={"id": "na-x", "kind": "national_authority", "name": "X", "csrf": CSRF},
    )
    assert stateless.status_code == 400 and "belongs to a state" in stateless.text

    response = client.post(
        "/admin/users",
        data={
            "username": "chn",
            "role": "na_submitter",
            "organisation_id": "na-CHN",
            "display_name": "China NA",
            "language": "zh",
            "csrf": CSRF,
        },
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r'readonly size="30" value="([^"]+)"', response.text)
    assert found is not None
    password = found.group(1)
    assert verify_password(user_row(ctx, "chn").password_hash, password)
    assert password not in cookies(client)
    event = next(e for e in audits(ctx, "user.create") if e.record_id == "chn")
    assert event.actor == "admin" and password not in str(event.details)
    # A national role needs a state's national authority.
    wrong = client.post(
        "/admin/users",
        data={"username": "y", "role": "na_viewer", "organisation_id": "secretariat", "csrf": CSRF},
    )
    assert wrong.status_code == 400 and "national authority" in wrong.text


def test_role_activity_password_unlock_and_second_factor(
    client: TestClient, settings: Settings, ctx: Context
) -> None:
    token = token_for(ctx, "fra")
    with ctx.sessions() as session, session.begin():
        row = session.scalars(select(User).where(User.username == "fra")).one()
        row.failed_logins = 7
        row.locked_until = datetime.now(UTC) + timedelta(minutes=30)
        row.totp_secret = row.totp_secret or "sealed-secret"
    as_user(client, settings, "admin")

    def post(action: str, **data: str) -> None:
        response = client.post(f"/admin/users/fra/{action}", data={**data, "csrf": CSRF})
        assert response.status_code in (200, 303), (action, response.text)

    post("role", role="na_viewer")
    assert user_row(ctx, "fra").role == "na_viewer"
    post("active", active="false")
    assert not user_row(ctx, "fra").active
    assert (
        client.get("/api/regimes", headers={"authorization": f"Bearer {token}"}).status_code == 401
    )
    post("active", active="true")
    assert user_row(ctx, "fra").active
    post("unlock")
    unlocked = user_row(ctx, "fra")
    assert unlocked.failed_logins == 0 and unlocked.locked_until is None
    post("second-factor")
    assert user_row(ctx, "fra").totp_secret is None
    before = user_row(ctx, "fra").password_hash
    reset = client.post("/admin/users/fra/password", data={"csrf": CSRF})
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    found = re.search(r'readonly size="30" value="([^"]+)"', reset.text)
    assert found is not None
    after = user_row(ctx, "fra").password_hash
    assert after != before and verify_password(after, found.group(1))

    for action in (
        "user.role",
        "user.deactivate",
        "user.reactivate",
        "user.unlock",
        "user.second_factor_reset",
        "user.password_reset",
    ):
        events = audits(ctx, action)
        assert [(e.actor, e.record_id) for e in events] == [("admin", "fra")], action
    assert audits(ctx, "user.role")[0].details == {"old": "na_submitter", "new": "na_viewer"}


def test_administrators_cannot_lock_themselves_out(ctx: Context) -> None:
    make_user(ctx, "admin", Role.ADMIN)
    make_user(ctx, "analyst", Role.ANALYST)
    admin = actor_for(ctx, "admin")
    analyst = actor_for(ctx, "analyst")
    assert admin is not None and analyst is not None
    with pytest.raises(Conflict):
        do_set_active(ctx, actor=admin, username="admin", active=False)
    with pytest.raises(Conflict):
        do_change_role(ctx, actor=admin, username="admin", role=Role.ANALYST)
    with pytest.raises(Forbidden):
        do_set_active(ctx, actor=analyst, username="admin", active=False)
    assert user_row(ctx, "admin").active


def test_admin_revokes_anyones_token(client: TestClient, settings: Settings, ctx: Context) -> None:
    token = token_for(ctx, "fra")
    with ctx.sessions() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    as_user(client, settings, "admin")
    response = client.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf": CSRF, "next": "/admin/users/fra"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/users/fra"
    assert (
        client.get("/api/regimes", headers={"authorization": f"Bearer {token}"}).status_code == 401
    )
    assert [(e.actor, e.record_id) for e in audits(ctx, "token.revoke")] == [("admin", token_id)]
    assert "Revoked" in client.get("/admin/tokens").text


def test_account_page_creates_shows_once_and_revokes(
    client: TestClient, settings: Settings, ctx: Context
) -> None:
    as_user(client, settings, "fra")
    page = client.get("/account")
    assert page.status_code == 200 and "API tokens" in page.text and "/api/my-data" in page.text
    assert_clean_html(page)
    refused = client.post(
        "/account/tokens",
        data={"name": "ci", "scopes": ["user.manage"], "days": "30", "csrf": CSRF},
    )
    assert refused.status_code == 400 and "does not hold it" in refused.text
    created = client.post(
        "/account/tokens",
        data={
            "name": "ci",
            "scopes": ["declaration.read", "declaration.submit"],
            "days": "90",
            "csrf": CSRF,
        },
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    assert_clean_html(created)
    found = re.search(r'value="(vt_[A-Za-z0-9_-]+)"', created.text)
    assert found is not None
    token = found.group(1)
    assert token not in cookies(client)
    again = client.get("/account").text
    assert token not in again and "ci" in again
    client.cookies.clear()
    assert (
        client.get("/api/declarations", headers={"authorization": f"Bearer {token}"}).status_code
        == 200
    )
    as_user(client, settings, "fra")
    with ctx.sessions() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": "x"}).status_code == 403
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": CSRF})
    assert revoked.status_code == 303
    assert (
        client.get("/api/declarations", headers={"authorization": f"Bearer {token}"}).status_code
        == 401
    )
    # The secretariat has no state: no export button.
    as_user(client, settings, "analyst")
    assert "/api/my-data" not in client.get("/account").text
