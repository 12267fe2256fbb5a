"""Optional single sign-on through OpenID Connect (Authlib's Starlette client).

Off unless ``VERITRAIL_OIDC_ISSUER`` is set; then ``GET /login/oidc`` sends the
browser to the identity provider (authorization code with PKCE, a state and a
nonce, endpoints found at ``<issuer>/.well-known/openid-configuration``), and
``GET /login/oidc/callback`` takes it back. Authlib checks the ID token: its
signature against the provider's JWKS, the issuer, the audience (our client
id), the nonce and the expiry. Unconfigured, both routes answer 404.

The claim ``VERITRAIL_OIDC_USERNAME_CLAIM`` names an existing, active Veritrail
account; none is ever created here. The provider stands in for the password
only: a user of a role that needs a second factor still gives a TOTP code
(through the same pending-session step as after a password) unless the ID
token's ``amr`` claim says the provider itself checked a second factor
(``mfa`` or ``otp``). A locked account stays locked. Every outcome is audited.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from veritrail.actions.login import Outcome, do_sign_in_oidc
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import public
from veritrail.api.session import restart_session
from veritrail.errors import ConfigurationError, NotFound
from veritrail.settings import Settings

# The pending-session step and the session rotation are those of password sign-in.
from veritrail.web.auth import (
    _client,
    _locked_page,
    _login_page,
    _rate_limited,
    _remember_password_ok,
    _safe_next,
    _signed_in,
)

log = logging.getLogger("veritrail.oidc")

router = APIRouter(dependencies=[Depends(public)])

PROVIDER = "veritrail"  # Authlib's name for the client; keys its state in the session
SECOND_FACTOR_AMR = frozenset({"mfa", "otp"})
_NEXT = "oidc_next"


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    if not isinstance(settings, Settings) or not settings.oidc_issuer:
        raise NotFound("single sign-on is not configured on this server")
    if not settings.oidc_client_id:
        raise ConfigurationError("VERITRAIL_OIDC_ISSUER is set but VERITRAIL_OIDC_CLIENT_ID is not")
    return settings


def _provider(request: Request) -> Any:
    """The application's Authlib client (one per app, built on first use)."""
    settings = _settings(request)
    found = getattr(request.app.state, "oidc_client", None)
    if found is None:
        issuer = str(settings.oidc_issuer)
        client_kwargs: dict[str, Any] = {"scope": "openid profile", "code_challenge_method": "S256"}
        if not settings.oidc_client_secret:  # a public client: PKCE alone
            client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 - a method name
        found = OAuth().register(
            name=PROVIDER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )
        request.app.state.oidc_client = found
    return found


@router.get("/login/oidc", include_in_schema=False)
async def oidc_start(request: Request, next: str | None = None) -> Response:
    provider = _provider(request)
    restart_session(request)
    request.session[_NEXT] = _safe_next(next)
    try:
        response: Response = await provider.authorize_redirect(
            request, str(request.url_for("oidc_callback"))
        )
    except (AuthlibBaseError, httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("single sign-on provider unavailable: %s", type(exc).__name__)
        return _login_page(request, 502, error="oidc_unavailable")
    return response


@router.get("/login/oidc/callback", include_in_schema=False)
async def oidc_callback(request: Request, ctx: CtxDep) -> Response:
    settings = _settings(request)
    provider = _provider(request)
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    next_url = _safe_next(request.session.get(_NEXT))
    try:
        token = await provider.authorize_access_token(
            request, claims_options={"iss": {"essential": True, "values": [settings.oidc_issuer]}}
        )
    except (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError) as exc:
        # A forged or replayed state, a bad signature, audience, nonce or expiry.
        log.warning("single sign-on refused: %s", type(exc).__name__)
        restart_session(request)
        return _login_page(request, 401, error="oidc_refused")
    claims = token.get("userinfo")
    username = claims.get(settings.oidc_username_claim) if claims else None
    if not isinstance(username, str) or not username.strip():
        log.warning("single sign-on: no %s claim in the ID token", settings.oidc_username_claim)
        restart_session(request)
        return _login_page(request, 401, error="oidc_refused")
    amr = claims.get("amr")
    strong = isinstance(amr, list) and any(method in SECOND_FACTOR_AMR for method in amr)
    attempt = await run_in_threadpool(
        do_sign_in_oidc,
        ctx,
        username=username.strip(),
        issuer=str(settings.oidc_issuer),
        subject=str(claims.get("sub", "")),
        second_factor=strong,
        client=_client(request),
    )
    if attempt.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, attempt, next_url)
    if attempt.outcome in (Outcome.NEEDS_CODE, Outcome.NEEDS_ENROLMENT):
        return _remember_password_ok(request, ctx, attempt, next_url)
    if attempt.outcome is Outcome.LOCKED:
        return _locked_page(request, attempt, next_url)
    restart_session(request)
    return _login_page(request, 403, error="oidc_no_account", username=attempt.username)


__all__ = ["SECOND_FACTOR_AMR", "do_sign_in_oidc", "router"]
