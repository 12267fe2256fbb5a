"""API routes of the archive and of search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions import Context
from veritrail.actions.archive import do_reclassify_document
from veritrail.actions.archive_jobs import MAX_FILES, enqueue_import
from veritrail.api.deps import CtxDep, client_of
from veritrail.api.permissions import requires
from veritrail.errors import InputError
from veritrail.queries.archive import DocumentPublic, get_document, get_job, original_file
from veritrail.regimes.model import Classification
from veritrail.search.model import Facet
from veritrail.search.service import MAX_LIMIT, MAX_OFFSET, Found
from veritrail.search.service import search as run_search

router = APIRouter(tags=["archive and search"])

Reader = Annotated[Actor, Depends(requires(Action.ARCHIVE_READ))]
Importer = Annotated[Actor, Depends(requires(Action.ARCHIVE_IMPORT))]
Reclassifier = Annotated[Actor, Depends(requires(Action.ARCHIVE_RECLASSIFY))]
DocumentPath = Annotated[str, Path(max_length=32, pattern=r"^A-[0-9A-F]{16}$")]
JobPath = Annotated[str, Path(max_length=32, pattern=r"^J-[0-9A-F]{16}$")]
PurposeQuery = Annotated[
    str | None, Query(max_length=300, description="Why you read it (kept in the access log).")
]
FacetValues = Annotated[list[str] | None, Query(max_length=20)]


class SearchHit(BaseModel):
    record_id: str
    type: str
    title: str
    language: str
    source_name: str | None
    classification: str
    year: int | None
    score: float
    snippet: str = Field(description="The best passages, plain text.")
    snippet_html: str = Field(description="The same with matches in <mark>, HTML-escaped.")
    url: str


class FacetCount(BaseModel):
    value: str
    count: int


class SearchAnswer(BaseModel):
    query: str
    total: int
    offset: int
    limit: int
    results: list[SearchHit]
    facets: dict[str, list[FacetCount]]


def hit_answer(hit: Found) -> SearchHit:
    return SearchHit(
        record_id=hit.record_id,
        type=hit.record_type.value,
        title=hit.title,
        language=hit.language,
        source_name=hit.source_name,
        classification=hit.classification,
        year=hit.year,
        score=round(hit.score, 4),
        snippet=hit.snippet.plain(),
        snippet_html=hit.snippet.html(),
        url=hit.path,
    )


@router.get("/search", response_model=SearchAnswer)
def search(
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    q: Annotated[
        str,
        Query(
            max_length=1000,
            description='Words, "phrases", AND/OR/NOT, -word, and field:value filters '
            "(type, state, regime, lang, year, classification, symbol, title). Empty: "
            "everything you may see.",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    type: FacetValues = None,  # noqa: A002 - the facet's public name
    state: FacetValues = None,
    regime: FacetValues = None,
    language: FacetValues = None,
    year: FacetValues = None,
    classification: FacetValues = None,
) -> SearchAnswer:
    """Documents and declarations in one list, best first, within what you may see.

    Facet counts (type, state, regime, language, year, classification) cover every
    result you may see, not only this page; repeat a facet parameter to select several
    values.
    """
    chosen = {
        Facet.TYPE: type,
        Facet.STATE: state,
        Facet.REGIME: regime,
        Facet.LANGUAGE: language,
        Facet.YEAR: year,
        Facet.CLASSIFICATION: classification,
    }
    results = run_search(
        ctx,
        actor,
        q,
        limit=limit,
        offset=offset,
        selections={f: v for f, v in chosen.items() if v},
        client=client_of(request),
    )
    return SearchAnswer(
        query=q,
        total=results.total,
        offset=offset,
        limit=limit,
        results=[hit_answer(h) for h in results.hits],
        facets={
            facet.value: [FacetCount(value=v.value, count=v.count) for v in values]
            for facet, values in results.facets.items()
        },
    )


@router.get("/archive/documents/{document_id}", response_model=DocumentPublic)
def document(
    document_id: DocumentPath,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    purpose: PurposeQuery = None,
) -> DocumentPublic:
    """One archive document: metadata, extracted text and what was found in it."""
    return get_document(
        ctx, actor=actor, document_id=document_id, client=client_of(request), purpose=purpose
    )


@router.get(
    "/archive/documents/{document_id}/original",
    response_class=Response,
    responses={200: {"description": "The file as imported", "content": {"*/*": {}}}},
)
def original(
    document_id: DocumentPath,
    request: Request,
    ctx: CtxDep,
    actor: Reader,
    purpose: PurposeQuery = None,
) -> Response:
    """The file exactly as it was imported (its SHA-256 is in the document and the log)."""
    data, name, media_type = original_file(
        ctx, actor=actor, document_id=document_id, client=client_of(request), purpose=purpose
    )
    safe = "".join(c for c in name if c.isalnum() or c in "-_.")[:120] or "original"
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )


class JobAnswer(BaseModel):
    id: str
    kind: str
    state: str = Field(description="queued, running, done or failed")
    done: int
    total: int
    percent: int
    message: str
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    url: str


def job_answer(ctx: Context, actor: Actor, job_id: str) -> JobAnswer:
    view = get_job(ctx, actor=actor, job_id=job_id)
    return JobAnswer(
        id=view.id,
        kind=view.kind,
        state=view.state,
        done=view.done,
        total=view.total,
        percent=view.percent,
        message=view.message,
        result=view.result,
        error=view.error,
        created_at=view.created_at,
        finished_at=view.finished_at,
        url=f"/api/jobs/{view.id}",
    )


UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "PDF, PNG, JPEG, TIFF, DOCX, HTML, TXT, Markdown "
                            "or e-mail (.eml) files.",
                        },
                        "classification": {
                            "type": "string",
                            "enum": [c.value for c in Classification],
                        },
                        "state": {"type": "string", "description": "ISO 3166-1 code"},
                        "regime": {"type": "array", "items": {"type": "string"}},
                        "group_id": {"type": "string"},
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


@router.post(
    "/archive/documents", status_code=202, response_model=JobAnswer, openapi_extra=UPLOAD_DOC
)
async def upload(request: Request, ctx: CtxDep, actor: Importer) -> JSONResponse:
    """Queue files for import; follow the job at its `url` until it is done or failed.

    Files already in the archive (same SHA-256) are reported as duplicates, not added.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise InputError("send the files as multipart/form-data, in form fields named 'files'")
    form = await request.form(max_files=MAX_FILES, max_fields=20)
    files: list[tuple[str, bytes]] = []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile):
            raise InputError("the 'files' form field must carry files")
        files.append((upload.filename or "upload", await upload.read()))
    raw = str(form.get("classification") or Classification.RESTRICTED.value)
    try:
        level = Classification(raw)
    except ValueError:
        accepted = ", ".join(c.value for c in Classification)
        raise InputError(f"unknown classification {raw!r}; accepted: {accepted}") from None
    state = str(form.get("state") or "").strip() or None
    group = str(form.get("group_id") or "").strip() or None
    regimes = [str(r) for r in form.getlist("regime") if str(r).strip()]
    job_id = enqueue_import(
        ctx,
        actor=actor,
        files=files,
        classification=level,
        owner_state=state,
        regimes=regimes,
        group_id=group,
    )
    answer = job_answer(ctx, actor, job_id)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


@router.get("/jobs/{job_id}", response_model=JobAnswer)
def job(job_id: JobPath, ctx: CtxDep, actor: Importer) -> JobAnswer:
    """A background job you queued: its state, progress and, once done, its result."""
    return job_answer(ctx, actor, job_id)


class DocumentReclassify(BaseModel):
    classification: Classification
    reason: str = Field(min_length=1, max_length=1000)
    group_id: str | None = Field(default=None, max_length=64)


@router.put("/archive/documents/{document_id}/classification", status_code=204)
def reclassify(
    document_id: DocumentPath, body: DocumentReclassify, ctx: CtxDep, actor: Reclassifier
) -> Response:
    """Change a document's classification, with a reason (audited and logged)."""
    do_reclassify_document(
        ctx,
        actor=actor,
        document_id=document_id,
        classification=body.classification,
        reason=body.reason,
        group_id=body.group_id,
    )
    return Response(status_code=204)


__all__ = ["hit_answer", "router"]
