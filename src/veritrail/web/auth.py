"""Sign-in (password, then a TOTP code), second-factor enrolment, sign-out, language.

Sign-in takes two steps for users who need a second factor: after the right
password the session holds only "password right for user X until T" (five
minutes) and the next page asks for the code. A form that sends ``code`` with
the password signs in in one step. A user of a role that needs a second factor
and has none enrols on the way: the page shows a fresh secret (text, otpauth
URI and QR code), and one code from the app confirms it.

The session is cleared (rotated) at every step, and
``veritrail.api.session.session_username`` forgets a session idle for more
than ``IDLE_TIMEOUT``.

Every POST to a sign-in endpoint counts toward a per-client-address limit
(``RATE_LIMIT`` attempts in a sliding ``RATE_WINDOW``), answered with 429 and
``Retry-After`` beyond it. The limit is kept in memory, per process: with
several server processes each counts on its own, so the effective limit is
multiplied by their number. Behind a reverse proxy, run uvicorn with
``--forwarded-allow-ips`` so that the client address is the real one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from veritrail.access import totp
from veritrail.access.sealing import Sealer
from veritrail.actions.login import (
    Attempt,
    Outcome,
    do_confirm_enrolment,
    do_sign_in,
    do_verify_code,
)
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import public
from veritrail.api.session import restart_session, session_username
from veritrail.i18n import LANGUAGES
from veritrail.queries.accounts import actor_for
from veritrail.web.render import render
from veritrail.web.security import check_csrf

# Signing in, out and choosing a language are open to anyone.
router = APIRouter(dependencies=[Depends(public)])

PENDING_FOR = timedelta(minutes=5)
RATE_LIMIT = 20
RATE_WINDOW = 60.0  # seconds


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window`` seconds, counted in this process."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count a hit; None if allowed, else the seconds to wait before the next one."""
        now = self.clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle addresses now and then
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > now - self.window
                }
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None


_limiter_lock = threading.Lock()


def limiter(request: Request) -> SlidingWindow:
    """The application's sign-in rate limiter (one per app, so per process)."""
    state = request.app.state
    with _limiter_lock:
        found = getattr(state, "sign_in_limiter", None)
        if not isinstance(found, SlidingWindow):
            found = SlidingWindow(RATE_LIMIT, RATE_WINDOW)
            state.sign_in_limiter = found
    return found


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rate_limited(request: Request) -> Response | None:
    wait = limiter(request).hit(_client(request))
    if wait is None:
        return None
    response = render(
        request,
        "login.html",
        {"next": "/", "error": "rate_limited", "retry_after": wait},
        status_code=429,
    )
    response.headers["retry-after"] = str(wait)
    return response


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _now() -> datetime:
    return datetime.now(UTC)


def _signed_in(request: Request, attempt: Attempt, next_url: str) -> Response:
    chosen = request.session.get("lang")
    request.session.clear()
    request.session["user"] = attempt.username
    request.session["seen"] = int(_now().timestamp())
    # A language picked before signing in wins; otherwise the user's own.
    request.session["lang"] = chosen if chosen in LANGUAGES else attempt.language
    return RedirectResponse(_safe_next(next_url), status_code=303)


def _pending(request: Request) -> dict[str, Any] | None:
    """The "password right for user X until T" note, if there is one still valid."""
    pending = request.session.get("pending")
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), str):
        return None
    until = pending.get("until")
    if not isinstance(until, int | float) or _now().timestamp() > until:
        return None
    return pending


def _remember_password_ok(
    request: Request, ctx: CtxDep, attempt: Attempt, next_url: str
) -> Response:
    restart_session(request)
    pending: dict[str, Any] = {
        "user": attempt.username,
        "until": int((_now() + PENDING_FOR).timestamp()),
        "next": _safe_next(next_url),
    }
    if attempt.outcome is Outcome.NEEDS_ENROLMENT:
        # The candidate secret rides in the (signed, not encrypted) cookie: seal it.
        pending["secret"] = Sealer.from_settings(ctx.settings).seal(totp.new_secret())
        target = "/login/enrol"
    else:
        target = "/login/code"
    request.session["pending"] = pending
    return RedirectResponse(target, status_code=303)


def _login_page(request: Request, status: int, **context: Any) -> Response:
    values: dict[str, Any] = {"next": "/", "error": None, "username": ""}
    values.update(context)
    return render(request, "login.html", values, status_code=status)


def _locked_page(request: Request, attempt: Attempt, next_url: str = "/") -> Response:
    restart_session(request)
    until = attempt.locked_until
    return _login_page(
        request,
        403,
        next=_safe_next(next_url),
        error="locked",
        username=attempt.username,
        locked_until=until.strftime("%Y-%m-%d %H:%M UTC") if until else "",
    )


def _expired(request: Request) -> Response:
    restart_session(request)
    return _login_page(request, 401, error="expired")


@router.get("/login", include_in_schema=False)
def login_form(request: Request, ctx: CtxDep, next: str | None = None) -> Response:
    username = session_username(request)
    actor = actor_for(ctx, username) if username else None
    return render(request, "login.html", {"next": _safe_next(next), "error": None}, actor=actor)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    ctx: CtxDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    code: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    check_csrf(request, csrf)
    attempt = do_sign_in(
        ctx,
        username=username.strip(),
        password=password,
        code=code.strip() or None,
        client=_client(request),
    )
    if attempt.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, attempt, next)
    if attempt.outcome in (Outcome.NEEDS_CODE, Outcome.NEEDS_ENROLMENT):
        return _remember_password_ok(request, ctx, attempt, next)
    if attempt.outcome is Outcome.LOCKED:
        return _locked_page(request, attempt, next)
    return _login_page(
        request,
        401,
        next=_safe_next(next),
        error="wrong_credentials_or_code" if code.strip() else "wrong_credentials",
        username=username,
    )


@router.get("/login/code", include_in_schema=False)
def code_form(request: Request) -> Response:
    if _pending(request) is None or "secret" in request.session.get("pending", {}):
        return RedirectResponse("/login", status_code=303)
    return render(request, "login_totp.html", {"error": None})


@router.post("/login/code", include_in_schema=False)
def code_check(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    check_csrf(request, csrf)
    pending = _pending(request)
    if pending is None or "secret" in pending:
        return _expired(request)
    attempt = do_verify_code(ctx, username=pending["user"], code=code, client=_client(request))
    if attempt.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, attempt, pending.get("next", "/"))
    if attempt.outcome is Outcome.LOCKED:
        return _locked_page(request, attempt, pending.get("next", "/"))
    if attempt.outcome is not Outcome.REFUSED:  # the account changed meanwhile: start again
        return _expired(request)
    return render(request, "login_totp.html", {"error": "wrong_code"}, status_code=401)


def _enrol_page(
    request: Request, ctx: CtxDep, pending: dict[str, Any], *, error: str | None, status: int
) -> Response:
    secret = Sealer.from_settings(ctx.settings).unseal(pending["secret"])
    uri = totp.provisioning_uri(secret, account=pending["user"])
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    qr = Markup(totp.qr_svg(uri, title="otpauth"))  # noqa: S704 - SVG made here by segno
    return render(
        request,
        "totp_enrol.html",
        {"secret": grouped, "uri": uri, "qr": qr, "error": error},
        status_code=status,
    )


@router.get("/login/enrol", include_in_schema=False)
def enrol_form(request: Request, ctx: CtxDep) -> Response:
    pending = _pending(request)
    if pending is None or not isinstance(pending.get("secret"), str):
        return RedirectResponse("/login", status_code=303)
    return _enrol_page(request, ctx, pending, error=None, status=200)


@router.post("/login/enrol", include_in_schema=False)
def enrol_confirm(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    check_csrf(request, csrf)
    pending = _pending(request)
    if pending is None or not isinstance(pending.get("secret"), str):
        return _expired(request)
    secret = Sealer.from_settings(ctx.settings).unseal(pending["secret"])
    attempt = do_confirm_enrolment(
        ctx, username=pending["user"], secret=secret, code=code, client=_client(request)
    )
    if attempt.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, attempt, pending.get("next", "/"))
    if attempt.outcome is Outcome.LOCKED:
        return _locked_page(request, attempt, pending.get("next", "/"))
    if attempt.outcome is not Outcome.REFUSED:
        return _expired(request)
    return _enrol_page(request, ctx, pending, error="wrong_code", status=401)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/language", include_in_schema=False)
def set_language(
    request: Request,
    lang: Annotated[str, Form(max_length=5)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    check_csrf(request, csrf)
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(next), status_code=303)


__all__ = [
    "PENDING_FOR",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "SlidingWindow",
    "limiter",
    "router",
]
