"""Filling in a declaration in the browser: new, edit draft, validate, submit, prefill."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from veritrail.access import Actor
from veritrail.actions import Context, do_prefill_draft, do_save_draft, do_submit_declaration
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import public
from veritrail.declarations.document import ParsedDeclaration
from veritrail.declarations.validate import validate
from veritrail.errors import Conflict, Forbidden, InputError, NotFound, Problem, ValidationFailed
from veritrail.queries import declaration_detail, list_declarations, version_document
from veritrail.regimes.model import DeclarationType, SectionKind
from veritrail.web import forms
from veritrail.web.common import (
    N_,
    client_of,
    current_period,
    flash,
    flash_submitted,
    lang,
    page,
    partial,
    period_choices,
    state_name,
)
from veritrail.web.deps import WebSubmitter
from veritrail.web.security import check_csrf

router = APIRouter()

Ident = Annotated[str, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


def _submitter_state(actor: Actor) -> str:
    if actor.state is None or not actor.may_submit_for(actor.state):
        raise Forbidden("only a national authority submitter may fill in declarations")
    return actor.state


def _form_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    dtype: DeclarationType,
    document: dict[str, Any],
    *,
    problems: list[Problem] | None = None,
    notice: str | None = None,
    error: str | None = None,
    checked: bool = False,
    status_code: int = 200,
) -> Response:
    language = lang(request)
    sections = forms.build_sections(dtype, document.get("data") or {}, language)
    placed = forms.place_problems(sections, problems or [])
    declaration_id = document.get("id")
    amends = None
    if declaration_id:
        detail = declaration_detail(
            ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
        )
        amends = detail.current_version or None
    period = int(document.get("period") or current_period())
    return page(
        request,
        "declaration_form.html",
        {
            "dtype": dtype,
            "regime_name": ctx.registry.regime(dtype.regime).regime.short_name.get(language),
            "type_title": dtype.title.get(language),
            "state": document.get("state"),
            "state_label": state_name(document.get("state"), language),
            "period": period,
            "due": dtype.deadline.due(period),
            "declaration_id": declaration_id,
            "amends": amends,
            "nothing_to_declare": bool(document.get("nothing_to_declare")),
            "sections": sections,
            "datalists": forms.datalists(dtype, ctx.registry, language),
            "placed": placed,
            "notice": notice,
            "error": error,
            "checked": checked,
            "lang_next": (
                f"/declarations/{declaration_id}/edit"
                if declaration_id
                else f"/declarations/new?regime={dtype.regime}&type={dtype.id}&period={period}"
            ),
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/declarations/new", include_in_schema=False)
def new_declaration(
    request: Request,
    ctx: CtxDep,
    actor: WebSubmitter,
    regime: Ident | None = None,
    type: Ident | None = None,
    period: Annotated[int | None, Query(ge=1946, le=2200)] = None,
    type_key: Annotated[str | None, Query(max_length=130)] = None,
) -> Response:
    state = _submitter_state(actor)
    period = period or current_period()
    if type_key and "/" in type_key:
        regime, type = type_key.split("/", 1)
    if not regime or not type:
        language = lang(request)
        packs = [
            (
                pack.regime.id,
                pack.regime.short_name.get(language),
                [(t.id, t.title.get(language)) for t in pack.types.values()],
            )
            for pack in ctx.registry.packs.values()
            if state in pack.parties()
        ]
        return page(
            request,
            "declaration_choose.html",
            {"packs": packs, "period": period, "periods": period_choices()},
            actor=actor,
        )
    dtype = ctx.registry.declaration_type(regime, type)
    if dtype.expected == "every_party":
        existing = list_declarations(
            ctx, actor=actor, state=state, regime=regime, type_=type, period=period, limit=1
        )
        if existing:
            return RedirectResponse(f"/declarations/{existing[0].id}/edit", status_code=303)
    document = {"regime": regime, "type": type, "state": state, "period": period, "data": {}}
    return _form_page(request, ctx, actor, dtype, document)


@router.get("/declarations/{declaration_id}/edit", include_in_schema=False)
def edit_declaration(
    request: Request, declaration_id: str, ctx: CtxDep, actor: WebSubmitter
) -> Response:
    detail = declaration_detail(
        ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
    )
    if not actor.may_submit_for(detail.state):
        raise Forbidden("only the declaring state's submitters may change this declaration")
    dtype = ctx.registry.declaration_type(detail.regime, detail.type)
    if detail.draft is not None:
        document = dict(detail.draft)
        notice = N_("You are continuing a saved draft.")
    else:
        document = version_document(
            ctx, actor=actor, declaration_id=declaration_id, client=client_of(request)
        )
        notice = None
    if detail.current_version or detail.draft is not None:
        document["id"] = detail.id
    return _form_page(request, ctx, actor, dtype, document, notice=notice)


@router.get("/declarations/row", include_in_schema=False)
def new_row(
    request: Request, ctx: CtxDep, actor: WebSubmitter, regime: Ident, type: Ident, section: Ident
) -> Response:
    """One empty table row, added to the form by htmx."""
    dtype = ctx.registry.declaration_type(regime, type)
    spec = dtype.section(section)
    if spec is None or spec.kind is not SectionKind.TABLE:
        raise NotFound(f"no table section {section!r} in {dtype.key}")
    row = forms.table_row(spec, {}, lang(request), forms.new_row_key())
    return partial(request, "_form_row.html", {"section": spec, "row": row}, actor=actor)


def _header(form: FormData, state: str) -> dict[str, Any]:
    header: dict[str, Any] = {
        "regime": str(form.get("regime") or ""),
        "type": str(form.get("type") or ""),
        "state": state,
    }
    period = str(form.get("period") or "").strip()
    header["period"] = int(period) if period.isdigit() else period
    if form.get("nothing_to_declare"):
        header["nothing_to_declare"] = True
    declaration_id = str(form.get("id") or "").strip()
    if declaration_id:
        header["id"] = declaration_id
    return header


@router.get("/declarations/form", include_in_schema=False, dependencies=[Depends(public)])
def form_address() -> Response:
    """The form posts here; opening the address itself leads to a new declaration."""
    return RedirectResponse("/declarations/new", status_code=303)


@router.post("/declarations/form", include_in_schema=False)
async def save_form(request: Request, ctx: CtxDep, actor: WebSubmitter) -> Response:
    """Save a draft, check, or submit the declaration form."""
    form = await request.form(max_files=0, max_fields=20_000)
    check_csrf(request, str(form.get("csrf") or ""))
    state = _submitter_state(actor)
    header = _header(form, state)
    try:
        dtype = ctx.registry.declaration_type(header["regime"], header["type"])
    except NotFound as exc:
        raise InputError(exc.message) from exc
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    document = forms.document_from_form(dtype, items, header)
    action = str(form.get("action") or "validate")
    language = lang(request)
    try:
        if action == "save":
            declaration_id, problems = do_save_draft(
                ctx, actor=actor, document=document, language=language
            )
            document["id"] = declaration_id
            return _form_page(
                request,
                ctx,
                actor,
                dtype,
                document,
                problems=problems,
                notice=N_("Draft saved. It is not submitted yet."),
            )
        if action == "submit":
            result = do_submit_declaration(
                ctx,
                actor=actor,
                parsed=ParsedDeclaration(document, "form"),
                media_type="application/json",
                language=language,
            )
            flash_submitted(request, result)
            return RedirectResponse(f"/declarations/{result.id}", status_code=303)
        result_check = validate(document, ctx.registry, language=language)
        return _form_page(
            request,
            ctx,
            actor,
            dtype,
            document,
            problems=result_check.problems,
            checked=True,
            status_code=200 if result_check.valid else 422,
        )
    except ValidationFailed as exc:
        return _form_page(
            request, ctx, actor, dtype, document, problems=exc.problems, status_code=422
        )
    except Conflict as exc:
        return _form_page(request, ctx, actor, dtype, document, error=exc.message, status_code=409)


@router.post("/declarations/prefill", include_in_schema=False)
def prefill(
    request: Request,
    ctx: CtxDep,
    actor: WebSubmitter,
    regime: Annotated[str, Form(max_length=64)],
    type: Annotated[str, Form(max_length=64)],
    period: Annotated[int, Form(ge=1946, le=2200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Start this period's declaration from the latest version of the previous one."""
    check_csrf(request, csrf)
    state = _submitter_state(actor)
    ctx.registry.declaration_type(regime, type)
    try:
        declaration_id = do_prefill_draft(
            ctx, actor=actor, regime=regime, type_=type, state=state, period=period
        )
    except (NotFound, Conflict):
        flash(
            request, N_("There is no earlier declaration of this type to start from."), kind="error"
        )
        return RedirectResponse(
            f"/declarations/new?regime={regime}&type={type}&period={period}", status_code=303
        )
    flash(request, N_("Started from your latest earlier declaration. Check it and submit."))
    return RedirectResponse(f"/declarations/{declaration_id}/edit", status_code=303)


__all__ = ["router"]
