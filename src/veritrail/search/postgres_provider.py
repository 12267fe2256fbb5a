"""The PostgreSQL search provider, for installations that already run PostgreSQL.

It owns two tables, named with a prefix (``search_`` by default):

``search_entries``
    One row per record, with ``doc``: a tsvector built from the analysed tokens
    themselves (PostgreSQL never re-parses them). Title tokens carry weight A at
    positions 1..T, body tokens weight D from T+2 on, so a phrase never spans the
    two fields and ``'tok':A`` matches the title alone.
``search_meta``
    The watermark of the last commit, and the generation of the entries table.

A rebuild fills ``search_entries_new``, indexes it, and renames it over
``search_entries`` in one transaction. Writers and rebuilds take a
session-level advisory lock; a second one gets :class:`IndexBusy` at once.

PostgreSQL's tsvector limits apply: positions above 16,383 count as 16,383 (a
phrase in a very long text past that point is not found), a token keeps at most
its first 256 positions, a token longer than 2,046 bytes is not indexed, and a
record's distinct tokens may take up to 1 MB (further distinct tokens of a
larger text are left out).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import orjson
import psycopg
from sqlalchemy import Connection, CursorResult, Engine, TextClause, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from veritrail.errors import IndexBusy, StorageError
from veritrail.search.model import (
    And,
    Branch,
    Facet,
    FacetValue,
    Filter,
    Hit,
    IndexDoc,
    IndexWriter,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    RecordType,
    SearchRequest,
    SearchResult,
    Term,
    TextField,
    YearRange,
)

MAX_TOKEN_BYTES = 2046
MAX_POSITION = 16383
MAX_POSITIONS_PER_TOKEN = 256
MAX_LEXEME_BYTES = 1_000_000
RANK_WEIGHTS = "{0.5,0.5,0.5,1.0}"  # D (body), C, B, A (title): title matches count double
_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,29}")

COLUMNS = (
    "key",
    "record_type",
    "record_id",
    "title",
    "text",
    "language",
    "classification",
    "owner_state",
    "group_id",
    "states",
    "regimes",
    "symbols",
    "year",
    "source_name",
    "updated_at",
    "doc",
)
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


def _usable(token: str) -> bool:
    return bool(token) and "\x00" not in token and len(token.encode()) <= MAX_TOKEN_BYTES


def _lexeme(token: str) -> str:
    """``token`` quoted for a tsvector or tsquery literal."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector(title_tokens: Sequence[str], body_tokens: Sequence[str]) -> str:
    """The tsvector literal of a record: title at weight A, then a gap, then the body."""
    positions: dict[str, list[str]] = {}
    for i, token in enumerate(title_tokens):
        positions.setdefault(token, []).append(f"{min(i + 1, MAX_POSITION)}A")
    start = len(title_tokens) + 2
    for i, token in enumerate(body_tokens):
        positions.setdefault(token, []).append(str(min(start + i, MAX_POSITION)))
    parts: list[str] = []
    size = 0
    for token, where in positions.items():
        if not _usable(token):
            continue
        size += len(token.encode())
        if size > MAX_LEXEME_BYTES:
            break
        parts.append(f"{_lexeme(token)}:{','.join(where[:MAX_POSITIONS_PER_TOKEN])}")
    return " ".join(parts)


def _clean(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def _row(doc: IndexDoc) -> dict[str, Any]:
    return {
        "key": doc.key,
        "record_type": str(doc.record_type),
        "record_id": doc.record_id,
        "title": _clean(doc.title),
        "text": _clean(doc.text),
        "language": doc.language,
        "classification": doc.classification,
        "owner_state": doc.owner_state,
        "group_id": doc.group_id,
        "states": list(dict.fromkeys(doc.states)),
        "regimes": list(dict.fromkeys(doc.regimes)),
        "symbols": list(dict.fromkeys(doc.symbols)),
        "year": doc.year,
        "source_name": doc.source_name,
        "updated_at": doc.updated_at,
        "doc": _tsvector(doc.title_tokens, doc.body_tokens),
    }


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
    usable = [_lexeme(t) + weight for t in dict.fromkeys(tokens) if _usable(t)]
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


def _positive_text(node: Node) -> list[str]:
    """The tsqueries of the text leaves outside any Not: what the rank is computed from."""
    match node:
        case Term() | Phrase():
            found = _tsquery(node)
            return [found] if isinstance(found, str) else []
        case And(items) | Or(items):
            return [q for item in items for q in _positive_text(item)]
    return []


class _Sql:
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


# -- the provider -------------------------------------------------------------------------

# Statements name the provider's tables through {entries}, {meta}, {table} and {name},
# filled in by ``_sql`` from the validated prefix only; every value is a bound parameter.
_CREATE_META = (
    "CREATE TABLE IF NOT EXISTS {meta} (id smallint PRIMARY KEY CHECK (id = 1), "
    "watermark bigint NOT NULL DEFAULT 0, generation integer NOT NULL DEFAULT 0)"
)
_CREATE_ENTRIES = (
    "CREATE TABLE {table} (key text NOT NULL, record_type text NOT NULL, "
    "record_id text NOT NULL, title text NOT NULL, text text NOT NULL, "
    "language text NOT NULL, classification text NOT NULL, owner_state text, group_id text, "
    "states text[] NOT NULL, regimes text[] NOT NULL, symbols text[] NOT NULL, year integer, "
    "source_name text, updated_at timestamptz NOT NULL, doc tsvector NOT NULL)",
    # Keep the tsvector in the row, uncompressed, while it fits: the long text goes first.
    "ALTER TABLE {table} ALTER COLUMN doc SET STORAGE MAIN",
)
_INDEXES = (
    "ALTER TABLE {table} ADD CONSTRAINT {name}_pkey PRIMARY KEY (key)",
    "CREATE INDEX {name}_doc ON {table} USING gin (doc)",
    "CREATE INDEX {name}_states ON {table} USING gin (states)",
    "CREATE INDEX {name}_regimes ON {table} USING gin (regimes)",
    "CREATE INDEX {name}_symbols ON {table} USING gin (symbols)",
    "CREATE INDEX {name}_access ON {table} (record_type, classification, owner_state)",
    "CREATE INDEX {name}_year ON {table} (year)",
)
_LOCK = "hashtextextended(current_schema() || '.' || :lock, 0)"
_UPSERT = (
    "INSERT INTO {entries} (key, record_type, record_id, title, text, language, "
    "classification, owner_state, group_id, states, regimes, symbols, year, source_name, "
    "updated_at, doc) VALUES (:key, :record_type, :record_id, :title, :text, :language, "
    ":classification, :owner_state, :group_id, CAST(:states AS text[]), "
    "CAST(:regimes AS text[]), CAST(:symbols AS text[]), :year, :source_name, :updated_at, "
    "CAST(:doc AS tsvector)) ON CONFLICT (key) DO UPDATE SET record_type = EXCLUDED.record_type, "
    "record_id = EXCLUDED.record_id, title = EXCLUDED.title, text = EXCLUDED.text, "
    "language = EXCLUDED.language, classification = EXCLUDED.classification, "
    "owner_state = EXCLUDED.owner_state, group_id = EXCLUDED.group_id, "
    "states = EXCLUDED.states, regimes = EXCLUDED.regimes, symbols = EXCLUDED.symbols, "
    "year = EXCLUDED.year, source_name = EXCLUDED.source_name, "
    "updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc"
)
_SEARCH = (
    "WITH m AS MATERIALIZED (SELECT key, {rank} AS rank, record_type, language, "
    "classification, year, states, regimes FROM {entries} WHERE {visible} AND {where}), "
    'page AS (SELECT key, rank FROM m ORDER BY rank DESC, key COLLATE "C" '
    "LIMIT :limit OFFSET :offset) "
    "SELECT (SELECT count(*) FROM m), "
    "(SELECT coalesce(json_agg(json_build_array(e.key, e.record_type, e.record_id, e.title, "
    "p.rank, e.language, e.classification, e.owner_state, e.source_name, e.year, e.text) "
    "ORDER BY p.rank DESC, p.key COLLATE \"C\"), '[]') "
    "FROM page p JOIN {entries} e ON e.key = p.key){facets}"
)
_FACET = ", (SELECT coalesce(json_agg(json_build_array(v, n)), '[]') FROM ({counts}) x)"
_FACET_COUNTS = {
    Facet.TYPE: "SELECT record_type AS v, count(*) AS n FROM m GROUP BY 1",
    Facet.LANGUAGE: "SELECT language AS v, count(*) AS n FROM m GROUP BY 1",
    Facet.CLASSIFICATION: "SELECT classification AS v, count(*) AS n FROM m GROUP BY 1",
    Facet.STATE: "SELECT v, count(*) AS n FROM (SELECT unnest(states) AS v FROM m) u GROUP BY 1",
    Facet.REGIME: "SELECT v, count(*) AS n FROM (SELECT unnest(regimes) AS v FROM m) u GROUP BY 1",
    Facet.YEAR: "SELECT year::text AS v, count(*) AS n FROM m WHERE year IS NOT NULL GROUP BY year",
}


def _broken(exc: DBAPIError) -> StorageError:
    if isinstance(exc, ProgrammingError):
        return StorageError(
            f"the search tables cannot be used ({exc.orig}); "
            "`veritrail search reindex` rebuilds them"
        )
    return StorageError(f"search in PostgreSQL failed: {exc.orig}")


class PostgresProvider:
    """Search over tables in the PostgreSQL database of ``engine`` (created on first use).

    ``prefix`` names the tables (``<prefix>entries``, ``<prefix>meta``): up to 30
    lower-case letters, digits and underscores.
    """

    name = "postgresql"

    def __init__(self, engine: Engine, *, prefix: str = "search_") -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"table prefix {prefix!r}: use up to 30 of a-z, 0-9 and _")
        self.engine = engine
        self.prefix = prefix
        self.entries = f"{prefix}entries"
        self._ready = False
        self._ready_lock = threading.Lock()

    def _sql(self, template: str, **parts: str) -> TextClause:
        names = {"entries": self.entries, "meta": f"{self.prefix}meta"}
        return text(template.format_map(names | parts))

    def _create_entries(self, conn: Connection, table: str) -> None:
        for statement in _CREATE_ENTRIES:
            conn.execute(self._sql(statement, table=table))

    def _index_entries(self, conn: Connection, table: str, generation: int) -> None:
        # Index names carry the generation: the table they belong to is renamed.
        for statement in _INDEXES:
            conn.execute(self._sql(statement, table=table, name=f"{self.prefix}g{generation}"))

    def _ensure(self) -> None:
        """Create the tables unless they exist; once per provider."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                with self.engine.begin() as conn:
                    lock = {"lock": f"{self.prefix}init"}
                    conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"), lock)
                    conn.execute(self._sql(_CREATE_META))
                    conn.execute(
                        self._sql("INSERT INTO {meta} (id) VALUES (1) ON CONFLICT DO NOTHING")
                    )
                    found = conn.execute(text("SELECT to_regclass(:t)"), {"t": self.entries})
                    if found.scalar() is None:
                        generation = conn.execute(self._sql("SELECT generation FROM {meta}"))
                        self._create_entries(conn, self.entries)
                        self._index_entries(conn, self.entries, generation.scalar_one())
            except DBAPIError as exc:
                raise _broken(exc) from exc
            self._ready = True

    @contextmanager
    def _exclusive(self) -> Iterator[Connection]:
        """A connection holding the index's one writer slot, or IndexBusy at once."""
        self._ensure()
        lock = {"lock": f"{self.prefix}writer"}
        conn = self.engine.connect()
        try:
            held = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({_LOCK})"), lock).scalar())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            raise IndexBusy(
                f"another process is writing the search tables {self.entries}", table=self.entries
            )
        try:
            yield conn
        finally:
            try:
                conn.rollback()
                conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK})"), lock)
                conn.commit()
            except DBAPIError:
                conn.invalidate()  # closing the session releases the lock
            conn.close()

    # -- SearchProvider --

    def watermark(self) -> int:
        self._ensure()
        try:
            with self.engine.connect() as conn:
                found = conn.execute(self._sql("SELECT watermark FROM {meta}")).scalar()
        except DBAPIError as exc:
            raise _broken(exc) from exc
        return int(found or 0)

    def count(self) -> int:
        self._ensure()
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(self._sql("SELECT count(*) FROM {entries}")).scalar_one())
        except DBAPIError as exc:
            raise _broken(exc) from exc

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        with self._exclusive() as conn:
            yield _Writer(conn, self._sql(_UPSERT), self._sql)

    def rebuild(self, docs: Iterator[IndexDoc], watermark: int) -> int:
        """Fill a new table from ``docs`` and rename it into place; a later duplicate key wins."""
        new = f"{self.prefix}entries_new"
        with self._exclusive() as conn:
            try:
                generation = (
                    1 + conn.execute(self._sql("SELECT generation FROM {meta}")).scalar_one()
                )
                conn.execute(self._sql("DROP TABLE IF EXISTS {table}", table=new))
                self._create_entries(conn, new)
                written = _copy(conn, new, docs)
                conn.commit()
                try:
                    conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # GIN builds
                    self._index_entries(conn, new, generation)
                except IntegrityError:
                    conn.rollback()
                    # COPY appended in order: of two rows with one key the later has the later ctid.
                    conn.execute(
                        self._sql(
                            "DELETE FROM {table} a USING {table} b "
                            "WHERE a.key = b.key AND a.ctid < b.ctid",
                            table=new,
                        )
                    )
                    self._index_entries(conn, new, generation)
                conn.execute(self._sql("ANALYZE {table}", table=new))
                conn.commit()
                conn.execute(self._sql("DROP TABLE IF EXISTS {entries}"))
                conn.execute(self._sql("ALTER TABLE {table} RENAME TO {entries}", table=new))
                conn.execute(
                    self._sql("UPDATE {meta} SET watermark = :w, generation = :g"),
                    {"w": watermark, "g": generation},
                )
                conn.commit()
            except BaseException as exc:
                try:
                    conn.rollback()
                    conn.execute(self._sql("DROP TABLE IF EXISTS {table}", table=new))
                    conn.commit()
                except DBAPIError:
                    pass  # the next rebuild drops it
                if isinstance(exc, DBAPIError):
                    raise _broken(exc) from exc
                raise
        return written

    def search(self, request: SearchRequest) -> SearchResult:
        if request.limit < 0 or request.offset < 0:
            raise ValueError("limit and offset must not be negative")
        sql = _Sql()
        visible = sql.visibility(request.visibility)
        if visible is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in request.facets})
        where = sql.where(request.query)
        positive = _positive_text(request.query)
        rank = "CAST(0 AS real)"
        if positive:
            ranked = sql.bind(" | ".join(f"({q})" for q in positive))
            rank = f"ts_rank_cd('{RANK_WEIGHTS}', doc, CAST({ranked} AS tsquery))"
        facets = "".join(_FACET.format(counts=_FACET_COUNTS[f]) for f in request.facets)
        statement = self._sql(_SEARCH, rank=rank, visible=visible, where=where, facets=facets)
        params = sql.params | {"limit": request.limit, "offset": request.offset}
        self._ensure()
        try:
            with self.engine.connect() as conn:
                row = conn.execute(statement, params).one()
        except DBAPIError as exc:
            raise _broken(exc) from exc
        return SearchResult(
            total=int(row[0]),
            hits=[_hit(h) for h in _json(row[1])],
            facets={
                f: sorted(
                    (FacetValue(str(v), int(n)) for v, n in _json(found)),
                    key=lambda fv: (-fv.count, fv.value),
                )
                for f, found in zip(request.facets, row[2:], strict=True)
            },
        )


def _copy(conn: Connection, table: str, docs: Iterator[IndexDoc]) -> int:
    raw = cast(psycopg.Connection[Any], conn.connection.dbapi_connection)
    statement = "COPY {table} ({columns}) FROM STDIN".format(
        table=table, columns=", ".join(COLUMNS)
    )
    written = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for doc in docs:
            row = _row(doc)
            copy.write_row([row[c] for c in COLUMNS])
            written += 1
    return written


def _json(value: Any) -> list[Any]:
    """A json column as Python (psycopg decodes json itself; this is in case it did not)."""
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return list(value)


def _hit(values: list[Any]) -> Hit:
    (
        key,
        record_type,
        record_id,
        title,
        score,
        language,
        classification,
        owner,
        source,
        year,
        text_,
    ) = values
    return Hit(
        key=key,
        record_type=RecordType(record_type),
        record_id=record_id,
        title=title,
        score=float(score),
        language=language,
        classification=classification,
        owner_state=owner,
        source_name=source,
        year=year,
        text=text_,
    )


class _Writer:
    def __init__(
        self, conn: Connection, upsert: TextClause, sql: Callable[..., TextClause]
    ) -> None:
        self._conn = conn
        self._upsert = upsert
        self._delete = sql("DELETE FROM {entries} WHERE key = ANY(CAST(:keys AS text[]))")
        self._mark = sql("UPDATE {meta} SET watermark = :w")

    def upsert(self, docs: Iterable[IndexDoc]) -> int:
        rows = [_row(doc) for doc in docs]
        if rows:
            self._execute(self._upsert, rows)
        return len(rows)

    def delete(self, keys: Iterable[str]) -> int:
        """Delete by key; the number of records that were there."""
        wanted = list(keys)
        if not wanted:
            return 0
        return int(self._execute(self._delete, {"keys": wanted}).rowcount)

    def commit(self, watermark: int) -> None:
        self._execute(self._mark, {"w": watermark})
        try:
            self._conn.commit()
        except DBAPIError as exc:
            raise _broken(exc) from exc

    def _execute(self, statement: TextClause, params: Any) -> CursorResult[Any]:
        try:
            return self._conn.execute(statement, params)
        except DBAPIError as exc:
            raise _broken(exc) from exc


__all__ = ["PostgresProvider"]
