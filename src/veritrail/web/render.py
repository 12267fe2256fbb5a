"""Jinja2 templates with the reader's language, direction and CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from veritrail.access import Actor
from veritrail.i18n import LANGUAGES, negotiate, translator
from veritrail.web.security import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.add_extension("jinja2.ext.i18n")
templates.env.autoescape = True


def language_of(request: Request) -> str:
    chosen = request.session.get("lang") if "session" in request.scope else None
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language"))


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` in the reader's language (gettext ``_`` in templates)."""
    language = language_of(request)
    t = translator(language)
    values: dict[str, Any] = {
        "request": request,
        "actor": actor,
        "lang": language,
        "dir": "rtl" if t.rtl else "ltr",
        "languages": LANGUAGES,
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)


__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "language_of", "render", "templates"]
