"""The embedded search provider: a Tantivy index in a directory.

The directory holds generations of the index, one per rebuild::

    <directory>/CURRENT          names the active generation ("gen-000002")
    <directory>/writer.lock      held by the one writer (or rebuild) at a time
    <directory>/generations.lock held while CURRENT changes
    <directory>/gen-000002/index        the Tantivy index
    <directory>/gen-000002/watermark    the outbox position of its last commit
    <directory>/gen-000002/format       the layout version of the index

A rebuild fills a new generation and then replaces ``CURRENT`` atomically; every
search compares ``CURRENT`` and the generation's ``meta.json`` with what it
opened (two ``stat`` calls), so searchers in any process follow rebuilds and
commits at once.

Title and body are indexed from the analysed tokens, joined by spaces and split
again by Tantivy's ``whitespace`` tokenizer, which neither lower-cases nor
otherwise alters them: a token's position in the index is its index in the
tuple. A token Tantivy would split (one holding ASCII whitespace) is indexed and
queried with that whitespace replaced by U+E001; an empty, over-long (more than
2,046 bytes, PostgreSQL's limit too) or NUL-holding token keeps its position but
can never match.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import tantivy
from tantivy import Occur

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
from veritrail.search.tantivy_query import (
    FACET_FIELDS,
    Compiler,
    access_token,
    boolean,
    indexed_text,
)

FORMAT = "1"  # bump when the schema changes: older generations then ask for a rebuild
FACET_SIZE = 10_000  # distinct values counted per facet; far above any real facet
TIE_PEEK = 256  # hits read beyond the page, so that most ties need no second search
TIE_CAP = 10_000  # the most hits read beyond the page to order score ties by key
_GEN = re.compile(r"gen-(\d{6,})")
_KEY_BYTES = struct.Struct(">4Q")
KEY_ORDER = ("key0", "key1", "key2", "key3")  # the key's first 32 bytes, for ordering ties


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in ("key", "record_type", "language", "classification", "states", "regimes"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=True)
    for name in ("owner_state", "symbols", "access"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("year", indexed=True, fast=True)
    for name in KEY_ORDER:
        sb.add_unsigned_field(name, fast=True)
    sb.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    sb.add_bytes_field("stored", stored=True)  # the hit's fields as JSON
    return sb.build()


SCHEMA = _schema()


# -- documents ----------------------------------------------------------------------------


def _key_order(key: str) -> tuple[int, ...]:
    return _KEY_BYTES.unpack(key.encode()[:32].ljust(32, b"\0"))


def _document(doc: IndexDoc) -> tantivy.Document:
    values: dict[str, Any] = {
        "key": doc.key,
        "record_type": str(doc.record_type),
        "language": doc.language,
        "classification": doc.classification,
        "states": list(dict.fromkeys(doc.states)),
        "regimes": list(dict.fromkeys(doc.regimes)),
        "symbols": list(dict.fromkeys(doc.symbols)),
        "title": indexed_text(doc.title_tokens),
        "body": indexed_text(doc.body_tokens),
        "stored": orjson.dumps(
            {
                "key": doc.key,
                "record_type": str(doc.record_type),
                "record_id": doc.record_id,
                "title": doc.title,
                "text": doc.text,
                "language": doc.language,
                "classification": doc.classification,
                "owner_state": doc.owner_state,
                "source_name": doc.source_name,
                "year": doc.year,
            }
        ),
    }
    if doc.owner_state is not None:
        values["owner_state"] = doc.owner_state
    kind = str(doc.record_type)
    values["access"] = [
        access_token(kind, doc.classification, owner, group)
        for owner in dict.fromkeys((None, doc.owner_state))
        for group in dict.fromkeys((None, doc.group_id))
    ]
    values.update(zip(KEY_ORDER, _key_order(doc.key), strict=True))
    if doc.year is not None:
        values["year"] = doc.year
    return tantivy.Document.from_dict(values, SCHEMA)


# -- files --------------------------------------------------------------------------------

_Stamp = tuple[int, int, int]


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _write_atomically(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _broken(where: Path, why: object) -> StorageError:
    return StorageError(
        f"the search index at {where} cannot be used ({why}); "
        "`veritrail search reindex` rebuilds it",
        path=str(where),
    )


@dataclass(slots=True)
class _Generation:
    path: Path
    index: tantivy.Index
    current: _Stamp
    meta: _Stamp | None

    def reload_if_changed(self) -> None:
        meta = _stamp(self.path / "index" / "meta.json")
        if meta != self.meta:
            self.index.reload()
            self.meta = meta


@dataclass(slots=True)
class _Ranked:
    score: float
    address: tantivy.DocAddress
    key: str | None = None


# -- the provider -------------------------------------------------------------------------


class TantivyProvider:
    """Search over a Tantivy index kept in ``directory`` (created on first use)."""

    name = "tantivy"

    def __init__(self, directory: Path, *, heap_size: int = 128_000_000, threads: int = 2) -> None:
        self.directory = Path(directory)
        self._heap_size = heap_size
        self._threads = threads
        self._lock = threading.Lock()
        self._generation: _Generation | None = None

    # -- the active generation --

    def _open(self) -> _Generation:
        """The active generation, reopened after a rebuild and reloaded after a commit."""
        with self._lock:
            for attempt in range(3):
                current = self._read_current()
                if current is None:
                    self._initialise()
                    continue
                name, stamp = current
                gen = self._generation
                if gen is None or gen.current != stamp:
                    try:
                        gen = self._load(self.directory / name, stamp)
                    except StorageError:
                        if attempt == 2:
                            raise
                        continue  # a rebuild may have just removed it: read CURRENT again
                    self._generation = gen
                try:
                    gen.reload_if_changed()
                except ValueError as exc:
                    raise _broken(gen.path, exc) from exc
                return gen
        raise _broken(self.directory, "CURRENT names no readable index")

    def _read_current(self) -> tuple[str, _Stamp] | None:
        try:
            with open(self.directory / "CURRENT", encoding="ascii") as f:
                st = os.fstat(f.fileno())
                name = f.read().strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise _broken(self.directory, exc) from exc
        if not _GEN.fullmatch(name):
            raise _broken(self.directory, f"CURRENT names {name!r}")
        return name, (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self, path: Path, stamp: _Stamp) -> _Generation:
        try:
            found = (path / "format").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _broken(path, exc) from exc
        if found != FORMAT:
            raise _broken(path, f"index format {found!r}, this version reads {FORMAT!r}")
        try:
            index = tantivy.Index.open(str(path / "index"))
            index.config_reader(reload_policy="Manual")
        except (ValueError, OSError) as exc:
            raise _broken(path, exc) from exc
        return _Generation(path, index, stamp, _stamp(path / "index" / "meta.json"))

    def _lock_file(self, name: str) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        return os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o644)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the index's one writer slot, or raise IndexBusy at once."""
        fd = self._lock_file("writer.lock")
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IndexBusy(
                    f"another process is writing the search index at {self.directory}",
                    path=str(self.directory),
                ) from exc
            yield
        finally:
            os.close(fd)  # and with it the lock

    @contextmanager
    def _generations(self) -> Iterator[None]:
        """Hold the right to change CURRENT and the set of generations (briefly)."""
        fd = self._lock_file("generations.lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _initialise(self) -> None:
        """Create an empty first generation unless another process just did."""
        with self._generations():
            if not (self.directory / "CURRENT").exists():
                path = self._new_generation()
                tantivy.Index(SCHEMA, path=str(path / "index"), reuse=False)
                _write_atomically(path / "watermark", "0")
                _write_atomically(path / "format", FORMAT)
                _write_atomically(self.directory / "CURRENT", path.name)

    def _new_generation(self) -> Path:
        while True:
            numbers = [
                int(m.group(1)) for p in self.directory.iterdir() if (m := _GEN.fullmatch(p.name))
            ]
            path = self.directory / f"gen-{max(numbers, default=0) + 1:06d}"
            try:
                path.mkdir()
            except FileExistsError:
                continue  # taken a moment ago by another process
            (path / "index").mkdir()
            return path

    def _publish(self, path: Path) -> None:
        """Make ``path`` the current generation and remove every other one."""
        with self._generations():
            _write_atomically(self.directory / "CURRENT", path.name)
            for old in self.directory.iterdir():
                if _GEN.fullmatch(old.name) and old != path:
                    shutil.rmtree(old, ignore_errors=True)  # open searchers keep their mmaps

    def _committed(self, gen: _Generation) -> None:
        with self._lock:
            gen.reload_if_changed()

    # -- SearchProvider --

    def watermark(self) -> int:
        gen = self._open()
        try:
            return int((gen.path / "watermark").read_text(encoding="ascii"))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            raise _broken(gen.path, exc) from exc

    def count(self) -> int:
        return int(self._open().index.searcher().num_docs)

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        with self._exclusive():
            gen = self._open()
            try:
                inner = gen.index.writer(self._heap_size, self._threads)
            except ValueError as exc:
                if "LockBusy" in str(exc):
                    raise IndexBusy(
                        f"another process is writing the search index at {self.directory}",
                        path=str(self.directory),
                    ) from exc
                raise _broken(gen.path, exc) from exc
            writer = _Writer(self, gen, inner)
            try:
                yield writer
            finally:
                writer.close()

    def rebuild(self, docs: Iterator[IndexDoc], watermark: int) -> int:
        """Fill a new generation from ``docs`` and make it current; a later duplicate key wins."""
        with self._exclusive():
            path = self._new_generation()
            written = 0
            try:
                index = tantivy.Index(SCHEMA, path=str(path / "index"), reuse=False)
                writer = index.writer(self._heap_size, self._threads)
                for doc in docs:
                    writer.delete_documents_by_term("key", doc.key)
                    writer.add_document(_document(doc))
                    written += 1
                writer.commit()
                writer.wait_merging_threads()
                _write_atomically(path / "watermark", str(watermark))
                _write_atomically(path / "format", FORMAT)
            except BaseException as exc:
                shutil.rmtree(path, ignore_errors=True)
                if isinstance(exc, ValueError | OSError):
                    raise StorageError(f"rebuilding the search index failed: {exc}") from exc
                raise
            self._publish(path)
        self._open()
        return written

    def search(self, request: SearchRequest) -> SearchResult:
        if request.limit < 0 or request.offset < 0:
            raise ValueError("limit and offset must not be negative")
        gen = self._open()
        compiler = Compiler(gen.index.schema)
        visible = compiler.visibility(request.visibility)
        if visible is None:
            return SearchResult(total=0, hits=[], facets={f: [] for f in request.facets})
        query = boolean([(Occur.Must, compiler.compile(request.query)), (Occur.Must, visible)])
        try:
            searcher = gen.index.searcher()
            total, page = _ranked(searcher, query, compiler, request)
            hits = [_hit(searcher, r) for r in page]
            facets = _facets(searcher, query, request.facets) if request.facets else {}
        except ValueError as exc:
            raise _broken(gen.path, exc) from exc
        return SearchResult(total=total, hits=hits, facets=facets)


class _Writer:
    def __init__(self, provider: TantivyProvider, gen: _Generation, inner: tantivy.IndexWriter):
        self._provider = provider
        self._gen = gen
        self._inner = inner
        self._dirty = False

    def upsert(self, docs: Iterable[IndexDoc]) -> int:
        n = 0
        for doc in docs:
            self._dirty = True
            self._inner.delete_documents_by_term("key", doc.key)
            self._inner.add_document(_document(doc))
            n += 1
        return n

    def delete(self, keys: Iterable[str]) -> int:
        """Delete by key; the number of keys given (Tantivy does not say how many existed)."""
        n = 0
        for key in keys:
            self._dirty = True
            self._inner.delete_documents_by_term("key", key)
            n += 1
        return n

    def commit(self, watermark: int) -> None:
        try:
            self._inner.commit()
            _write_atomically(self._gen.path / "watermark", str(watermark))
        except (ValueError, OSError) as exc:
            raise _broken(self._gen.path, exc) from exc
        self._dirty = False
        self._provider._committed(self._gen)

    def close(self) -> None:
        if self._dirty:
            self._inner.rollback()
        self._inner.wait_merging_threads()  # and release Tantivy's own lock


# -- results ------------------------------------------------------------------------------


def _stored(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, Any]:
    raw = searcher.doc(address).get_first("stored")
    if not isinstance(raw, bytes):
        raise ValueError("a record without its stored fields")
    data: dict[str, Any] = orjson.loads(raw)
    return data


def _hit(searcher: tantivy.Searcher, ranked: _Ranked) -> Hit:
    data = _stored(searcher, ranked.address)
    return Hit(
        key=data["key"],
        record_type=RecordType(data["record_type"]),
        record_id=data["record_id"],
        title=data["title"],
        score=ranked.score,
        language=data["language"],
        classification=data["classification"],
        owner_state=data["owner_state"],
        source_name=data["source_name"],
        year=data["year"],
        text=data["text"],
    )


def _count(found: tantivy.SearchResult) -> int:
    return int(found.count)  # type: ignore[attr-defined]  # missing from the binding's stubs


def _ranked(
    searcher: tantivy.Searcher, query: tantivy.Query, compiler: Compiler, request: SearchRequest
) -> tuple[int, list[_Ranked]]:
    """The total and the requested page, ordered by score and then by key.

    Tantivy orders equal scores by index position, so ties reaching into the page
    are ordered here. Records scoring 0 (matched by filters alone) come in key
    order straight from the index. Of ties above 0, at most ``TIE_CAP`` beyond the
    page are considered; any further tie (only in a very repetitive collection)
    is left out of the page in favour of the ones considered.
    """
    if request.limit == 0:
        return _count(searcher.search(query, limit=1, count=True)), []
    scoring = compiler.scoring(request.query)
    if scoring is None:  # every match scores 0
        found = searcher.search(
            query,
            limit=request.limit,
            offset=request.offset,
            count=True,
            order_by_field="key",
            order=tantivy.Order.Asc,
        )
        return _count(found), [_Ranked(0.0, a, k) for k, a in found.hits]
    end = request.offset + request.limit
    limit = end + 1 + TIE_PEEK
    found = searcher.search(query, limit=limit, count=True)
    hits = found.hits
    if len(hits) > end and hits[end][0] == hits[end - 1][0]:
        last = hits[end - 1][0]  # a tie crosses the page's end
        if last == 0.0:
            above = [_Ranked(s, a) for s, a in hits if s > 0.0]
            zeros = boolean([(Occur.Must, query), (Occur.MustNot, scoring)])
            more = searcher.search(
                zeros,
                limit=end - len(above),
                count=False,
                order_by_field="key",
                order=tantivy.Order.Asc,
            )
            ranked = above + [_Ranked(0.0, a, k) for k, a in more.hits]
        else:
            if len(hits) == limit and hits[-1][0] == last:
                hits = searcher.search(query, limit=end + TIE_CAP, count=False).hits
            ranked = [_Ranked(s, a) for s, a in hits if s >= last]
    else:
        ranked = [_Ranked(s, a) for s, a in hits[:end]]
    _order_ties(searcher, ranked, request.offset, end)
    return _count(found), ranked[request.offset : end]


def _order_ties(searcher: tantivy.Searcher, ranked: list[_Ranked], start: int, end: int) -> None:
    """Sort each run of equal scores that reaches into ``[start, end)`` by key, in place."""
    i = 0
    while i < len(ranked) and i < end:
        j = i + 1
        while j < len(ranked) and ranked[j].score == ranked[i].score:
            j += 1
        if j - i > 1 and j > start:
            ranked[i:j] = _by_key(searcher, ranked[i:j])
        i = j


def _by_key(searcher: tantivy.Searcher, run: list[_Ranked]) -> list[_Ranked]:
    if all(r.key is not None for r in run):
        return sorted(run, key=lambda r: r.key or "")
    addresses = [r.address for r in run]
    columns = [searcher.fast_field_values(name, addresses) for name in KEY_ORDER]
    orders = [tuple(int(v or 0) for v in values) for values in zip(*columns, strict=True)]
    shared = {o for o, n in Counter(orders).items() if n > 1}
    for r, order in zip(run, orders, strict=True):
        if order in shared and r.key is None:  # keys alike in their first 32 bytes
            r.key = str(_stored(searcher, r.address)["key"])
    ordered = sorted(zip(orders, run, strict=True), key=lambda p: (p[0], p[1].key or ""))
    return [r for _, r in ordered]


def _facets(
    searcher: tantivy.Searcher, query: tantivy.Query, facets: Sequence[Facet]
) -> dict[Facet, list[FacetValue]]:
    spec = {
        str(f): {
            "terms": {"field": FACET_FIELDS[f], "size": FACET_SIZE, "segment_size": FACET_SIZE}
        }
        for f in facets
    }
    found = searcher.aggregate(query, spec)
    result: dict[Facet, list[FacetValue]] = {}
    for f in facets:
        buckets = found.get(str(f), {}).get("buckets", [])
        values = [
            FacetValue(
                str(int(b["key"])) if f == Facet.YEAR else str(b["key"]), int(b["doc_count"])
            )
            for b in buckets
        ]
        result[f] = sorted(values, key=lambda v: (-v.count, v.value))
    return result


__all__ = ["TantivyProvider"]
