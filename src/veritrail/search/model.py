"""The shapes every search provider shares.

A provider indexes :class:`IndexDoc` values whose text has already been
analysed (``search.analyze``): it never tokenises anything itself, so Tantivy
and PostgreSQL index exactly the same terms. A query reaches a provider as an
analysed tree (:data:`Node`) plus the reader's :class:`Visibility`, which the
provider must apply inside the query it runs, so that totals, facets and hits
only ever count what the reader may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class RecordType(StrEnum):
    DOCUMENT = "document"
    DECLARATION = "declaration"


class Facet(StrEnum):
    """Fields results can be counted by, and filtered on (``type:document``)."""

    TYPE = "type"
    STATE = "state"
    REGIME = "regime"
    LANGUAGE = "language"
    YEAR = "year"
    CLASSIFICATION = "classification"


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """One record as the index holds it."""

    key: str  # "<record_type>:<record_id>", unique in the index
    record_type: RecordType
    record_id: str
    title: str
    text: str  # plain text as extracted; snippets are cut from it
    title_tokens: tuple[str, ...]  # analysed; a token's position is its index
    body_tokens: tuple[str, ...]
    language: str  # ar, en, es, fr, ru, zh, or "und" when unknown
    classification: str  # public, restricted, protected, highly_protected
    owner_state: str | None  # ISO 3166-1 alpha-3; None for the secretariat's own records
    group_id: str | None  # need-to-know group of highly protected records
    updated_at: datetime
    states: tuple[str, ...] = ()  # alpha-3 codes of the states the record concerns (facet)
    regimes: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()  # UN document symbols, upper case, no spaces: "S/2020/1197"
    year: int | None = None
    source_name: str | None = None  # the imported file's name


# -- analysed queries ---------------------------------------------------------------------


class TextField(StrEnum):
    ANY = "any"  # body or title (title matches rank higher)
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class Term:
    """Any one of ``alternatives`` (analysed tokens of one query word)."""

    alternatives: tuple[str, ...]
    field: TextField = TextField.ANY


@dataclass(frozen=True, slots=True)
class Phrase:
    """Tokens at consecutive positions; each position may match any of its alternatives."""

    positions: tuple[tuple[str, ...], ...]
    field: TextField = TextField.ANY


@dataclass(frozen=True, slots=True)
class Filter:
    """An exact match on a facet field (any of ``values``), or on ``symbol``."""

    field: Facet | str  # a Facet, or "symbol"
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class YearRange:
    start: int
    end: int  # inclusive


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class MatchAll:
    pass


Node = Term | Phrase | Filter | YearRange | And | Or | Not | MatchAll


# -- who may see what ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Branch:
    """One alternative of the access policy, for one record type.

    A record is visible through this branch when its type is ``record_type``, its
    classification is one of ``classifications``, and, where given, its owner is
    ``owner_state`` / is not ``not_owner_state`` (a record with no owner state is
    not anyone's own), and its need-to-know group is one of ``groups``.
    """

    record_type: RecordType
    classifications: tuple[str, ...]
    owner_state: str | None = None
    not_owner_state: str | None = None
    groups: tuple[str, ...] | None = None


# A record is visible when any branch admits it; no branches: nothing is visible.
Visibility = tuple[Branch, ...]


# -- requests and results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: Node
    visibility: Visibility
    facets: tuple[Facet, ...] = ()
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    record_type: RecordType
    record_id: str
    title: str
    score: float
    language: str
    classification: str
    owner_state: str | None
    source_name: str | None
    year: int | None
    text: str  # for the snippet


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int


@dataclass(slots=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[Facet, list[FacetValue]] = field(default_factory=dict)


class IndexWriter(Protocol):
    """Changes to one index, visible to searches once committed."""

    def upsert(self, docs: Iterable[IndexDoc]) -> int: ...

    def delete(self, keys: Iterable[str]) -> int: ...

    def commit(self, watermark: int) -> None:
        """Make the changes visible and remember ``watermark`` (the outbox position applied)."""


class SearchProvider(Protocol):
    """A search backend. Implementations: ``TantivyProvider``, ``PostgresProvider``."""

    name: str

    def search(self, request: SearchRequest) -> SearchResult: ...

    def watermark(self) -> int:
        """The outbox position the current index has applied (0 when empty)."""

    def count(self) -> int: ...

    def writer(self) -> AbstractContextManager[IndexWriter]:
        """The index's one writer; :class:`veritrail.errors.IndexBusy` when another holds it."""

    def rebuild(self, docs: Iterator[IndexDoc], watermark: int) -> int:
        """Build a complete new index from ``docs`` and swap it in; searches go on meanwhile."""


__all__ = [
    "And",
    "Branch",
    "Facet",
    "FacetValue",
    "Filter",
    "Hit",
    "IndexDoc",
    "IndexWriter",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "RecordType",
    "SearchProvider",
    "SearchRequest",
    "SearchResult",
    "Term",
    "TextField",
    "Visibility",
    "YearRange",
]
