"""PostgreSQL queries: query trees and a reader's visibility as a WHERE clause and tsqueries.

Tokens are quoted here for both sides: as lexemes of the records' tsvectors and
of the tsqueries matched against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from veritrail.search.model import (
    And,
    Branch,
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

MAX_TOKEN_BYTES = 2046
_FILTERS = {
    "type": ("record_type", "text"),
    "language": ("language", "text"),
    "classification": ("classification", "text"),
    "state": ("states", "array"),
    "regime": ("regimes", "array"),
    "symbol": ("symbols", "array"),
    "year": ("year", "year"),
}


# -- tokens -------------------------------------------------------------------------------


def indexable(token: str) -> bool:
    """Whether ``token`` can be indexed and matched within PostgreSQL's limits."""
    return bool(token) and "\x00" not in token and len(token.encode()) <= MAX_TOKEN_BYTES


def lexeme(token: str) -> str:
    """``token`` quoted for a tsvector or tsquery literal."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# -- queries ------------------------------------------------------------------------------


def _is_text(node: Node) -> bool:
    match node:
        case Term() | Phrase():
            return True
        case And(items) | Or(items):
            return bool(items) and all(_is_text(i) for i in items)
        case Not(item):
            return _is_text(item)
    return False


# A text tree as a tsquery, or as True (matches every record) / False (matches none)
# where a tsquery cannot say it: a term none of whose tokens can be indexed, or its negation.
TsQuery = str | bool


def _alternatives(tokens: Sequence[str], field: TextField) -> TsQuery:
    weight = ":A" if field == TextField.TITLE else ""
    usable = [lexeme(t) + weight for t in dict.fromkeys(tokens) if indexable(t)]
    return "(" + " | ".join(usable) + ")" if usable else False


def _joined(found: Sequence[TsQuery], joiner: str, absorbing: bool) -> TsQuery:
    """``found`` joined by & (absorbing False) or | (absorbing True)."""
    if absorbing in found:
        return absorbing
    kept = [f for f in found if isinstance(f, str)]
    return "(" + joiner.join(kept) + ")" if kept else not absorbing


def _tsquery(node: Node) -> TsQuery:
    """The tsquery of a tree of Term, Phrase, And, Or and Not."""
    match node:
        case Term(alternatives, field):
            return _alternatives(alternatives, field)
        case Phrase(positions, field):
            parts = [_alternatives(p, field) for p in positions]
            if not parts or False in parts:
                return False
            return "(" + " <-> ".join(str(p) for p in parts) + ")"
        case And(items):
            return _joined([_tsquery(i) for i in items], " & ", False)
        case Or(items):
            return _joined([_tsquery(i) for i in items], " | ", True)
        case Not(item):
            inner = _tsquery(item)
            return "(!" + inner + ")" if isinstance(inner, str) else not inner
    raise TypeError(f"not a text query: {node!r}")


def positive_text(node: Node) -> list[str]:
    """The tsqueries of the text leaves outside any Not: what the rank is computed from."""
    match node:
        case Term() | Phrase():
            found = _tsquery(node)
            return [found] if isinstance(found, str) else []
        case And(items) | Or(items):
            return [q for item in items for q in positive_text(item)]
    return []


class Sql:
    """A query tree as a WHERE clause with bound parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def ts_match(self, found: TsQuery) -> str:
        if isinstance(found, bool):
            return "TRUE" if found else "FALSE"
        return f"doc @@ CAST({self.bind(found)} AS tsquery)"

    def where(self, node: Node) -> str:
        if _is_text(node):
            return self.ts_match(_tsquery(node))
        match node:
            case Filter(field, values):
                return self._filter(str(field), values)
            case YearRange(start, end):
                return (
                    f"(year IS NOT NULL AND year BETWEEN {self.bind(start)} AND {self.bind(end)})"
                )
            case And(items):
                return self._combine(items, " AND ", " & ", False)
            case Or(items):
                return self._combine(items, " OR ", " | ", True)
            case Not(item):
                return f"NOT ({self.where(item)})"
            case MatchAll():
                return "TRUE"
        raise TypeError(f"not a search query node: {node!r}")

    def _combine(self, items: Sequence[Node], joiner: str, ts_joiner: str, absorbing: bool) -> str:
        """Join ``items``, asking the tsvector index once for all their text parts."""
        texts = _joined([_tsquery(i) for i in items if _is_text(i)], ts_joiner, absorbing)
        if texts is absorbing:
            return self.ts_match(absorbing)
        others = [self.where(i) for i in items if not _is_text(i)]
        if isinstance(texts, str):
            others.insert(0, self.ts_match(texts))
        return "(" + joiner.join(others) + ")" if others else self.ts_match(not absorbing)

    def _filter(self, field: str, values: Sequence[str]) -> str:
        if field not in _FILTERS:
            raise ValueError(f"unknown filter field {field!r}; known: {sorted(_FILTERS)}")
        column, kind = _FILTERS[field]
        if kind == "year":
            years = [int(v) for v in values if v.isascii() and v.isdigit()]
            if not years:
                return "FALSE"
            return f"(year IS NOT NULL AND year = ANY(CAST({self.bind(years)} AS integer[])))"
        if not values:
            return "FALSE"
        wanted = self.bind(list(values))
        if kind == "array":
            return f"{column} && CAST({wanted} AS text[])"
        return f"{column} = ANY(CAST({wanted} AS text[]))"

    def visibility(self, branches: Sequence[Branch]) -> str | None:
        alternatives: list[str] = []
        for b in branches:
            if not b.classifications or (b.groups is not None and not b.groups):
                continue
            parts = [
                f"record_type = {self.bind(str(b.record_type))}",
                f"classification = ANY(CAST({self.bind(list(b.classifications))} AS text[]))",
            ]
            if b.owner_state is not None:
                parts.append(f"owner_state = {self.bind(b.owner_state)}")
            if b.not_owner_state is not None:
                parts.append(
                    f"(owner_state IS NULL OR owner_state <> {self.bind(b.not_owner_state)})"
                )
            if b.groups is not None:
                parts.append(f"group_id = ANY(CAST({self.bind(list(b.groups))} AS text[]))")
            alternatives.append("(" + " AND ".join(parts) + ")")
        return "(" + " OR ".join(alternatives) + ")" if alternatives else None


__all__ = ["MAX_TOKEN_BYTES", "Sql", "TsQuery", "indexable", "lexeme", "positive_text"]
