"""Sign-in, sign-out and the reader's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.api.deps import CtxDep
from veritrail.i18n import LANGUAGES
from veritrail.queries.accounts import authenticate
from veritrail.web.deps import MaybeActor
from veritrail.web.render import render
from veritrail.web.security import check_csrf

router = APIRouter()


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, actor: MaybeActor, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None}, actor=actor)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    ctx: CtxDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    check_csrf(request, csrf)
    actor = authenticate(ctx, username=username.strip(), password=password)
    if actor is None:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "wrong_credentials", "username": username},
            status_code=401,
        )
    chosen = request.session.get("lang")
    request.session.clear()
    request.session["user"] = actor.username
    # A language picked before signing in wins; otherwise the user's own.
    request.session["lang"] = chosen if chosen in LANGUAGES else actor.language
    return RedirectResponse(_safe_next(next), status_code=303)


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
