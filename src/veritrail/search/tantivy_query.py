"""Tantivy queries: query trees and a reader's visibility as queries on the index's fields.

The terms are encoded here for both sides: analysed tokens as indexed text and
as query terms, and the access tokens that visibility is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import tantivy
from tantivy import Occur

from veritrail.search.model import (
    And,
    Branch,
    Facet,
    Filter,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    TextField,
    YearRange,
)

TITLE_BOOST = 2.0
MAX_TOKEN_BYTES = 2046
_TANTIVY_SPACE = re.compile(r"[ \t\n\r\x0c]")
_UNSAFE = re.compile(r"[\t\n\r\x0c\x00]")
_SPACE_STAND_IN = "\ue001"
_NEVER = "\ue000"  # stands in for a token that must keep its position but never match
_REGEX_META = frozenset("\\.+*?()|[]{}^$#&-~")

FACET_FIELDS: dict[Facet, str] = {
    Facet.TYPE: "record_type",
    Facet.STATE: "states",
    Facet.REGIME: "regimes",
    Facet.LANGUAGE: "language",
    Facet.YEAR: "year",
    Facet.CLASSIFICATION: "classification",
}
FILTER_FIELDS: dict[str, str] = {str(f): name for f, name in FACET_FIELDS.items()} | {
    "symbol": "symbols"
}


# -- tokens -------------------------------------------------------------------------------


def _usable(token: str) -> bool:
    """Whether ``token`` can be indexed and matched (PostgreSQL has the same limits)."""
    return bool(token) and "\x00" not in token and len(token.encode()) <= MAX_TOKEN_BYTES


def _index_token(token: str) -> str:
    return _TANTIVY_SPACE.sub(_SPACE_STAND_IN, token) if _usable(token) else _NEVER


def _query_token(token: str) -> str | None:
    return _TANTIVY_SPACE.sub(_SPACE_STAND_IN, token) if _usable(token) else None


def indexed_text(tokens: Sequence[str]) -> str:
    """``tokens`` as a title or body field's text: one whitespace-split word per position."""
    text = " ".join(tokens)
    if (
        text.count(" ") == len(tokens) - 1
        and "" not in tokens
        and not _UNSAFE.search(text)
        and max(map(len, tokens), default=0) <= MAX_TOKEN_BYTES // 4
    ):
        return text  # the usual case: analysed tokens hold no whitespace
    return " ".join(map(_index_token, tokens))


def access_token(
    record_type: str, classification: str, owner: str | None = None, group: str | None = None
) -> str:
    """The access token of a record type, classification, owner state and group.

    A record holds one token per combination of its own values with and without
    owner and group, so that each branch of a reader's policy is a union of single
    terms, far cheaper to intersect with a query than a union of intersections.
    """
    parts = [record_type, classification]
    if owner is not None:
        parts += ["owner", owner]
    if group is not None:
        parts += ["group", group]
    return "\x1f".join(parts)


# -- queries ------------------------------------------------------------------------------


def boolean(clauses: list[tuple[Occur, tantivy.Query]]) -> tantivy.Query:
    """A boolean query of ``clauses``."""
    return tantivy.Query.boolean_query(clauses)


def _zero(query: tantivy.Query) -> tantivy.Query:
    """``query`` as a filter: it selects but adds nothing to the score."""
    return tantivy.Query.const_score_query(query, 0.0)


def _regex_alternatives(tokens: Sequence[str]) -> str:
    escaped = ("".join("\\" + c if c in _REGEX_META else c for c in t) for t in tokens)
    return "(?:" + "|".join(escaped) + ")"


def _year_values(values: Iterable[str]) -> list[int]:
    """The decimal years among ``values``; anything else matches no record."""
    return [int(v) for v in values if v.isascii() and v.isdigit()]


class Compiler:
    """Query trees and visibility branches as queries on an index of ``schema``."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self.all = _zero(tantivy.Query.all_query())

    def compile(self, node: Node) -> tantivy.Query:
        match node:
            case Term(alternatives, field):
                return self._text(field, [alternatives])
            case Phrase(positions, field):
                return self._text(field, positions)
            case Filter(field, values):
                return self._filter(str(field), values)
            case YearRange(start, end):
                if start > end:
                    return tantivy.Query.empty_query()
                return _zero(
                    tantivy.Query.range_query(
                        self.schema, "year", tantivy.FieldType.Integer, start, end
                    )
                )
            case And(items):
                clauses = [
                    (Occur.MustNot, self.compile(i.item))
                    if isinstance(i, Not)
                    else (Occur.Must, self.compile(i))
                    for i in items
                ]
                if all(occur == Occur.MustNot for occur, _ in clauses):
                    clauses.append((Occur.Must, self.all))
                return boolean(clauses)
            case Or(items):
                if not items:
                    return tantivy.Query.empty_query()
                return boolean([(Occur.Should, self.compile(i)) for i in items])
            case Not(item):
                return boolean([(Occur.Must, self.all), (Occur.MustNot, self.compile(item))])
            case MatchAll():
                return self.all
        raise TypeError(f"not a search query node: {node!r}")

    def scoring(self, node: Node) -> tantivy.Query | None:
        """The records ``node`` matches with a score above 0; None when it scores none.

        A matching text leaf always adds to the score; filters, Not and MatchAll add
        nothing. A leaf adds only where every And above it matches too.
        """
        match node:
            case Term() | Phrase():
                return self.compile(node)
            case And(items) | Or(items):
                scoring = [q for item in items if (q := self.scoring(item)) is not None]
                if not scoring:
                    return None
                some = boolean([(Occur.Should, q) for q in scoring])
                if isinstance(node, Or):
                    return some
                return boolean([(Occur.Must, self.compile(node)), (Occur.Must, some)])
        return None

    def _text(self, field: TextField, positions: Sequence[Sequence[str]]) -> tantivy.Query:
        words: list[list[str]] = []
        for alternatives in positions:
            usable_ = [t for t in map(_query_token, alternatives) if t is not None]
            if not usable_:
                return tantivy.Query.empty_query()
            words.append(list(dict.fromkeys(usable_)))
        if not words:
            return tantivy.Query.empty_query()
        title = tantivy.Query.boost_query(self._field_text("title", words), TITLE_BOOST)
        if field == TextField.TITLE:
            return title
        return boolean([(Occur.Should, self._field_text("body", words)), (Occur.Should, title)])

    def _field_text(self, name: str, words: list[list[str]]) -> tantivy.Query:
        if len(words) == 1:
            terms = [tantivy.Query.term_query(self.schema, name, t) for t in words[0]]
            return terms[0] if len(terms) == 1 else boolean([(Occur.Should, t) for t in terms])
        if all(len(w) == 1 for w in words):
            return tantivy.Query.phrase_query(self.schema, name, [w[0] for w in words])
        regexes: list[str | tuple[int, str]] = [_regex_alternatives(w) for w in words]
        return tantivy.Query.regex_phrase_query(self.schema, name, regexes)

    def _filter(self, field: str, values: Sequence[str]) -> tantivy.Query:
        name = FILTER_FIELDS.get(field)
        if name is None:
            raise ValueError(f"unknown filter field {field!r}; known: {sorted(FILTER_FIELDS)}")
        wanted: list[Any] = _year_values(values) if name == "year" else list(values)
        if not wanted:
            return tantivy.Query.empty_query()
        return _zero(tantivy.Query.term_set_query(self.schema, name, wanted))

    def visibility(self, branches: Sequence[Branch]) -> tantivy.Query | None:
        """What the reader may see, as a filter; None when nothing is visible."""
        alternatives: list[tuple[Occur, tantivy.Query]] = []
        for b in branches:
            groups: Sequence[str | None] = (None,) if b.groups is None else b.groups
            tokens = [
                access_token(str(b.record_type), c, b.owner_state, g)
                for c in b.classifications
                for g in groups
            ]
            if not tokens:
                continue
            terms = [tantivy.Query.term_query(self.schema, "access", t) for t in tokens]
            if b.not_owner_state is None:
                alternatives += [(Occur.Should, t) for t in terms]
                continue
            other = tantivy.Query.term_query(self.schema, "owner_state", b.not_owner_state)
            some = boolean([(Occur.Should, t) for t in terms])
            # A record with no owner state is nobody's own, so it passes.
            alternatives.append(
                (Occur.Should, boolean([(Occur.Must, some), (Occur.MustNot, other)]))
            )
        return _zero(boolean(alternatives)) if alternatives else None


__all__ = [
    "FACET_FIELDS",
    "FILTER_FIELDS",
    "MAX_TOKEN_BYTES",
    "TITLE_BOOST",
    "Compiler",
    "access_token",
    "boolean",
    "indexed_text",
]
