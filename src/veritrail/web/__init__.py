"""The web interface: server-rendered pages with htmx."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, can
from veritrail.api.deps import no_nul_characters
from veritrail.web import (
    account,
    admin,
    analysis,
    archive,
    auth,
    cases,
    clarifications,
    oidc,
    pages,
    search,
    signing_keys,
    verify,
)
from veritrail.web.deps import LoginRequired
from veritrail.web.render import STATIC_DIR, render, templates

# PostgreSQL text cannot hold NUL: refuse it at the door, with a message.
router = APIRouter(dependencies=[Depends(no_nul_characters)])
router.include_router(auth.router)
router.include_router(oidc.router)
router.include_router(pages.router)
router.include_router(account.router)
router.include_router(admin.router)
router.include_router(signing_keys.router)
router.include_router(verify.router)
router.include_router(search.router)
router.include_router(archive.router)
router.include_router(analysis.router)
router.include_router(cases.router)
router.include_router(clarifications.router)


def may(actor: Actor | None, action: str) -> bool:
    """For templates: whether the policy lets ``actor`` do ``action`` at all (links, menus)."""
    return actor is not None and can(actor, Action(action))


templates.env.globals["may"] = may


def error_page(
    request: Request, status: int, message: str, exc: Exception | None = None
) -> Response:
    """An HTML error page in the reader's language; sign-in redirects for 401."""
    if isinstance(exc, LoginRequired):
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)
    if status == 401:
        path = request.url.path
        return RedirectResponse(f"/login?next={path}", status_code=303)
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


__all__ = ["STATIC_DIR", "error_page", "render", "router"]
