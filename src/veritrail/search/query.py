"""The search query language, parsed into the analysed tree every provider runs.

::

    chemical weapons                 both words (AND is implied)
    "chemical weapons"               a phrase: consecutive terms
    sarin OR VX                      either; NOT binds tighter than AND, AND than OR
    NOT syria    -syria   -"a b"     without
    (sarin OR VX) inspection         grouping
    state:FRA  state:Frankreich      a filter (field:value, field:"two words", field:a,b)
    year:2020  year:2018..2020       a year, or a range (either end may be left open)
    title:sarin  title:"a phrase"    in the title only
    S/RES/1540 (2004)                a UN document symbol: its symbol field or its text

Fields: ``type``, ``state``, ``regime``, ``lang`` (or ``language``), ``year``,
``classification``, ``symbol``, ``title``. Query words are analysed like
documents (``search.analyze``), so traditional Chinese, full-width forms and
inflected words find what their plain forms find.

The tree is normalised for providers: nested And/Or are flattened, and every
:class:`Not` stands in an :class:`And` that also has a positive item
(:class:`MatchAll` when the query has nothing else), so no provider ever has to
run a purely negative clause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from veritrail.errors import QuerySyntaxError
from veritrail.reference.states import lookup
from veritrail.search.analyze import query_positions
from veritrail.search.model import (
    And,
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

MAX_LENGTH = 1000
MAX_TERMS = 64

FIELDS = ("type", "state", "regime", "lang", "year", "classification", "symbol", "title")
_ALIASES = {"language": "lang"}
RECORD_TYPES = ("document", "declaration")
LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh", "und")
CLASSIFICATIONS = ("public", "restricted", "protected", "highly_protected")

_QUOTES = '"“”„«»「」『』'
_STOP = frozenset(" \t\r\n\f\v()")  # ends a word (with any other whitespace)
_FIELD = re.compile(r"([A-Za-z]+):")
_YEAR = re.compile(r"\d{4}")
_REGIME = re.compile(r"[a-z0-9][a-z0-9_-]*")
# A UN document symbol: a series (A, S, CD, CCW, E/CN.4 …) then slash-separated parts,
# one with a digit, and perhaps the year of a resolution: S/RES/1540 (2004).
_SYMBOL = re.compile(
    r"[A-Za-z]{1,10}(?:\.\d+)?(?:/[A-Za-z0-9][A-Za-z0-9.\-]*)+(?:\s?\(\d{4}\))?(?![\w/])"
)
_SYMBOL_DASHES = "–—"  # "A/75/649–S/2020/1197": two symbols of one document

_Error = Callable[[str, int], QuerySyntaxError]


def _trim_symbol(symbol: str) -> str:
    """Without the full stop of a sentence it ends ("see S/2020/1197.")."""
    return symbol if symbol.endswith(")") else symbol.rstrip(".-")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # word, phrase, field, symbol, and, or, not, minus, (, ), end
    pos: int  # offset in the normalised query
    text: str = ""
    field: str = ""
    quoted: bool = False


_OPERAND = frozenset({"word", "phrase", "field", "symbol", "not", "minus", "("})
_TERMS = frozenset({"word", "phrase", "field", "symbol"})


def _normalise(query: str) -> tuple[str, list[int]]:
    """NFKC character by character, with each character's offset in the original."""
    if query.isascii():
        return query, list(range(len(query) + 1))
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(query):
        folded = unicodedata.normalize("NFKC", char) if ord(char) > 127 else char
        out.append(folded)
        origin.extend([i] * len(folded))
    origin.append(len(query))
    return "".join(out), origin


class _Lexer:
    def __init__(self, text: str, error: _Error) -> None:
        self.text = text
        self.error = error
        self.i = 0
        self.terms = 0

    def tokens(self) -> list[_Tok]:
        out: list[_Tok] = []
        text = self.text
        while True:
            while self.i < len(text) and text[self.i].isspace():
                self.i += 1
            if self.i >= len(text):
                out.append(_Tok("end", self.i))
                return out
            tok = self._next()
            if tok.kind in _TERMS:
                self.terms += 1
                if self.terms > MAX_TERMS:
                    raise self.error(
                        f"The query has more than {MAX_TERMS} terms; "
                        f"search with fewer (the {MAX_TERMS + 1}th starts here).",
                        tok.pos,
                    )
            out.append(tok)

    def _next(self) -> _Tok:
        text, start = self.text, self.i
        char = text[start]
        if char in "()":
            self.i += 1
            return _Tok(char, start)
        if char == "-" and start + 1 < len(text) and not text[start + 1].isspace():
            self.i += 1
            return _Tok("minus", start)
        if char in _QUOTES:
            return _Tok("phrase", start, self._quoted(start))
        symbol = self._symbol(start)
        if symbol is not None:
            return symbol
        field = _FIELD.match(text, start)
        if field is not None:
            tok = self._field(field)
            if tok is not None:
                return tok
        word = self._word(start)
        if word in ("AND", "OR", "NOT"):
            return _Tok(word.lower(), start)
        return _Tok("word", start, word)

    def _word(self, start: int) -> str:
        end = start
        while end < len(self.text) and self.text[end] not in _STOP and not self.text[end].isspace():
            end += 1
        self.i = end
        return self.text[start:end]

    def _quoted(self, start: int) -> str:
        end = start + 1
        while end < len(self.text) and self.text[end] not in _QUOTES:
            end += 1
        if end >= len(self.text):
            raise self.error(
                'This quotation mark is never closed: add a closing " after the phrase, '
                "or remove it.",
                start,
            )
        self.i = end + 1
        return self.text[start + 1 : end]

    def _symbol(self, start: int) -> _Tok | None:
        match = _SYMBOL.match(self.text, start)
        if match is None:
            return None
        value = _trim_symbol(match[0])
        if not any(c.isdigit() for c in value.split("/", 1)[1]):
            return None
        end = start + len(value)
        if end < len(self.text) and self.text[end] not in _STOP and not self.text[end].isspace():
            if self.text[end] not in _SYMBOL_DASHES and self.text[end] not in ".,;:!?":
                return None  # part of a longer word
        self.i = end
        if end < len(self.text) and self.text[end] in _SYMBOL_DASHES:
            self.i += 1
        return _Tok("symbol", start, value)

    def _field(self, match: re.Match[str]) -> _Tok | None:
        start, after = match.start(), match.end()
        name = match[1].lower()
        name = _ALIASES.get(name, name)
        following = self.text[after] if after < len(self.text) else " "
        if name not in FIELDS:
            if following in _STOP or following.isspace() or following == "/":
                return None  # "note: …", "http://…": ordinary words
            raise self.error(
                f"Unknown field '{match[1]}:'. Fields are {', '.join(FIELDS)}; "
                f'to search for the text itself, put it in quotes: "{match[0]}…".',
                start,
            )
        if following in _STOP or following.isspace():
            raise self.error(
                f"The field '{match[1]}:' needs a value right after the colon, "
                f"for example {_EXAMPLES[name]}.",
                start,
            )
        if following in _QUOTES:
            return _Tok("field", start, self._quoted(after), field=name, quoted=True)
        if name == "symbol":
            symbol = _SYMBOL.match(self.text, after)
            if symbol is not None and not self.text.startswith(",", symbol.end()):
                value = _trim_symbol(symbol[0])
                self.i = after + len(value)
                return _Tok("field", start, value, field=name)
        return _Tok("field", start, self._word(after), field=name)


_EXAMPLES = {
    "type": "type:document",
    "state": "state:FRA or state:FRA,DEU",
    "regime": "regime:cwc",
    "lang": "lang:zh",
    "year": "year:2020 or year:2018..2020",
    "classification": "classification:public",
    "symbol": "symbol:S/2020/1197",
    "title": 'title:sarin or title:"chemical weapons"',
}


# -- building the tree ----------------------------------------------------------------------


def _positive(node: Node) -> bool:
    return not isinstance(node, Not)


def _and(items: list[Node | None]) -> Node | None:
    flat: list[Node] = []
    for item in items:
        if isinstance(item, And):
            flat.extend(item.items)
        elif item is not None:
            flat.append(item)
    if any(_positive(n) and not isinstance(n, MatchAll) for n in flat):
        flat = [n for n in flat if not isinstance(n, MatchAll)]
    elif flat:
        flat = [MatchAll(), *(n for n in flat if not isinstance(n, MatchAll))]
    flat = list(dict.fromkeys(flat))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(items: list[Node | None]) -> Node | None:
    flat: list[Node] = []
    for item in items:
        if isinstance(item, Or):
            flat.extend(item.items)
        elif item is not None:
            flat.append(_and([item]) or item)
    if any(isinstance(n, MatchAll) for n in flat):
        return MatchAll()
    flat = list(dict.fromkeys(flat))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _not(item: Node | None) -> Node | None:
    if item is None:
        return None
    if isinstance(item, Not):
        return item.item
    if isinstance(item, And) and len(item.items) == 2 and isinstance(item.items[0], MatchAll):
        if isinstance(item.items[1], Not):  # NOT -x is x
            return item.items[1].item
    return Not(item)


def _text(value: str, field: TextField = TextField.ANY) -> Node | None:
    positions = query_positions(value)
    if not positions:
        return None
    if len(positions) == 1:
        return Term(positions[0], field)
    return Phrase(positions, field)


def normalise_symbol(symbol: str) -> str:
    """A UN document symbol as the index holds it: NFKC, upper case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", symbol).upper().split())


def _symbol(value: str) -> Node | None:
    return _or([Filter("symbol", (normalise_symbol(value),)), _text(value)])


class _Parser:
    def __init__(self, toks: list[_Tok], error: _Error) -> None:
        self.toks = toks
        self.k = 0
        self.error = error

    @property
    def tok(self) -> _Tok:
        return self.toks[self.k]

    def take(self) -> _Tok:
        tok = self.toks[self.k]
        self.k += 1
        return tok

    def query(self) -> Node | None:
        node = self.or_expr()
        if self.tok.kind == ")":
            raise self.error(
                "This ')' closes no '(': remove it, or add a '(' where the group starts.",
                self.tok.pos,
            )
        return node

    def or_expr(self) -> Node | None:
        items = [self.and_expr()]
        while self.tok.kind == "or":
            op = self.take()
            if self.tok.kind not in _OPERAND:
                raise self.error("OR needs a search term after it.", op.pos)
            items.append(self.and_expr())
        return _or(items)

    def and_expr(self) -> Node | None:
        items = [self.unary()]
        while True:
            if self.tok.kind == "and":
                op = self.take()
                if self.tok.kind not in _OPERAND:
                    raise self.error("AND needs a search term after it.", op.pos)
            elif self.tok.kind not in _OPERAND:
                break
            items.append(self.unary())
        return _and(items)

    def unary(self) -> Node | None:
        tok = self.tok
        if tok.kind in ("not", "minus"):
            self.take()
            if self.tok.kind not in _OPERAND:
                what = "NOT" if tok.kind == "not" else "'-'"
                raise self.error(f"{what} needs a search term after it.", tok.pos)
            return _not(self.unary())
        return self.primary()

    def primary(self) -> Node | None:
        tok = self.take()
        if tok.kind == "(":
            if self.tok.kind == ")":
                raise self.error(
                    "These parentheses are empty: put search terms in them, or remove them.",
                    tok.pos,
                )
            node = self.or_expr()
            if self.tok.kind != ")":
                raise self.error(
                    "This '(' is never closed: add a ')' where the group ends.", tok.pos
                )
            self.take()
            return node
        if tok.kind == "word":
            return _text(tok.text)
        if tok.kind == "phrase":
            return _text(tok.text)
        if tok.kind == "symbol":
            return _symbol(tok.text)
        if tok.kind == "field":
            return _filter(tok, self.error)
        if tok.kind in ("and", "or"):
            raise self.error(
                f"{tok.kind.upper()} needs a search term before it "
                f"(to search for the word itself, write it in lower case).",
                tok.pos,
            )
        if tok.kind == ")":
            raise self.error(
                "This ')' closes no '(': remove it, or add a '(' where the group starts.",
                tok.pos,
            )
        raise self.error("The query ends where a search term was expected.", tok.pos)


# -- field filters --------------------------------------------------------------------------


def _values(tok: _Tok) -> list[str]:
    if tok.quoted:
        return [tok.text.strip()]
    return [v for v in (v.strip() for v in tok.text.split(",")) if v]


def _choice(tok: _Tok, facet: Facet, accepted: tuple[str, ...], error: _Error) -> Node:
    values: list[str] = []
    for value in _values(tok):
        key = value.casefold().replace("-", "_").replace(" ", "_")
        if key not in accepted:
            raise error(
                f"'{value}' is not a {tok.field} this search knows; "
                f"use one of {', '.join(accepted)}.",
                tok.pos,
            )
        values.append(key)
    return Filter(facet, tuple(dict.fromkeys(values)))


def _filter(tok: _Tok, error: _Error) -> Node | None:
    field, values = tok.field, _values(tok)
    if not values:
        raise error(f"The field '{field}:' needs a value, for example {_EXAMPLES[field]}.", tok.pos)
    if field == "type":
        return _choice(tok, Facet.TYPE, RECORD_TYPES, error)
    if field == "lang":
        return _choice(tok, Facet.LANGUAGE, LANGUAGES, error)
    if field == "classification":
        return _choice(tok, Facet.CLASSIFICATION, CLASSIFICATIONS, error)
    if field == "state":
        codes: list[str] = []
        for value in values:
            state = lookup(value)
            if state is None:
                raise error(
                    f"No state is known as '{value}': use its ISO code (FRA or FR) or its "
                    f'name in a UN language, in quotes when it has spaces (state:"South Africa").',
                    tok.pos,
                )
            codes.append(state.alpha3)
        return Filter(Facet.STATE, tuple(dict.fromkeys(codes)))
    if field == "regime":
        for value in values:
            if not _REGIME.fullmatch(value.lower()):
                raise error(
                    f"'{value}' is not a regime code: use its short name, like regime:cwc.",
                    tok.pos,
                )
        return Filter(Facet.REGIME, tuple(dict.fromkeys(v.lower() for v in values)))
    if field == "year":
        return _year(tok, values, error)
    if field == "symbol":
        symbols = (normalise_symbol(_trim_symbol(v)) for v in values)
        return Filter("symbol", tuple(dict.fromkeys(symbols)))
    return _text(tok.text, TextField.TITLE)  # title


def _year(tok: _Tok, values: list[str], error: _Error) -> Node:
    usage = "write year:2020, year:2018..2020, year:2018.. or year:..2020"
    if len(values) == 1 and ".." in values[0]:
        first, _, last = values[0].partition("..")
        if not (first or last) or any(p and not _YEAR.fullmatch(p) for p in (first, last)):
            raise error(f"'{values[0]}' is not a range of years: {usage}.", tok.pos)
        start, end = int(first or 1), int(last or 9999)
        if start > end:
            raise error(f"The range {values[0]} ends before it starts: {usage}.", tok.pos)
        return YearRange(start, end)
    for value in values:
        if not _YEAR.fullmatch(value):
            raise error(f"'{value}' is not a year: {usage}.", tok.pos)
    return Filter(Facet.YEAR, tuple(dict.fromkeys(values)))


# -- public ---------------------------------------------------------------------------------


def parse(query: str) -> Node:
    """The analysed tree of ``query``; :class:`QuerySyntaxError` says what to fix, and where."""
    if len(query) > MAX_LENGTH:
        raise QuerySyntaxError(
            f"The query is {len(query):,} characters long; shorten it to {MAX_LENGTH:,} or fewer.",
            position=MAX_LENGTH,
        )
    text, origin = _normalise(query)

    def error(message: str, pos: int) -> QuerySyntaxError:
        where = origin[min(pos, len(origin) - 1)]
        return QuerySyntaxError(f"{message} (at character {where + 1})", position=where)

    toks = _Lexer(text, error).tokens()
    if toks[0].kind == "end":
        return MatchAll()
    node = _Parser(toks, error).query()
    if node is None:
        return MatchAll()
    return _and([node]) or MatchAll()


def describe(node: Node) -> str:
    """A stable one-line form of a tree, for logs and tests."""
    if isinstance(node, Term):
        prefix = "title:" if node.field is TextField.TITLE else ""
        return prefix + "|".join(node.alternatives)
    if isinstance(node, Phrase):
        prefix = "title:" if node.field is TextField.TITLE else ""
        return prefix + '"' + " ".join("|".join(p) for p in node.positions) + '"'
    if isinstance(node, Filter):
        return f"{node.field}:{','.join(node.values)}"
    if isinstance(node, YearRange):
        return f"year:{node.start}..{node.end}"
    if isinstance(node, And):
        return "(" + " AND ".join(map(describe, node.items)) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(map(describe, node.items)) + ")"
    if isinstance(node, Not):
        return "NOT " + describe(node.item)
    return "*"


__all__ = ["FIELDS", "MAX_LENGTH", "MAX_TERMS", "describe", "normalise_symbol", "parse"]
