"""The web session shared by pages and API calls: who is signed in, and for how long.

A session idle for more than ``IDLE_TIMEOUT`` is forgotten; every request
that reads the signed-in user goes through :func:`session_username`.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from fastapi import Request

from veritrail.i18n import LANGUAGES

IDLE_TIMEOUT = timedelta(minutes=30)


def _now() -> datetime:
    return datetime.now(UTC)


def restart_session(request: Request) -> None:
    """Clear the session (a new CSRF token follows), keeping only the chosen language."""
    chosen = request.session.get("lang")
    request.session.clear()
    if chosen in LANGUAGES:
        request.session["lang"] = chosen


def session_username(request: Request, *, now: datetime | None = None) -> str | None:
    """The signed-in username, unless the session was idle too long; marks it as seen.

    Web and API dependencies that read the session should ask this rather than
    ``request.session["user"]``, so that the idle timeout holds everywhere.
    """
    if "session" not in request.scope:
        return None
    username = request.session.get("user")
    if not isinstance(username, str):
        return None
    moment = (now or _now()).timestamp()
    seen = request.session.get("seen")
    if not isinstance(seen, int | float) or moment - seen > IDLE_TIMEOUT.total_seconds():
        restart_session(request)
        return None
    request.session["seen"] = int(moment)
    return username


def csrf_matches(request: Request, given: str | None) -> bool:
    """Whether ``given`` is the session's CSRF token (compared in constant time)."""
    expected = request.session.get("csrf") if "session" in request.scope else None
    return isinstance(expected, str) and bool(given) and hmac.compare_digest(expected, given or "")


__all__ = ["IDLE_TIMEOUT", "csrf_matches", "restart_session", "session_username"]
