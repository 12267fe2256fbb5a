"""Searching as a reader: the query parsed, the policy inside it, snippets cut.

One entry point for the API, the web pages and the CLI. Snippets of protected
and highly protected records show their content, so each such hit shown goes to
the access log, like any other read of that material.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from veritrail.access import Actor
from veritrail.errors import InputError
from veritrail.regimes.model import Classification
from veritrail.search.indexer import provider, sync_quietly
from veritrail.search.model import (
    And,
    Facet,
    FacetValue,
    Filter,
    Node,
    RecordType,
    SearchRequest,
)
from veritrail.search.query import parse
from veritrail.search.snippets import Snippet, snippet
from veritrail.search.visibility import visibility
from veritrail.store.access_log import record_access
from veritrail.store.context import Context

MAX_LIMIT = 100
MAX_OFFSET = 10_000
_LOGGED = frozenset({Classification.PROTECTED.value, Classification.HIGHLY_PROTECTED.value})


@dataclass(frozen=True, slots=True)
class Found:
    """One result as a reader sees it."""

    record_type: RecordType
    record_id: str
    title: str
    language: str
    classification: str
    owner_state: str | None
    source_name: str | None
    year: int | None
    score: float
    snippet: Snippet

    @property
    def path(self) -> str:
        """Where the record is shown in the web interface."""
        if self.record_type is RecordType.DOCUMENT:
            return f"/archive/{self.record_id}"
        return f"/declarations/{self.record_id}"


@dataclass(frozen=True, slots=True)
class Results:
    query: str
    node: Node
    total: int
    hits: list[Found]
    facets: dict[Facet, list[FacetValue]]
    limit: int
    offset: int


def _with_selections(node: Node, selections: Mapping[Facet, Sequence[str]]) -> Node:
    chosen = [Filter(facet, tuple(values)) for facet, values in selections.items() if values]
    return And((node, *chosen)) if chosen else node


def catch_up(ctx: Context) -> None:
    """Apply the changes not yet in the index (building it the first time), so a reader
    finds what was just written and no longer finds what was just reclassified.

    When another process holds the index's writer, that process applies them.
    """
    sync_quietly(ctx)


def search(
    ctx: Context,
    actor: Actor,
    text: str,
    *,
    limit: int = 10,
    offset: int = 0,
    selections: Mapping[Facet, Sequence[str]] | None = None,
    facets: Sequence[Facet] = tuple(Facet),
    client: str | None = None,
) -> Results:
    """The records matching ``text`` that ``actor`` may see, best first, with facet counts."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InputError(f"offset must be between 0 and {MAX_OFFSET}, not {offset}")
    node = parse(text)
    catch_up(ctx)
    result = provider(ctx).search(
        SearchRequest(
            query=_with_selections(node, selections or {}),
            visibility=visibility(actor),
            facets=tuple(facets),
            limit=limit,
            offset=offset,
        )
    )
    hits = [
        Found(
            record_type=hit.record_type,
            record_id=hit.record_id,
            title=hit.title,
            language=hit.language,
            classification=hit.classification,
            owner_state=hit.owner_state,
            source_name=hit.source_name,
            year=hit.year,
            score=hit.score,
            snippet=snippet(hit.text, node, hit.language),
        )
        for hit in result.hits
    ]
    shown = [h for h in hits if h.classification in _LOGGED]
    if shown:
        with ctx.sessions() as session, session.begin():
            for hit in shown:
                record_access(
                    session,
                    actor=actor.username,
                    action="search",
                    record_type=hit.record_type.value,
                    record_id=hit.record_id,
                    classification=hit.classification,
                    client=client,
                    purpose=f"search result for {text[:200]!r}",
                )
    return Results(
        query=text,
        node=node,
        total=result.total,
        hits=hits,
        facets=result.facets,
        limit=limit,
        offset=offset,
    )


__all__ = ["MAX_LIMIT", "Found", "Results", "catch_up", "search"]
