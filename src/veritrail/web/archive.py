"""Archive pages: one document with its text and mentions, uploads, and upload jobs.

An upload queues one job; its page shows a progress bar that htmx refreshes
every second from ``/jobs/{id}/progress`` until the job is done, then lists
what became of each file. A document the reader may not see answers the
ordinary "not found" page, exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions import Context
from veritrail.actions.archive_jobs import MAX_FILES, enqueue_import
from veritrail.api.archive import original as original_response
from veritrail.api.deps import CtxDep
from veritrail.errors import Forbidden, InputError, NotFound, QuerySyntaxError, TooLarge
from veritrail.i18n import Translator, translator
from veritrail.jobs.queue import JobView
from veritrail.queries.archive import DocumentPublic, get_document, get_job
from veritrail.reference import states
from veritrail.regimes.model import Classification
from veritrail.search.query import parse
from veritrail.search.snippets import highlight
from veritrail.web.common import (
    N_,
    client_of,
    lang,
    page,
    partial,
    regime_title,
    state_name,
    state_options,
)
from veritrail.web.deps import web_requires
from veritrail.web.search import WebArchiveReader, language_name
from veritrail.web.security import check_csrf

router = APIRouter()

WebImporter = Annotated[Actor, Depends(web_requires(Action.ARCHIVE_IMPORT))]
DocumentId = Annotated[str, Path(max_length=64)]
JobId = Annotated[str, Path(max_length=64)]

# Highlighting walks the whole text; past this many characters the rest is shown plain.
HIGHLIGHT_CHARS = 200_000

JOB_STATES: dict[str, str] = {
    "queued": N_("Waiting"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
}
OUTCOMES: dict[str, str] = {
    "imported": N_("Imported"),
    "duplicate": N_("Already in the archive"),
    "refused": N_("Refused"),
}


# -- one document -------------------------------------------------------------------------


@dataclass
class Mention:
    """One thing found in the text, as the page lists it."""

    text: str
    href: str | None = None
    detail: str = ""


@dataclass
class MentionGroup:
    key: str
    title: str
    items: list[Mention] = field(default_factory=list)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _resolution(found: dict[str, Any]) -> str:
    """``S/RES/1540 (2004)``, ``A/RES/59/60``, or the number and year as the text gave them."""
    body, number = found.get("body"), found.get("number")
    year, session = found.get("year"), found.get("session")
    if body == "A" and session:
        return f"A/RES/{session}/{number}"
    prefix = "S/RES/" if body == "S" else ""
    return f"{prefix}{number} ({year})" if year else f"{prefix}{number}"


def _chemical(found: dict[str, Any], t: Translator) -> Mention:
    cas, name, schedule = found.get("cas"), found.get("name"), found.get("schedule")
    details = [f"CAS {cas}"] if cas else []
    if schedule:
        details.append(t.gettext(N_("Schedule %(schedule)s")) % {"schedule": schedule})
    return Mention(str(name or cas or ""), detail=" · ".join(details))


def mention_groups(mentions: dict[str, Any], language: str) -> list[MentionGroup]:
    """What the archive found in the text (``archive.mentions``, stored as JSON): symbols,
    each a search link, resolutions, dates, states by name, and chemicals."""
    t = translator(language)
    states_found = [
        Mention(state_name(code, language), detail=code)
        for code in _strings(mentions.get("states"))
    ]
    groups = [
        MentionGroup(
            "symbols",
            t.gettext(N_("UN document symbols")),
            [
                Mention(symbol, href="/search?" + urlencode({"q": f"symbol:{symbol}"}))
                for symbol in _strings(mentions.get("symbols"))
            ],
        ),
        MentionGroup(
            "resolutions",
            t.gettext(N_("Resolutions")),
            [
                Mention(_resolution(r))
                for r in _objects(mentions.get("resolutions"))
                if r.get("number") is not None
            ],
        ),
        MentionGroup(
            "dates", t.gettext(N_("Dates")), [Mention(d) for d in _strings(mentions.get("dates"))]
        ),
        MentionGroup(
            "states",
            t.gettext(N_("States")),
            sorted(states_found, key=lambda m: m.text.casefold()),
        ),
        MentionGroup(
            "chemicals",
            t.gettext(N_("Chemicals")),
            [_chemical(c, t) for c in _objects(mentions.get("chemicals"))],
        ),
    ]
    return [g for g in groups if g.items]


@dataclass(frozen=True, slots=True)
class PageRun:
    """Consecutive pages in one language."""

    first: int
    last: int
    language: str


def page_runs(page_languages: list[Any], language: str) -> list[PageRun]:
    """Per-page languages of a mixed document, consecutive pages of a language together."""
    t = translator(language)
    runs: list[PageRun] = []
    for item in page_languages:
        if not isinstance(item, list | tuple) or len(item) != 2:
            continue
        number, code = int(item[0]), str(item[1])
        name = language_name(code, t)
        if runs and runs[-1].language == name and runs[-1].last == number - 1:
            runs[-1] = PageRun(runs[-1].first, number, name)
        else:
            runs.append(PageRun(number, number, name))
    return runs


def text_segments(
    doc: DocumentPublic, q: str
) -> tuple[tuple[tuple[str, bool], ...], str | None, bool]:
    """The text cut into (text, highlighted) runs for ``q``, the query's fault, and whether
    the text was longer than what was highlighted."""
    text = doc.text or ""
    if not q.strip():
        return ((text, False),), None, False
    try:
        node = parse(q)
    except QuerySyntaxError as exc:
        return ((text, False),), exc.message, False
    head, rest = text[:HIGHLIGHT_CHARS], text[HIGHLIGHT_CHARS:]
    segments = highlight(head, node, doc.language)
    return (segments + ((rest, False),) if rest else segments), None, bool(rest)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


@router.get("/archive/upload", include_in_schema=False)
def upload_form(request: Request, ctx: CtxDep, actor: WebImporter) -> Response:
    return _upload_page(request, ctx, actor)


@router.get("/archive/{document_id}", include_in_schema=False)
def document(
    request: Request,
    document_id: DocumentId,
    ctx: CtxDep,
    actor: WebArchiveReader,
    q: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    """The document's metadata, what was found in it, and its text with ``q`` highlighted."""
    language = lang(request)
    doc = get_document(ctx, actor=actor, document_id=document_id, client=client_of(request))
    segments, fault, capped = text_segments(doc, q)
    t = translator(language)
    return page(
        request,
        "archive_document.html",
        {
            "doc": doc,
            "q": q,
            "segments": segments,
            "highlighted": any(hit for _part, hit in segments),
            "fault": fault,
            "capped": capped,
            "highlight_chars": HIGHLIGHT_CHARS,
            "size": _size(doc.size),
            "doc_languages": [language_name(code, t) for code in doc.languages or [doc.language]],
            "page_runs": page_runs(doc.page_languages, language),
            "owner": state_name(doc.owner_state, language) if doc.owner_state else None,
            "regimes": [regime_title(ctx, r, language) for r in doc.regimes],
            "mentions": mention_groups(doc.mentions, language),
        },
        actor=actor,
    )


@router.get("/archive/{document_id}/original", include_in_schema=False)
def original(
    request: Request, document_id: DocumentId, ctx: CtxDep, actor: WebArchiveReader
) -> Response:
    """The file exactly as it was imported, as a download."""
    return original_response(document_id, request, ctx, actor)


# -- uploads and their jobs ---------------------------------------------------------------


@dataclass
class Choice:
    """What the upload form was sent with, to show it again with an error."""

    classification: str = Classification.RESTRICTED.value
    state: str = ""
    regimes: list[str] = field(default_factory=list)
    group_id: str = ""


def _upload_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    error: str | None = None,
    chosen: Choice | None = None,
    status_code: int = 200,
) -> Response:
    language = lang(request)
    return page(
        request,
        "archive_upload.html",
        {
            "classifications": [c.value for c in Classification],
            "states": state_options(language),
            "regimes": [
                (pack.regime.id, pack.regime.short_name.get(language))
                for pack in ctx.registry.packs.values()
            ],
            "groups": sorted(actor.groups),
            "chosen": chosen or Choice(),
            "max_files": MAX_FILES,
            "max_size": _size(ctx.settings.max_archive_bytes),
            "error": error,
            "lang_next": "/archive/upload",
        },
        actor=actor,
        status_code=status_code,
    )


@router.post("/archive/upload", include_in_schema=False)
async def upload(request: Request, ctx: CtxDep, actor: WebImporter) -> Response:
    """Queue the files chosen for import and follow the job on its page."""
    async with request.form(max_files=MAX_FILES, max_fields=20 + len(ctx.registry.packs)) as form:
        check_csrf(request, str(form.get("csrf") or ""))
        chosen = Choice(
            classification=str(form.get("classification") or Choice.classification),
            state=str(form.get("state") or "").strip(),
            regimes=[str(r) for r in form.getlist("regime") if str(r).strip()],
            group_id=str(form.get("group_id") or "").strip(),
        )
        files = [
            (item.filename or "upload", await item.read())
            for item in form.getlist("files")
            if isinstance(item, UploadFile) and item.filename
        ]
    try:
        try:
            level = Classification(chosen.classification)
        except ValueError:
            raise InputError(N_("Choose a classification from the list.")) from None
        state = chosen.state or None
        if state is not None:
            found = states.lookup(state)
            if found is None:
                raise InputError(N_("Choose a state from the list, or none."))
            state = found.alpha3
        job_id = enqueue_import(
            ctx,
            actor=actor,
            files=files,
            classification=level,
            owner_state=state,
            regimes=chosen.regimes,
            group_id=chosen.group_id or None,
        )
    except (InputError, TooLarge, Forbidden, NotFound) as exc:
        return _upload_page(
            request, ctx, actor, error=exc.message, chosen=chosen, status_code=exc.status
        )
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one uploaded file."""

    file: str
    status: str
    label: str
    id: str | None
    title: str | None
    detail: str


def outcomes(job: JobView, language: str) -> list[Outcome]:
    t = translator(language)
    out = []
    for item in (job.result or {}).get("files", []):
        status = str(item.get("status", ""))
        if status == "refused":
            detail = str(item.get("error") or "")
        else:
            pages = item.get("pages")
            detail = " · ".join(
                part
                for part in (
                    language_name(str(item.get("language") or "und"), t),
                    t.gettext(N_("Pages: %(pages)s")) % {"pages": pages} if pages else "",
                )
                if part
            )
        out.append(
            Outcome(
                file=str(item.get("file", "")),
                status=status,
                label=t.gettext(OUTCOMES.get(status, status)),
                id=str(item["id"]) if item.get("id") else None,
                title=str(item["title"]) if item.get("title") else None,
                detail=detail,
            )
        )
    return out


def _job_context(job: JobView, language: str) -> dict[str, Any]:
    result = job.result or {}
    return {
        "job": job,
        "state_label": translator(language).gettext(JOB_STATES.get(job.state, job.state)),
        "outcomes": outcomes(job, language),
        "counts": {k: int(result.get(k) or 0) for k in ("imported", "duplicate", "refused")},
    }


@router.get("/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, job_id: JobId, ctx: CtxDep, actor: WebImporter) -> Response:
    """An upload's progress, refreshed every second until it ends, then its outcomes."""
    job = get_job(ctx, actor=actor, job_id=job_id)
    return page(request, "job.html", _job_context(job, lang(request)), actor=actor)


@router.get("/jobs/{job_id}/progress", include_in_schema=False)
def job_progress(request: Request, job_id: JobId, ctx: CtxDep, actor: WebImporter) -> Response:
    """The progress part of the job page, for htmx; it stops asking once the job ends."""
    job = get_job(ctx, actor=actor, job_id=job_id)
    return partial(request, "_job_progress.html", _job_context(job, lang(request)), actor=actor)


__all__ = ["router"]
