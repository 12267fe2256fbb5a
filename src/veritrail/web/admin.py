"""Administration under ``/admin``: organisations, users and API tokens.

Every page needs ``user.manage``; every form carries the CSRF token and
calls one ``do_*`` action, which writes its audit row. Temporary passwords
are shown in the response to the form that set them, never in a redirect,
a flash message or the session cookie.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor, Role
from veritrail.access.policy import Action
from veritrail.actions.accounts import ORGANISATION_KINDS, do_create_organisation
from veritrail.actions.admin import (
    ASSIGNABLE_ROLES,
    do_change_role,
    do_create_user_with_temporary_password,
    do_reset_password,
    do_reset_second_factor,
    do_set_active,
    do_unlock_user,
)
from veritrail.actions.tokens import do_revoke_token
from veritrail.api.deps import CtxDep
from veritrail.errors import Conflict, InputError, NotFound
from veritrail.i18n import LANGUAGES
from veritrail.queries.admin import get_user, list_organisations, list_users
from veritrail.queries.tokens import list_tokens
from veritrail.reference import states
from veritrail.web.account import TOKEN_STATE_LABELS
from veritrail.web.common import N_, flash, lang, page, state_options
from veritrail.web.deps import web_requires
from veritrail.web.security import check_csrf

router = APIRouter(prefix="/admin")

Admin = Annotated[Actor, Depends(web_requires(Action.USER_MANAGE))]
Csrf = Annotated[str, Form(max_length=100)]

ROLE_LABELS: dict[str, str] = {
    Role.NA_SUBMITTER: N_("National authority submitter"),
    Role.NA_VIEWER: N_("National authority viewer"),
    Role.ANALYST: N_("Analyst"),
    Role.INSPECTOR: N_("Inspector"),
    Role.INVESTIGATOR: N_("Investigator"),
    Role.AUDITOR: N_("Auditor"),
    Role.ADMIN: N_("Administrator"),
    Role.OPERATOR: N_("Local operator"),
}
KIND_LABELS: dict[str, str] = {
    "secretariat": N_("Secretariat"),
    "national_authority": N_("National authority"),
    "laboratory": N_("Laboratory"),
    "observer": N_("Observer"),
}
NOT_DONE = N_("Not done: %(reason)s")


def _page(
    request: Request, name: str, actor: Actor, context: dict[str, Any], status_code: int = 200
) -> Response:
    values = {"role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS, **context}
    return page(request, name, values, actor=actor, status_code=status_code)


def _users_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "admin/users.html",
        actor,
        {
            "users": list_users(ctx, actor=actor),
            "organisations": list_organisations(ctx, actor=actor),
            "roles": ASSIGNABLE_ROLES,
            "languages": LANGUAGES,
            "error": error,
            "form": form or {},
        },
        status_code,
    )


def _user_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    username: str,
    *,
    password: str | None = None,
    status_code: int = 200,
) -> Response:
    user = get_user(ctx, actor=actor, username=username)
    tokens = list_tokens(ctx, actor=actor, everyone=True, owner=username)
    response = _page(
        request,
        "admin/user.html",
        actor,
        {
            "user": user,
            "tokens": tokens,
            "roles": ASSIGNABLE_ROLES,
            "token_state_labels": TOKEN_STATE_LABELS,
            "password": password,
            "lang_next": f"/admin/users/{username}",
        },
        status_code,
    )
    if password is not None:
        response.headers["cache-control"] = "no-store"
    return response


def _back_to_user(username: str) -> Response:
    return RedirectResponse(f"/admin/users/{username}", status_code=303)


@router.get("", include_in_schema=False)
def admin_home(actor: Admin) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/users", include_in_schema=False)
def users(request: Request, ctx: CtxDep, actor: Admin) -> Response:
    return _users_page(request, ctx, actor)


@router.post("/users", include_in_schema=False)
def create_user(
    request: Request,
    ctx: CtxDep,
    actor: Admin,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    organisation_id: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str, Form(max_length=5)] = "en",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        if role not in {r.value for r in ASSIGNABLE_ROLES}:
            raise InputError(f"{role!r} is not a role that can be given")
        if language not in LANGUAGES:
            raise InputError(f"{language!r} is not one of the languages {', '.join(LANGUAGES)}")
        password = do_create_user_with_temporary_password(
            ctx,
            actor=actor,
            username=username,
            role=Role(role),
            organisation_id=organisation_id,
            display_name=display_name,
            language=language,
        )
    except (InputError, Conflict, NotFound) as exc:
        form = {
            "username": username,
            "role": role,
            "organisation_id": organisation_id,
            "display_name": display_name,
            "language": language,
        }
        return _users_page(request, ctx, actor, error=exc.message, form=form, status_code=400)
    return _user_page(request, ctx, actor, username.strip(), password=password, status_code=201)


@router.get("/users/{username}", include_in_schema=False)
def user(request: Request, ctx: CtxDep, actor: Admin, username: str) -> Response:
    return _user_page(request, ctx, actor, username)


@router.post("/users/{username}/role", include_in_schema=False)
def change_role(
    request: Request,
    ctx: CtxDep,
    actor: Admin,
    username: str,
    role: Annotated[str, Form(max_length=32)],
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        if role not in {r.value for r in ASSIGNABLE_ROLES}:
            raise InputError(f"{role!r} is not a role that can be given")
        do_change_role(ctx, actor=actor, username=username, role=Role(role))
        flash(request, N_("Role of %(user)s is now %(role)s."), user=username, role=role)
    except (InputError, Conflict) as exc:
        flash(request, NOT_DONE, "error", reason=exc.message)
    return _back_to_user(username)


@router.post("/users/{username}/active", include_in_schema=False)
def set_active(
    request: Request,
    ctx: CtxDep,
    actor: Admin,
    username: str,
    active: Annotated[bool, Form()],
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        do_set_active(ctx, actor=actor, username=username, active=active)
        message = N_("%(user)s reactivated.") if active else N_("%(user)s deactivated.")
        flash(request, message, user=username)
    except Conflict as exc:
        flash(request, NOT_DONE, "error", reason=exc.message)
    return _back_to_user(username)


@router.post("/users/{username}/password", include_in_schema=False)
def reset_password(
    request: Request, ctx: CtxDep, actor: Admin, username: str, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    password = do_reset_password(ctx, actor=actor, username=username)
    return _user_page(request, ctx, actor, username, password=password)


@router.post("/users/{username}/unlock", include_in_schema=False)
def unlock(request: Request, ctx: CtxDep, actor: Admin, username: str, csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    do_unlock_user(ctx, actor=actor, username=username)
    flash(request, N_("%(user)s unlocked."), user=username)
    return _back_to_user(username)


@router.post("/users/{username}/second-factor", include_in_schema=False)
def reset_second_factor(
    request: Request, ctx: CtxDep, actor: Admin, username: str, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    do_reset_second_factor(ctx, actor=actor, username=username)
    flash(
        request,
        N_("Second factor of %(user)s reset: they enrol again at their next sign-in."),
        user=username,
    )
    return _back_to_user(username)


def _organisations_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "admin/organisations.html",
        actor,
        {
            "organisations": list_organisations(ctx, actor=actor),
            "kinds": ORGANISATION_KINDS,
            "states": state_options(lang(request)),
            "error": error,
            "form": form or {},
        },
        status_code,
    )


@router.get("/organisations", include_in_schema=False)
def organisations(request: Request, ctx: CtxDep, actor: Admin) -> Response:
    return _organisations_page(request, ctx, actor)


@router.post("/organisations", include_in_schema=False)
def create_organisation(
    request: Request,
    ctx: CtxDep,
    actor: Admin,
    id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    kind: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(min_length=1, max_length=300)],
    state: Annotated[str, Form(max_length=3)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        if kind == "national_authority" and not state:
            raise InputError("a national authority belongs to a state; choose one")
        if state and states.by_alpha3(state) is None:
            raise InputError(f"{state!r} is not an ISO 3166-1 alpha-3 state code")
        do_create_organisation(
            ctx, actor=actor, id=id, kind=kind, name=name.strip(), state=state or None
        )
    except (InputError, Conflict) as exc:
        form = {"id": id, "kind": kind, "name": name, "state": state}
        return _organisations_page(
            request, ctx, actor, error=exc.message, form=form, status_code=400
        )
    flash(request, N_("Organisation %(id)s created."), id=id)
    return RedirectResponse("/admin/organisations", status_code=303)


@router.get("/tokens", include_in_schema=False)
def tokens(request: Request, ctx: CtxDep, actor: Admin) -> Response:
    return _page(
        request,
        "admin/tokens.html",
        actor,
        {
            "tokens": list_tokens(ctx, actor=actor, everyone=True),
            "token_state_labels": TOKEN_STATE_LABELS,
        },
    )


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(
    request: Request,
    ctx: CtxDep,
    actor: Admin,
    token_id: str,
    csrf: Csrf = "",
    next: Annotated[str, Form(max_length=200)] = "/admin/tokens",
) -> Response:
    check_csrf(request, csrf)
    if do_revoke_token(ctx, actor=actor, token_id=token_id):
        flash(request, N_("Token %(id)s revoked."), id=token_id)
    target = next if next.startswith("/admin/") and "//" not in next else "/admin/tokens"
    return RedirectResponse(target, status_code=303)


__all__ = ["KIND_LABELS", "ROLE_LABELS", "router"]
