"""API routes for regimes, declarations and reporting status."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions import do_prefill_draft, do_submit_declaration
from veritrail.api.deps import SQL_INT_MAX, CtxDep, client_of
from veritrail.api.permissions import requires
from veritrail.api.signing_keys import SignatureHeader, decode_signature_header
from veritrail.api.uploads import BODY_DOC, read_upload
from veritrail.declarations import templates
from veritrail.declarations.csvsafe import write_csv
from veritrail.declarations.document import MEDIA_TYPES
from veritrail.declarations.models import (
    DeclarationDetail,
    DeclarationPublic,
    ReportingStatus,
    StatusCell,
    SubmissionResult,
)
from veritrail.declarations.validate import validate
from veritrail.errors import InputError, Problem, ValidationFailed
from veritrail.i18n import negotiate
from veritrail.queries import (
    declaration_detail,
    diff_versions,
    list_declarations,
    original_file,
    status_table,
    version_document,
    version_export,
)
from veritrail.queries.ledger import with_receipt
from veritrail.reference import states

router = APIRouter()

Reader = Annotated[Actor, Depends(requires(Action.DECLARATION_READ))]
Submitter = Annotated[Actor, Depends(requires(Action.DECLARATION_SUBMIT))]
StatusReader = Annotated[Actor, Depends(requires(Action.STATUS_READ))]
ReferenceReader = Annotated[Actor, Depends(requires(Action.REFERENCE_READ))]

PurposeQuery = Annotated[
    str | None,
    Query(max_length=300, description="Why you read it; kept in the access log with the read."),
]
StateQuery = Annotated[str | None, Query(description="ISO 3166-1 alpha-3 code", max_length=60)]
VersionPath = Annotated[int, Path(ge=1, le=SQL_INT_MAX, description="Version number, from 1")]


def _file_answer(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    """The documented 200 of a route that answers with a file rather than JSON."""
    return {200: {"description": description, "content": {m: {} for m in media_types}}}


def _state(value: str | None) -> str | None:
    if value is None:
        return None
    found = states.lookup(value)
    if found is None:
        raise InputError(f"{value!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
    return found.alpha3


@router.get("/regimes", tags=["regimes"])
def regimes(ctx: CtxDep, actor: ReferenceReader) -> list[dict[str, Any]]:
    """Regime packs and their declaration types, with deadlines and default classification.

    `annexes` gives the confidential annexes of a type: section id and the classification
    the pack gives it, above the type's own.
    """
    return [
        {
            "id": pack.regime.id,
            "name": pack.regime.short_name.en,
            "types": [
                {
                    "id": t.id,
                    "title": t.title.en,
                    "reference": t.reference,
                    "expected": t.expected,
                    "classification": t.classification.value,
                    "annexes": {section: level.value for section, level in t.annexes.items()},
                    "nothing_to_declare": t.nothing_to_declare,
                    "deadline": {
                        "month": t.deadline.month,
                        "day": t.deadline.day,
                        "year_offset": t.deadline.year_offset,
                    },
                }
                for t in pack.types.values()
            ],
        }
        for pack in ctx.registry.packs.values()
    ]


@router.get("/regimes/{regime}/types/{type_}/schema", tags=["regimes"])
def schema(regime: str, type_: str, ctx: CtxDep, actor: ReferenceReader) -> dict[str, Any]:
    """The JSON Schema of one declaration type's canonical document."""
    return templates.json_schema(ctx.registry.declaration_type(regime, type_), ctx.registry)


@router.get(
    "/regimes/{regime}/types/{type_}/template",
    tags=["regimes"],
    response_class=Response,
    responses=_file_answer("A blank template", *MEDIA_TYPES.values()),
)
def template(
    regime: str,
    type_: str,
    ctx: CtxDep,
    actor: ReferenceReader,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "xlsx",
    period: Annotated[int | None, Query(ge=1946, le=2200)] = None,
    state: StateQuery = None,
) -> Response:
    """A blank template to fill in: JSON, CSV or XLSX."""
    dtype = ctx.registry.declaration_type(regime, type_)
    state = _state(state)
    if format == "json":
        body = json.dumps(
            templates.json_template(dtype, ctx.registry, period=period, state=state),
            ensure_ascii=False,
            indent=2,
        ).encode()
    elif format == "csv":
        body = templates.csv_template(dtype, ctx.registry, period=period, state=state)
    else:
        body = templates.xlsx_template(dtype, ctx.registry, period=period, state=state)
    name = f"{regime}-{type_}-template.{format}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/declarations/validate",
    tags=["declarations"],
    openapi_extra=BODY_DOC,
    responses={422: {"description": "The declaration has errors; all are listed"}},
)
async def validate_declaration(request: Request, ctx: CtxDep, actor: Submitter) -> JSONResponse:
    """Check a declaration without storing anything; lists every error and warning."""
    parsed, _data, _name = await read_upload(request, ctx)
    language = negotiate(request.headers.get("accept-language"))
    result = validate(parsed.document, ctx.registry, language=language)
    located = [
        Problem(parsed.locate(p.path), p.code, p.message, p.severity, field=p.path)
        for p in result.problems
    ]
    if not result.valid:
        raise ValidationFailed(located)
    return JSONResponse({"valid": True, "errors": [], "warnings": [p.as_dict() for p in located]})


@router.post(
    "/declarations",
    tags=["declarations"],
    status_code=201,
    openapi_extra=BODY_DOC,
    responses={
        422: {"description": "The declaration has errors; nothing was stored"},
        409: {"description": "Already submitted, or identical to the last version"},
    },
)
async def submit(
    request: Request,
    ctx: CtxDep,
    actor: Submitter,
    state: StateQuery = None,
    note: Annotated[str | None, Query(max_length=2000)] = None,
    signature: SignatureHeader = None,
) -> SubmissionResult:
    """Submit a declaration; a document carrying an existing declaration's `id` amends it.

    To sign the submission with one of your state's registered keys, sign the file
    offline (`veritrail declare sign FILE --key KEYFILE` writes `FILE.sig`) and send
    the `.sig` file, base64-encoded, in the `Veritrail-Signature` header, e.g.
    `-H "Veritrail-Signature: $(base64 -w0 FILE.sig)"`. The signature must be by an
    active key of the declaring state and name the SHA-256 of the exact bytes sent;
    otherwise nothing is stored and the answer says which key and what did not match.
    """
    parsed, data, filename = await read_upload(request, ctx)
    result = do_submit_declaration(
        ctx,
        actor=actor,
        parsed=parsed,
        original=data,
        filename=filename,
        media_type=MEDIA_TYPES.get(parsed.source_format, "application/octet-stream"),
        state=_state(state),
        note=note,
        language=negotiate(request.headers.get("accept-language")),
        signature=decode_signature_header(signature),
    )
    return with_receipt(ctx, result)


@router.get("/declarations", tags=["declarations"])
def declarations(
    ctx: CtxDep,
    actor: Reader,
    state: StateQuery = None,
    regime: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[int | None, Query(ge=1946, le=2200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=SQL_INT_MAX)] = 0,
    before: Annotated[
        str | None,
        Query(
            max_length=120,
            description="`updated_at,id` of the last item of the previous page: the next page "
            "costs the same however deep it is (use instead of `offset`).",
        ),
    ] = None,
) -> list[DeclarationPublic]:
    """Declarations you may see, newest first."""
    return list_declarations(
        ctx,
        actor=actor,
        state=_state(state),
        regime=regime,
        type_=type,
        period=period,
        limit=limit,
        offset=offset,
        before=_cursor(before),
    )


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    if value is None:
        return None
    moment, _, declaration_id = value.rpartition(",")
    try:
        at = datetime.fromisoformat(moment.replace(" ", "+"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not declaration_id:
        raise InputError(
            "before must be `updated_at,id` of the last item of the previous page, for example "
            "2026-03-01T10:00:00+00:00,D-0123456789ABCDEF"
        )
    return at, declaration_id


@router.get("/declarations/{declaration_id}", tags=["declarations"])
def declaration(
    declaration_id: str, request: Request, ctx: CtxDep, actor: Reader, purpose: PurposeQuery = None
) -> DeclarationDetail:
    """One declaration with all its versions, and its confidential annexes.

    `annexes` lists each annex (a section classified above the declaration) with its
    classification and whether it is `withheld` from you; versions' `line_count` then
    leaves out the rows of withheld annexes.
    """
    return declaration_detail(
        ctx, actor=actor, declaration_id=declaration_id, client=client_of(request), purpose=purpose
    )


@router.get("/declarations/{declaration_id}/versions/{version}", tags=["declarations"])
def version(
    declaration_id: str,
    version: VersionPath,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    purpose: PurposeQuery = None,
) -> dict[str, Any]:
    """The canonical JSON of one version; it validates as it is and amends when resubmitted.

    An annex you may not read is withheld: its `data` entry is replaced by
    `{"withheld": true, "classification": "<level>"}` (an object, also for a table
    section), which tells nothing of what the annex holds. A document with a withheld
    annex does not hash to `content_sha256` and cannot be resubmitted.
    """
    return version_document(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        version=version,
        client=client_of(request),
        purpose=purpose,
    )


@router.get(
    "/declarations/{declaration_id}/versions/{version}/original",
    tags=["declarations"],
    response_class=Response,
    responses=_file_answer("The original file", *MEDIA_TYPES.values(), "application/octet-stream"),
)
def original(
    declaration_id: str,
    version: VersionPath,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    purpose: PurposeQuery = None,
) -> Response:
    """The file exactly as it was received for this version.

    The file holds every annex of the declaration: it is refused (403) to whoever may not
    read all of them.
    """
    data, name, media_type = original_file(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        version=version,
        client=client_of(request),
        purpose=purpose,
    )
    safe = "".join(c for c in name if c.isalnum() or c in "-_.")[:120] or "original"
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )


@router.get(
    "/declarations/{declaration_id}/versions/{version}/export",
    tags=["declarations"],
    response_class=Response,
    responses=_file_answer("The version as CSV or XLSX", MEDIA_TYPES["csv"], MEDIA_TYPES["xlsx"]),
)
def export(
    declaration_id: str,
    version: VersionPath,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
    purpose: PurposeQuery = None,
) -> Response:
    """One version as CSV or XLSX, laid out as the templates (a complete one resubmits as it is).

    An annex you may not read keeps its block or sheet with only `withheld` and its
    `classification`.
    """
    data, name, media_type = version_export(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        version=version,
        format=format,
        client=client_of(request),
        purpose=purpose,
    )
    safe = "".join(c for c in name if c.isalnum() or c in "-_.")[:120] or f"export.{format}"
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )


@router.get("/declarations/{declaration_id}/diff", tags=["declarations"])
def diff(
    declaration_id: str,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    old: Annotated[int, Query(alias="from", ge=1, le=SQL_INT_MAX)],
    new: Annotated[int, Query(alias="to", ge=1, le=SQL_INT_MAX)],
    purpose: PurposeQuery = None,
) -> dict[str, Any]:
    """What changed between two versions, field by field and row by row.

    Annexes you may not read are not compared; `withheld` lists them (section id and
    classification).
    """
    result = diff_versions(
        ctx,
        actor=actor,
        declaration_id=declaration_id,
        old=old,
        new=new,
        client=client_of(request),
        purpose=purpose,
    )
    return {
        "summary": result.summary(),
        "header": [asdict(c) for c in result.header],
        "sections": [asdict(s) for s in result.sections if not s.empty],
        "withheld": [
            {"section": section, "classification": level}
            for section, level in result.withheld.items()
        ],
    }


@router.post("/declarations/prefill", tags=["declarations"], status_code=201)
def prefill(
    ctx: CtxDep,
    actor: Submitter,
    regime: Annotated[str, Query(max_length=32)],
    type: Annotated[str, Query(max_length=64)],
    state: Annotated[str, Query(max_length=60)],
    period: Annotated[int, Query(ge=1946, le=2200)],
) -> dict[str, str]:
    """Start a draft for `period` from the latest version of the previous period."""
    alpha3 = _state(state) or ""
    ctx.registry.declaration_type(regime, type)
    declaration_id = do_prefill_draft(
        ctx, actor=actor, regime=regime, type_=type, state=alpha3, period=period
    )
    return {"id": declaration_id}


@router.get("/status", tags=["status"])
def reporting_status(
    ctx: CtxDep,
    actor: StatusReader,
    period: Annotated[int, Query(ge=1946, le=2200)],
    regime: Annotated[str | None, Query(max_length=32)] = None,
    state: StateQuery = None,
    status: ReportingStatus | None = None,
) -> list[StatusCell]:
    """Reporting status per state and regime for a period: on time, late, missing, …"""
    if regime:
        ctx.registry.regime(regime)
    return status_table(
        ctx, actor=actor, period=period, regime=regime, state=_state(state), status=status
    )


@router.get(
    "/status.csv",
    tags=["status"],
    response_class=StreamingResponse,
    responses=_file_answer("The status table", "text/csv"),
)
def status_csv(
    ctx: CtxDep,
    actor: StatusReader,
    period: Annotated[int, Query(ge=1946, le=2200)],
    regime: Annotated[str | None, Query(max_length=32)] = None,
    state: StateQuery = None,
    status: ReportingStatus | None = None,
) -> StreamingResponse:
    """The status table as CSV (formula injection neutralised)."""
    cells = reporting_status(ctx, actor, period, regime, state, status)
    rows: list[list[Any]] = [["state", "regime", "period", "status", "due", "submitted_at"]]
    rows += [
        [
            c.state,
            c.regime,
            c.period,
            c.status.value,
            c.due.isoformat(),
            c.submitted_at.isoformat() if c.submitted_at else "",
        ]
        for c in cells
    ]
    return StreamingResponse(
        io.BytesIO(write_csv(rows)),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="status-{period}.csv"'},
    )
