"""The search page: one box over archive documents and declarations, with facets.

Facet selections travel as repeatable GET parameters named after the facets
(``?q=…&type=document&state=FRA``), so every state of the page is a link that
can be bookmarked and shared. A query that does not parse is shown next to the
box with the fault marked, on the same page, answered with 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access import Actor
from veritrail.access.policy import Action, can
from veritrail.actions import Context
from veritrail.api.deps import CtxDep
from veritrail.errors import QuerySyntaxError
from veritrail.i18n import LANGUAGES, Translator, translator
from veritrail.search.model import Facet, FacetValue, RecordType
from veritrail.search.service import MAX_OFFSET, Found, Results, search
from veritrail.web.common import (
    CLASSIFICATION_LABELS,
    N_,
    client_of,
    lang,
    page,
    regime_title,
    state_name,
)
from veritrail.web.deps import web_requires

router = APIRouter()

WebArchiveReader = Annotated[Actor, Depends(web_requires(Action.ARCHIVE_READ))]

PAGE_SIZE = 10
LAST_PAGE = MAX_OFFSET // PAGE_SIZE + 1
MAX_SELECTED = 20  # values per facet
MAX_VALUE = 100  # characters of one facet value
FACET_SHOWN = 8  # values of a facet listed before "show more"

FACET_TITLES: dict[Facet, str] = {
    Facet.TYPE: N_("Type"),
    Facet.STATE: N_("State"),
    Facet.REGIME: N_("Regime"),
    Facet.LANGUAGE: N_("Language"),
    Facet.YEAR: N_("Year"),
    Facet.CLASSIFICATION: N_("Classification"),
}
TYPE_LABELS: dict[str, str] = {
    RecordType.DOCUMENT.value: N_("Document"),
    RecordType.DECLARATION.value: N_("Declaration"),
}
UNDETERMINED = N_("Undetermined")


def language_name(code: str, t: Translator) -> str:
    """A text's language by its own name (中文, English…), or "undetermined"."""
    return LANGUAGES.get(code) or (t.gettext(UNDETERMINED) if code in ("", "und") else code)


@dataclass(frozen=True, slots=True)
class Labels:
    """Facet values as a reader reads them, in the reader's language."""

    ctx: Context
    language: str

    def __call__(self, facet: Facet, value: str) -> str:
        t = translator(self.language)
        if facet is Facet.TYPE:
            return t.gettext(TYPE_LABELS.get(value, value))
        if facet is Facet.STATE:
            return state_name(value, self.language)
        if facet is Facet.REGIME:
            return regime_title(self.ctx, value, self.language)
        if facet is Facet.LANGUAGE:
            return language_name(value, t)
        if facet is Facet.CLASSIFICATION:
            return t.gettext(CLASSIFICATION_LABELS.get(value, value))
        return value


def selections_of(request: Request) -> dict[Facet, list[str]]:
    """The facet values chosen in the query string, in the order given, without repeats."""
    chosen: dict[Facet, list[str]] = {}
    for facet in Facet:
        values = [
            v.strip()[:MAX_VALUE] for v in request.query_params.getlist(facet.value) if v.strip()
        ]
        if values:
            chosen[facet] = list(dict.fromkeys(values))[:MAX_SELECTED]
    return chosen


def search_url(q: str, selections: Mapping[Facet, Sequence[str]], number: int = 1) -> str:
    """The search page for ``q`` with these selections, at page ``number``."""
    pairs = [("q", q)] + [(f.value, v) for f, values in selections.items() for v in values]
    if number > 1:
        pairs.append(("page", str(number)))
    return "/search?" + urlencode(pairs)


def _toggled(
    selections: Mapping[Facet, Sequence[str]], facet: Facet, value: str
) -> dict[Facet, list[str]]:
    out = {f: list(v) for f, v in selections.items()}
    values = out.setdefault(facet, [])
    if value in values:
        values.remove(value)
    else:
        values.append(value)
    return {f: v for f, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class FacetOption:
    value: str
    label: str
    count: int | None  # None: selected, though nothing in the results has it any more
    selected: bool
    href: str  # adds the value, or removes it when selected


@dataclass(slots=True)
class FacetGroup:
    facet: Facet
    title: str
    options: list[FacetOption] = field(default_factory=list)


def facet_groups(
    q: str,
    selections: Mapping[Facet, Sequence[str]],
    counts: Mapping[Facet, Sequence[FacetValue]],
    label: Labels,
) -> list[FacetGroup]:
    """Every facet with its values and counts; the selected values first, always shown."""
    t = translator(label.language)
    groups = []
    for facet in Facet:
        chosen = list(selections.get(facet, ()))
        counted = {v.value: v.count for v in counts.get(facet, ())}
        rest = [v for v in counted if v not in chosen]
        if facet is Facet.YEAR:
            rest.sort(reverse=True)
        group = FacetGroup(facet, t.gettext(FACET_TITLES[facet]))
        for value in chosen + rest:
            group.options.append(
                FacetOption(
                    value=value,
                    label=label(facet, value),
                    count=counted.get(value),
                    selected=value in chosen,
                    href=search_url(q, _toggled(selections, facet, value)),
                )
            )
        if group.options:
            groups.append(group)
    return groups


@dataclass(frozen=True, slots=True)
class Shown:
    """One result as the page lists it."""

    hit: Found
    href: str
    type_label: str
    language_label: str


def shown_hits(results: Results, q: str, language: str) -> list[Shown]:
    t = translator(language)
    out = []
    for hit in results.hits:
        href = hit.path
        if hit.record_type is RecordType.DOCUMENT and q.strip():
            href += "?" + urlencode({"q": q})  # the document view highlights the same words
        out.append(
            Shown(
                hit=hit,
                href=href,
                type_label=t.gettext(TYPE_LABELS.get(hit.record_type.value, hit.record_type)),
                language_label=language_name(hit.language, t),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class QueryFault:
    """Where a query does not parse: the text before, at and after the fault."""

    message: str
    position: int  # 1-based, for people
    before: str
    at: str
    after: str


def query_fault(q: str, exc: QuerySyntaxError) -> QueryFault:
    at = max(0, min(exc.position, len(q)))
    return QueryFault(exc.message, at + 1, q[:at], q[at : at + 1], q[at + 1 :])


@router.get("/search", include_in_schema=False)
def search_page(
    request: Request,
    ctx: CtxDep,
    actor: WebArchiveReader,
    q: Annotated[str, Query(max_length=1000)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=LAST_PAGE)] = 1,
) -> Response:
    """Results best first, facet counts over everything found, ten to a page."""
    language = lang(request)
    selections = selections_of(request)
    label = Labels(ctx, language)
    context = {
        "q": q,
        "selections": selections,
        "may_import": can(actor, Action.ARCHIVE_IMPORT),
        "fault": None,
        "results": None,
        "hits": [],
        "facets": [],
        "chips": [
            {
                "title": translator(language).gettext(FACET_TITLES[f]),
                "label": label(f, v),
                "href": search_url(q, _toggled(selections, f, v)),
            }
            for f, values in selections.items()
            for v in values
        ],
        "facet_shown": FACET_SHOWN,
        "number": number,
    }
    try:
        results = search(
            ctx,
            actor,
            q,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
            selections=selections,
            client=client_of(request),
        )
    except QuerySyntaxError as exc:
        context["fault"] = query_fault(q, exc)
        return page(request, "search.html", context, actor=actor, status_code=exc.status)
    pages = max(1, min(LAST_PAGE, -(-results.total // PAGE_SIZE)))
    if number > pages:  # past the end (results went away, or a hand-made address)
        return RedirectResponse(search_url(q, selections, pages), status_code=303)
    context.update(
        results=results,
        hits=shown_hits(results, q, language),
        facets=facet_groups(q, selections, results.facets, label),
        first=results.offset + 1,
        last=results.offset + len(results.hits),
        previous=search_url(q, selections, number - 1) if number > 1 else None,
        next=search_url(q, selections, number + 1) if number < pages else None,
        pages=pages,
    )
    return page(request, "search.html", context, actor=actor)


__all__ = ["WebArchiveReader", "language_name", "router", "search_url"]
