"""Single sign-on through OpenID Connect, against a real identity provider on this machine.

The provider is a small Starlette app served by uvicorn on 127.0.0.1: discovery
document, JWKS with a fresh RSA key, an authorization endpoint that approves at
once, and a token endpoint that checks PKCE and signs an ID token. Veritrail
fetches its metadata, keys and tokens over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from factories import make_user, totp_code
from veritrail.access import Role
from veritrail.access.policy import NEEDS_SECOND_FACTOR
from veritrail.actions import Context
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import AuditEvent

CLIENT_ID = "veritrail-test"
CLIENT_SECRET = "provider-shared-secret"  # noqa: S105 - test data
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Provider:
    """A minimal OpenID provider; tests set what the next ID token says."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)  # added to (or overriding) the defaults
    forger: RSAKey | None = None  # signs ID tokens instead of the published key when set

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        """Approves at once: the person has just signed in at the provider."""
        q = request.query_params
        assert q["response_type"] == "code"
        assert q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256"
        assert "openid" in q["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "nonce": q["nonce"],
            "redirect_uri": q["redirect_uri"],
        }
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "subject-1",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
        } | self.claims
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.forger or self.key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "id_token": id_token,
            }
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The identity provider, served by uvicorn in a thread on a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    idp = Provider(issuer=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(idp.app(), log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the identity provider did not start"
        time.sleep(0.02)
    yield idp
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def idp(provider: Provider) -> Provider:
    provider.claims = {}
    provider.forger = None
    provider.codes.clear()
    return provider


@pytest.fixture
def client(settings: Settings, ctx: Context, idp: Provider) -> Iterator[TestClient]:
    configured = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    with TestClient(create_app(configured, ctx), follow_redirects=False) as test_client:
        yield test_client


def single_sign_on(client: TestClient, next_url: str = "/", state: str | None = None) -> Any:
    """Follow the redirect chain across Veritrail and the provider; Veritrail's last answer."""
    start = client.get("/login/oidc", params={"next": next_url})
    assert start.status_code == 302, start.text
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/login/oidc/callback"
    query = parse_qs(back.query)
    if state is not None:
        query["state"] = [state]
    return client.get(back.path, params={k: v[0] for k, v in query.items()})


def signed_in(client: TestClient) -> bool:
    return client.get("/account").status_code == 200


def audit_rows(ctx: Context, username: str) -> list[tuple[str, dict[str, Any]]]:
    with ctx.sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.record_id == username).order_by(AuditEvent.id)
        )
        return [(row.action, dict(row.details or {})) for row in rows]


def test_a_user_without_second_factor_signs_in(client: TestClient, ctx: Context, idp: Provider):
    assert Role.AUDITOR not in NEEDS_SECOND_FACTOR
    make_user(ctx, "viewer", Role.AUDITOR)
    idp.claims = {"preferred_username": "viewer"}
    done = single_sign_on(client, next_url="/declarations")
    assert done.status_code == 303
    assert done.headers["location"] == "/declarations"
    assert signed_in(client)
    action, details = audit_rows(ctx, "viewer")[-1]
    assert action == "sign_in"
    assert details["method"] == "oidc" and details["subject"] == "subject-1"
    assert details["second_factor"] is False


def test_an_analyst_whose_provider_checked_mfa_skips_the_totp_step(
    client: TestClient, ctx: Context, idp: Provider
):
    assert Role.ANALYST in NEEDS_SECOND_FACTOR
    make_user(ctx, "analyst", Role.ANALYST)
    idp.claims = {"preferred_username": "analyst", "amr": ["pwd", "mfa"]}
    done = single_sign_on(client)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert signed_in(client)
    action, details = audit_rows(ctx, "analyst")[-1]
    assert (action, details["second_factor"]) == ("sign_in", True)


def test_an_analyst_without_mfa_gives_a_totp_code_next(
    client: TestClient, ctx: Context, idp: Provider
):
    make_user(ctx, "analyst", Role.ANALYST)
    idp.claims = {"preferred_username": "analyst", "amr": ["pwd"]}
    done = single_sign_on(client, next_url="/declarations")
    assert done.status_code == 303 and done.headers["location"] == "/login/code"
    assert not signed_in(client)
    form = client.get("/login/code")
    found = CSRF.search(form.text)
    assert found is not None
    checked = client.post(
        "/login/code", data={"code": totp_code(ctx, "analyst"), "csrf": found.group(1)}
    )
    assert checked.status_code == 303 and checked.headers["location"] == "/declarations"
    assert signed_in(client)
    actions = [action for action, _ in audit_rows(ctx, "analyst")]
    assert actions[-2:] == ["sign_in.oidc_identified", "sign_in"]


def test_an_unknown_user_is_refused_and_no_account_is_created(
    client: TestClient, ctx: Context, idp: Provider
):
    idp.claims = {"preferred_username": "stranger"}
    done = single_sign_on(client)
    assert done.status_code == 403
    assert "There is no Veritrail account for stranger; ask an administrator." in done.text
    assert not signed_in(client)
    action, details = audit_rows(ctx, "stranger")[-1]
    assert (action, details["reason"]) == ("sign_in.failed", "unknown_user")


def test_a_tampered_state_is_refused(client: TestClient, ctx: Context, idp: Provider):
    make_user(ctx, "viewer", Role.AUDITOR)
    idp.claims = {"preferred_username": "viewer"}
    done = single_sign_on(client, state="forged-state")
    assert done.status_code == 401
    assert "Single sign-on did not confirm who you are." in done.text
    assert not signed_in(client)


def test_an_id_token_for_another_audience_is_refused(
    client: TestClient, ctx: Context, idp: Provider
):
    make_user(ctx, "viewer", Role.AUDITOR)
    idp.claims = {"preferred_username": "viewer", "aud": "another-client"}
    done = single_sign_on(client)
    assert done.status_code == 401
    assert not signed_in(client)
    assert "sign_in" not in [action for action, _ in audit_rows(ctx, "viewer")]


def test_the_login_page_offers_single_sign_on_when_configured(client: TestClient):
    page = client.get("/login", params={"next": "/declarations"})
    assert 'href="/login/oidc?next=/declarations"' in page.text
    assert "Single sign-on" in page.text


def test_without_configuration_the_routes_are_absent(settings: Settings, ctx: Context):
    with TestClient(create_app(settings, ctx), follow_redirects=False) as plain:
        assert plain.get("/login/oidc").status_code == 404
        assert (
            plain.get("/login/oidc/callback", params={"code": "x", "state": "y"}).status_code == 404
        )
        assert "/login/oidc" not in plain.get("/login").text


def test_an_id_token_signed_with_another_key_is_refused(
    client: TestClient, ctx: Context, idp: Provider
):
    make_user(ctx, "viewer", Role.AUDITOR)
    idp.claims = {"preferred_username": "viewer"}
    idp.forger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    done = single_sign_on(client)
    assert done.status_code == 401
    assert not signed_in(client)
