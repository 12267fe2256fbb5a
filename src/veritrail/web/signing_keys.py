"""Signing keys in the web interface: a state's own page, and the administrators' list.

National authority submitters register, rotate and revoke their state's keys
under *My account → Signing keys*; administrators see every state's keys,
revoke them, and read the log's own key, under *Administration → Signing keys*.
Every form carries the CSRF token and calls one ``do_*`` action.
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can
from veritrail.actions.signing_keys import (
    do_register_signing_key,
    do_revoke_signing_key,
    do_rotate_signing_key,
)
from veritrail.api.deps import CtxDep
from veritrail.errors import Conflict, Forbidden, InputError, NotFound
from veritrail.queries.ledger import log_summary
from veritrail.queries.signing_keys import list_signing_keys
from veritrail.web.common import N_, flash, lang, page, state_name
from veritrail.web.deps import web_requires
from veritrail.web.security import check_csrf

router = APIRouter()

KeyReader = Annotated[Actor, Depends(web_requires(Action.SIGNING_KEY_READ))]
KeyManager = Annotated[Actor, Depends(web_requires(Action.SIGNING_KEY_MANAGE))]
Admin = Annotated[Actor, Depends(web_requires(Action.USER_MANAGE))]
Csrf = Annotated[str, Form(max_length=100)]
VKey = Annotated[str, Form(max_length=400)]

KEY_STATUS_LABELS: dict[str, str] = {
    "active": N_("Active"),
    "revoked": N_("Revoked"),
    "replaced": N_("Replaced"),
}
NOT_DONE = N_("Not done: %(reason)s")
OWN_PAGE = "/account/signing-keys"


def _own_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    *,
    error: str | None = None,
    vkey: str = "",
    status_code: int = 200,
) -> Response:
    state = actor.state
    return page(
        request,
        "account/signing_keys.html",
        {
            "keys": list_signing_keys(ctx, actor=actor, state=state) if state else [],
            "state_label": state_name(state, lang(request)),
            "may_manage": state is not None
            and can(actor, Action.SIGNING_KEY_MANAGE, Resource(owner_state=state)),
            "key_status_labels": KEY_STATUS_LABELS,
            "error": error,
            "vkey": vkey,
            "lang_next": OWN_PAGE,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get(OWN_PAGE, include_in_schema=False)
def own_keys(request: Request, ctx: CtxDep, actor: KeyReader) -> Response:
    """The keys of one's own state, and the forms to register, rotate and revoke them."""
    if actor.state is None and can(actor, Action.USER_MANAGE):
        return RedirectResponse("/admin/signing-keys", status_code=303)
    return _own_page(request, ctx, actor)


@router.post(OWN_PAGE, include_in_schema=False)
def register_key(
    request: Request, ctx: CtxDep, actor: KeyManager, vkey: VKey = "", csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    try:
        if actor.state is None:
            raise InputError("signing keys belong to a state's national authority")
        key = do_register_signing_key(ctx, actor=actor, vkey=vkey, state=actor.state)
    except (InputError, Conflict, NotFound) as exc:
        return _own_page(request, ctx, actor, error=exc.message, vkey=vkey, status_code=400)
    flash(request, N_("Signing key %(name)s registered as %(id)s."), name=key.name, id=key.id)
    return RedirectResponse(OWN_PAGE, status_code=303)


@router.post(OWN_PAGE + "/{key_id}/rotate", include_in_schema=False)
def rotate_key(
    request: Request,
    ctx: CtxDep,
    actor: KeyManager,
    key_id: str,
    vkey: VKey = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        key = do_rotate_signing_key(ctx, actor=actor, key_id=key_id, vkey=vkey)
    except (InputError, Conflict, Forbidden) as exc:
        return _own_page(request, ctx, actor, error=exc.message, status_code=exc.status)
    flash(request, N_("Signing key %(old)s replaced by %(id)s."), old=key_id, id=key.id)
    return RedirectResponse(OWN_PAGE, status_code=303)


@router.post(OWN_PAGE + "/{key_id}/revoke", include_in_schema=False)
def revoke_own_key(
    request: Request, ctx: CtxDep, actor: KeyManager, key_id: str, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    if do_revoke_signing_key(ctx, actor=actor, key_id=key_id):
        flash(request, N_("Signing key %(id)s revoked."), id=key_id)
    return RedirectResponse(OWN_PAGE, status_code=303)


@router.get("/admin/signing-keys", include_in_schema=False)
def admin_keys(request: Request, ctx: CtxDep, actor: Admin) -> Response:
    """Every state's keys with their status, and the transparency log's own key."""
    language = lang(request)
    keys = list_signing_keys(ctx, actor=actor)
    by_state: list[dict[str, Any]] = [
        {"state": state, "label": state_name(state, language), "keys": list(items)}
        for state, items in groupby(keys, key=lambda k: k.state)
    ]
    return page(
        request,
        "admin/signing_keys.html",
        {
            "states": by_state,
            "log": log_summary(ctx),
            "key_status_labels": KEY_STATUS_LABELS,
        },
        actor=actor,
    )


@router.post("/admin/signing-keys/{key_id}/revoke", include_in_schema=False)
def admin_revoke_key(
    request: Request, ctx: CtxDep, actor: Admin, key_id: str, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    try:
        if do_revoke_signing_key(ctx, actor=actor, key_id=key_id):
            flash(request, N_("Signing key %(id)s revoked."), id=key_id)
    except Forbidden as exc:
        flash(request, NOT_DONE, "error", reason=exc.message)
    return RedirectResponse("/admin/signing-keys", status_code=303)


__all__ = ["KEY_STATUS_LABELS", "router"]
