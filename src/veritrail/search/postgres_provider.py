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
    Facet,
    FacetValue,
    Hit,
    IndexDoc,
    IndexWriter,
    RecordType,
    SearchRequest,
    SearchResult,
)
from veritrail.search.postgres_query import Sql, indexable, lexeme, positive_text

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


# -- rows ---------------------------------------------------------------------------------


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
        if not indexable(token):
            continue
        size += len(token.encode())
        if size > MAX_LEXEME_BYTES:
            break
        parts.append(f"{lexeme(token)}:{','.join(where[:MAX_POSITIONS_PER_TOKEN])}")
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
        sql = Sql()
        visible = sql.visibility(request.visibility)
        if visible is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in request.facets})
        where = sql.where(request.query)
        positive = positive_text(request.query)
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
