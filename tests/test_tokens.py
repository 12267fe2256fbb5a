"""API tokens and the "my data" export, through the application, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from factories import adnd, make_user
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.admin import do_set_active
from veritrail.actions.tokens import do_create_token, do_revoke_token, grantable_scopes
from veritrail.cli import app as cli_app
from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import Forbidden, InputError
from veritrail.queries.accounts import actor_for
from veritrail.server import create_app
from veritrail.settings import Settings, get_settings
from veritrail.store.models import ApiToken, AuditEvent

PASSWORD = "correct horse battery"


def session_cookie(settings: Settings, username: str) -> str:
    """A signed session cookie of a signed-in user, as the web sign-in leaves it."""
    data = {"user": username, "seen": int(time.time()), "csrf": "test-csrf"}
    signer = itsdangerous.TimestampSigner(settings.resolved_secret_key())
    return signer.sign(base64.b64encode(json.dumps(data).encode())).decode()


def token_for(
    ctx: Context,
    username: str,
    scopes: list[str] | None = None,
    *,
    days: int = 30,
    now: datetime | None = None,
) -> str:
    actor = actor_for(ctx, username)
    assert actor is not None
    now = now or datetime.now(UTC)
    return do_create_token(
        ctx,
        actor=OPERATOR,
        username=username,
        name="test",
        scopes=scopes if scopes is not None else grantable_scopes(actor.role),
        expires_at=now + timedelta(days=days),
        now=now,
    ).token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    make_user(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    make_user(ctx, "deu", Role.NA_SUBMITTER, "DEU")
    make_user(ctx, "analyst", Role.ANALYST)
    make_user(ctx, "admin", Role.ADMIN)
    with TestClient(create_app(settings, ctx)) as test_client:
        yield test_client


def test_a_token_is_shown_once_and_only_its_hash_is_stored(ctx: Context) -> None:
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    fra = actor_for(ctx, "fra")
    assert fra is not None
    created = do_create_token(
        ctx,
        actor=fra,
        username="fra",
        name="ci",
        scopes=["declaration.submit", "declaration.read"],
        expires_at=datetime.now(UTC) + timedelta(days=90),
    )
    assert created.token.startswith("vt_") and len(created.token) == 3 + 43
    assert created.scopes == ["declaration.read", "declaration.submit"]
    with ctx.sessions() as session:
        row = session.get(ApiToken, created.id)
        assert row is not None
        assert row.token_sha256 == hashlib.sha256(created.token.encode()).hexdigest()
        stored = json.dumps(
            [str(getattr(row, c.key)) for c in ApiToken.__table__.columns], default=str
        )
        audit = session.scalars(select(AuditEvent).where(AuditEvent.record_id == created.id)).one()
    assert created.token not in stored and created.token[3:] not in stored
    assert audit.action == "token.create" and audit.actor == "fra"
    assert audit.details["scopes"] == created.scopes
    assert created.token[3:] not in json.dumps(audit.details)


def test_scopes_never_exceed_the_role_and_expiry_is_bounded(ctx: Context) -> None:
    make_user(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    viewer = actor_for(ctx, "fra-viewer")
    assert viewer is not None
    now = datetime.now(UTC)

    def create(scopes: list[str], expires: timedelta = timedelta(days=30), **kw: object) -> None:
        do_create_token(
            ctx,
            actor=kw.pop("actor", viewer),  # type: ignore[arg-type]
            username=str(kw.pop("username", "fra-viewer")),
            name="x",
            scopes=scopes,
            expires_at=now + expires,
            now=now,
        )

    with pytest.raises(InputError, match="does not hold it"):
        create(["declaration.read", "declaration.submit"])
    with pytest.raises(InputError, match="not a permission"):
        create(["everything"])
    with pytest.raises(InputError, match="at least one scope"):
        create([])
    with pytest.raises(InputError, match="365 days"):
        create(["declaration.read"], timedelta(days=400))
    with pytest.raises(InputError, match="future"):
        create(["declaration.read"], timedelta(days=-1))
    with pytest.raises(Forbidden, match="yourself"):
        create(["declaration.read"], username="fra")
    # The operator may create one for anyone, still within that user's role.
    with pytest.raises(InputError, match="does not hold it"):
        create(["user.manage"], actor=OPERATOR)
    create(["declaration.read"], actor=OPERATOR, username="fra")
    assert "declaration.submit" not in grantable_scopes(Role.NA_VIEWER)
    assert "user.manage" in grantable_scopes(Role.ADMIN)
    assert "public" not in grantable_scopes(Role.OPERATOR)


def test_bearer_token_authenticates_and_notes_its_use(client: TestClient, ctx: Context) -> None:
    token = token_for(ctx, "fra")
    created = client.post(
        "/api/declarations",
        content=json.dumps(adnd()),
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "FRA"
    listed = client.get("/api/declarations", headers=bearer(token))
    assert [d["id"] for d in listed.json()] == [created.json()["id"]]
    with ctx.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
    assert row.last_used_at is not None


def test_a_token_is_limited_to_its_scopes(client: TestClient, ctx: Context) -> None:
    token = token_for(ctx, "fra", ["reference.read"])
    assert client.get("/api/regimes", headers=bearer(token)).status_code == 200
    refused = client.get("/api/declarations", headers=bearer(token))
    assert refused.status_code == 403
    assert "declaration.read" in refused.json()["message"]
    posted = client.post(
        "/api/declarations",
        content=json.dumps(adnd()),
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert posted.status_code == 403


def test_wrong_expired_and_revoked_tokens_are_refused(client: TestClient, ctx: Context) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    expired = token_for(ctx, "fra", days=30, now=long_ago)
    revoked = token_for(ctx, "fra")
    with ctx.sessions() as session:
        revoked_id = session.scalars(
            select(ApiToken.id).where(
                ApiToken.token_sha256 == hashlib.sha256(revoked.encode()).hexdigest()
            )
        ).one()
    assert do_revoke_token(ctx, actor=OPERATOR, token_id=revoked_id)
    cases = {
        expired: "expired",
        revoked: "revoked",
        "vt_" + "A" * 43: "not known",
        "not-a-token": "start with vt_",
        "": "no token",
    }
    for token, reason in cases.items():
        response = client.get("/api/regimes", headers=bearer(token))
        assert response.status_code == 401, token
        body = response.json()
        assert body["code"] == "not_authenticated" and reason in body["message"], body
        assert token[3:] not in body["message"] or not token[3:]


def test_basic_credentials_are_refused(client: TestClient) -> None:
    response = client.get("/api/declarations", auth=("fra", PASSWORD))
    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]


def test_deactivated_users_tokens_stop_working(client: TestClient, ctx: Context) -> None:
    token = token_for(ctx, "fra")
    assert client.get("/api/regimes", headers=bearer(token)).status_code == 200
    do_set_active(ctx, actor=OPERATOR, username="fra", active=False)
    response = client.get("/api/regimes", headers=bearer(token))
    assert response.status_code == 401 and "deactivated" in response.json()["message"]


def test_tokens_api_create_list_revoke(
    client: TestClient, ctx: Context, settings: Settings
) -> None:
    client.cookies.set("veritrail_session", session_cookie(settings, "fra"))
    request = {"name": "ci", "scopes": ["declaration.read"], "expires_in_days": 90}
    # A write with the session cookie needs the page's CSRF token as a header.
    forged = client.post("/api/tokens", json=request)
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["message"]
    client.headers["x-csrf-token"] = "test-csrf"
    created = client.post("/api/tokens", json=request)
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith("vt_") and body["scopes"] == ["declaration.read"]
    too_much = client.post(
        "/api/tokens", json={"name": "x", "scopes": ["user.manage"], "expires_in_days": 9}
    )
    assert too_much.status_code == 400
    too_long = client.post(
        "/api/tokens", json={"name": "x", "scopes": ["declaration.read"], "expires_in_days": 366}
    )
    assert too_long.status_code == 422
    client.cookies.clear()
    del client.headers["x-csrf-token"]

    listed = client.get("/api/tokens", headers=bearer(token_for(ctx, "fra"))).json()
    assert {t["name"] for t in listed} == {"ci", "test"}
    assert all("token" not in t and "token_sha256" not in t for t in listed)
    assert client.get("/api/declarations", headers=bearer(token)).status_code == 200

    # A token cannot mint tokens, whatever its scopes.
    full = token_for(ctx, "fra")
    minted = client.post(
        "/api/tokens",
        json={"name": "x", "scopes": ["declaration.read"], "expires_in_days": 9},
        headers=bearer(full),
    )
    assert minted.status_code == 403

    # Someone else's token is not found; the owner and an administrator may revoke it.
    deu = token_for(ctx, "deu")
    assert client.delete(f"/api/tokens/{body['id']}", headers=bearer(deu)).status_code == 404
    assert client.delete(f"/api/tokens/{body['id']}", headers=bearer(full)).status_code == 204
    assert client.get("/api/declarations", headers=bearer(token)).status_code == 401
    admin = token_for(ctx, "admin")
    deu_id = client.get("/api/tokens", headers=bearer(deu)).json()[0]["id"]
    assert client.delete(f"/api/tokens/{deu_id}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/tokens", headers=bearer(deu)).status_code == 401
    with ctx.sessions() as session:
        revocations = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "token.revoke")
        ).all()
    assert {(e.actor, e.record_id) for e in revocations} == {
        ("fra", body["id"]),
        ("admin", deu_id),
    }


def _submit(ctx: Context, username: str, document: dict[str, object], original: bytes) -> str:
    actor = actor_for(ctx, username)
    assert actor is not None
    return do_submit_declaration(
        ctx,
        actor=actor,
        parsed=ParsedDeclaration(document, "json"),
        original=original,
        filename="../../etc/passwd",
    ).id


def test_my_data_export_holds_every_version_with_checkable_hashes(
    client: TestClient, ctx: Context
) -> None:
    first = json.dumps(adnd()).encode()
    declaration = _submit(ctx, "fra", adnd(), first)
    amended = adnd(id=declaration)
    amended["data"]["lines"][0]["quantity"] = "125"
    second = json.dumps(amended).encode()
    _submit(ctx, "fra", amended, second)
    _submit(ctx, "deu", adnd(state="DEU"), json.dumps(adnd(state="DEU")).encode())

    response = client.get("/api/my-data", headers=bearer(token_for(ctx, "fra-viewer")))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["state"] == "FRA"
    entries = manifest["versions"]
    assert [(e["id"], e["version"]) for e in entries] == [(declaration, 1), (declaration, 2)]
    assert set(archive.namelist()) == {
        "manifest.json",
        f"declarations/{declaration}/v1.json",
        f"declarations/{declaration}/v1.original.json",
        f"declarations/{declaration}/v2.json",
        f"declarations/{declaration}/v2.original.json",
    }
    for entry, original in zip(entries, (first, second), strict=True):
        content = archive.read(entry["path"])
        assert hashlib.sha256(content).hexdigest() == entry["content_sha256"]
        assert json.loads(content)["id"] == declaration
        kept = archive.read(entry["original_path"])
        assert kept == original
        assert hashlib.sha256(kept).hexdigest() == entry["original_sha256"]
        assert entry["submitted_by"] == "fra" and entry["submitted_at"]
    assert json.loads(archive.read(entries[1]["path"]))["data"]["lines"][0]["quantity"] == "125"

    # The secretariat has no state to export; a token without the scope is refused.
    assert client.get("/api/my-data", headers=bearer(token_for(ctx, "analyst"))).status_code == 403
    reader = token_for(ctx, "fra", ["declaration.read"])
    assert client.get("/api/my-data", headers=bearer(reader)).status_code == 403


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_create_list_revoke(cli: CliRunner, ctx: Context) -> None:
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    result = cli.invoke(
        cli_app,
        [
            "token",
            "create",
            "--user",
            "fra",
            "--scope",
            "declaration.read",
            "--scope",
            "declaration.submit",
            "--expires",
            "90d",
            "--name",
            "ci",
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("vt_") and "\n" not in token
    listed = cli.invoke(cli_app, ["token", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["name"], r["state"]) for r in rows] == [("fra", "ci", "active")]
    assert token not in listed.stdout
    refused = cli.invoke(
        cli_app,
        [
            "token",
            "create",
            "--user",
            "fra",
            "--scope",
            "user.manage",
            "--expires",
            "2d",
            "--name",
            "x",
        ],
    )
    assert refused.exit_code == 1 and "does not hold it" in refused.output
    too_long = cli.invoke(
        cli_app,
        [
            "token",
            "create",
            "--user",
            "fra",
            "--scope",
            "declaration.read",
            "--expires",
            "400d",
            "--name",
            "x",
        ],
    )
    assert too_long.exit_code == 1 and "365 days" in too_long.output
    revoked = cli.invoke(cli_app, ["token", "revoke", rows[0]["id"]])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    again = json.loads(cli.invoke(cli_app, ["token", "list", "--user", "fra", "--json"]).stdout)
    assert again[0]["state"] == "revoked"
