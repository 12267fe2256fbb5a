"""Uploading a filled-in template (XLSX, CSV or JSON), with every error listed where it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.actions import Context, do_submit_declaration
from veritrail.api.deps import CtxDep
from veritrail.declarations.document import MEDIA_TYPES
from veritrail.declarations.intake import parse_upload
from veritrail.declarations.signatures import read_signature
from veritrail.errors import Conflict, Forbidden, InputError, NotFound, Problem, ValidationFailed
from veritrail.ledger.note import MAX_NOTE_BYTES
from veritrail.reference import states
from veritrail.regimes.model import DeclarationType
from veritrail.web.common import N_, current_period, flash_submitted, lang, page, state_options
from veritrail.web.deps import WebSubmitter
from veritrail.web.security import check_csrf

router = APIRouter()

HEADER_GROUP = "header"


@dataclass
class ProblemGroup:
    """Problems of one section of the declaration (or of its header)."""

    key: str
    title: str
    problems: list[Problem] = field(default_factory=list)


def _section_of(problem: Problem) -> str:
    pointer = problem.field or (problem.path if problem.path.startswith("/") else "")
    parts = pointer.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "data" else HEADER_GROUP


def group_problems(
    problems: list[Problem], dtype: DeclarationType | None, language: str
) -> list[ProblemGroup]:
    """Problems grouped by the section they concern, in the order of the pack."""
    groups: dict[str, ProblemGroup] = {}
    for problem in problems:
        key = _section_of(problem)
        if key not in groups:
            spec = dtype.section(key) if dtype else None
            groups[key] = ProblemGroup(key, spec.title.get(language) if spec else key)
        groups[key].problems.append(problem)
    order = [HEADER_GROUP] + ([s.id for s in dtype.sections] if dtype else [])
    return sorted(
        groups.values(), key=lambda g: order.index(g.key) if g.key in order else len(order)
    )


def _allowed_states(actor: Actor, language: str) -> list[tuple[str, str]]:
    if actor.is_national:
        return [(code, name) for code, name in state_options(language) if code == actor.state]
    return [(code, name) for code, name in state_options(language) if actor.may_submit_for(code)]


def _template_links(ctx: Context, actor: Actor, language: str) -> list[dict[str, Any]]:
    out = []
    for pack in ctx.registry.packs.values():
        if actor.state and actor.state not in pack.parties():
            continue
        out.append(
            {
                "regime": pack.regime.id,
                "name": pack.regime.short_name.get(language),
                "types": [
                    {"id": t.id, "title": t.title.get(language)} for t in pack.types.values()
                ],
            }
        )
    return out


def _upload_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    groups: list[ProblemGroup] | None = None,
    error: str | None = None,
    filename: str | None = None,
    chosen: str | None = None,
    status_code: int = 200,
) -> Response:
    language = lang(request)
    return page(
        request,
        "upload.html",
        {
            "states": _allowed_states(actor, language),
            "chosen": chosen or actor.state,
            "templates": _template_links(ctx, actor, language),
            "period": current_period(),
            "groups": groups or [],
            "error_count": sum(p.severity == "error" for g in groups or [] for p in g.problems),
            "error": error,
            "filename": filename,
            "lang_next": "/declarations/upload",
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/declarations/upload", include_in_schema=False)
def upload_form(request: Request, ctx: CtxDep, actor: WebSubmitter) -> Response:
    return _upload_page(request, ctx, actor)


def _dtype_of(ctx: Context, document: dict[str, Any]) -> DeclarationType | None:
    try:
        return ctx.registry.declaration_type(str(document.get("regime")), str(document.get("type")))
    except NotFound:
        return None


@router.post("/declarations/upload", include_in_schema=False)
async def upload(
    request: Request,
    ctx: CtxDep,
    actor: WebSubmitter,
    file: Annotated[UploadFile, File()],
    state: Annotated[str, Form(max_length=60)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    signature: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Submit an uploaded declaration; nothing is stored when it has errors."""
    check_csrf(request, csrf)
    language = lang(request)
    filename = (file.filename or "upload")[-255:]
    chosen = states.lookup(state) if state else None
    data = await file.read()
    dtype: DeclarationType | None = None
    try:
        if not data:
            raise InputError(N_("The file is empty."))
        # An optional .sig file of `veritrail declare sign`; an empty file input sends no name.
        signed = None
        if signature is not None and signature.filename:
            signed = read_signature(await signature.read(MAX_NOTE_BYTES + 1))
        parsed = parse_upload(data, filename, registry=ctx.registry, limits=ctx.settings)
        dtype = _dtype_of(ctx, parsed.document)
        result = do_submit_declaration(
            ctx,
            actor=actor,
            parsed=parsed,
            original=data,
            filename=filename,
            media_type=MEDIA_TYPES.get(parsed.source_format, "application/octet-stream"),
            state=chosen.alpha3 if chosen else None,
            language=language,
            signature=signed,
        )
    except ValidationFailed as exc:
        return _upload_page(
            request,
            ctx,
            actor,
            filename=filename,
            groups=group_problems(exc.problems, dtype, language),
            chosen=chosen.alpha3 if chosen else None,
            status_code=422,
        )
    except (InputError, Conflict, Forbidden) as exc:
        return _upload_page(
            request,
            ctx,
            actor,
            filename=filename,
            error=exc.message,
            chosen=chosen.alpha3 if chosen else None,
            status_code=exc.status,
        )
    flash_submitted(request, result)
    return RedirectResponse(f"/declarations/{result.id}", status_code=303)


__all__ = ["ProblemGroup", "group_problems", "router"]
