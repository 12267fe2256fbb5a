"""Search speed on an archive of 1,000,000 records, each figure against SQLite FTS5 in the same run.

The archive is ``search_corpus``: documents in the six languages and
declarations, with words drawn from real text (see that module). Measured:

* indexing: ``rebuild`` of the Tantivy provider (the path of ``veritrail search
  reindex``) fed by the generator, records analysed one by one as the indexer
  does it, in documents per second end to end (goal: at least 2,000/s). The
  time spent making up the synthetic text and analysing it is reported too.
  Baseline: the same records (the same analysed tokens, space-joined) inserted
  into an SQLite FTS5 table plus a table of the facet fields.
* queries: a mix of one-word, two-word, phrase, OR, NOT and field-filtered
  queries in the six languages, common words and rare, each asked by a national
  authority's viewer and by an analyst, for the top 10 with two facets. Timed
  through the Python API as the search service runs it (``parse``, the reader's
  visibility, ``provider.search``, a snippet for each hit; the service adds
  only its access log): p50, p95 and max (goal: p95 at most 50 ms). Baseline:
  the same parsed queries on FTS5 (``MATCH`` over the same tokens, the
  visibility as a ``WHERE`` clause, ``ORDER BY bm25 LIMIT 10``, one ``GROUP BY``
  per facet) with the same parse and snippets. Both engines must agree on every
  total and facet count; the run says so.
* memory: peak resident memory (VmHWM) of a fresh process that opens the index
  and runs the query mix; it counts the index's memory-mapped pages it touched
  (goal: under 2 GB).

Usage::

    .venv/bin/python benchmarks/search.py [--docs 1000000] [--queries 200]
        [--rounds 2] [--workdir DIR] [--only index|query|memory]
        [--backend tantivy|postgresql] [--database-url URL]

With ``--workdir`` the index and the FTS5 database are kept there and reused by
later runs with the same ``--docs`` and ``--seed`` (``--only index`` rebuilds).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import itertools
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from search_corpus import (
    CHUNK,
    LANGUAGE_SHARES,
    REGIMES,
    chunk,
    entry,
    records,
    submitters,
    vocabulary,
)

from veritrail.access import Actor, Role
from veritrail.errors import VeritrailError
from veritrail.reference import all_states
from veritrail.search.model import (
    And,
    Branch,
    Facet,
    Filter,
    IndexDoc,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    SearchProvider,
    SearchRequest,
    Term,
    TextField,
    YearRange,
)
from veritrail.search.query import parse
from veritrail.search.snippets import snippet
from veritrail.search.visibility import visibility

GOAL_INDEX = 2_000  # documents per second
GOAL_P95 = 0.050  # seconds
GOAL_MEMORY = 2 * 1024**3  # bytes
FACET_PAIRS = ((Facet.LANGUAGE, Facet.YEAR), (Facet.STATE, Facet.CLASSIFICATION))
BATCH = 5_000


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- the archive, with the time spent making it up and analysing it -----------------------


@dataclass(slots=True)
class Clock:
    synthesis: float = 0.0
    analysis: float = 0.0


def cpu_seconds() -> float:
    """CPU time of this process so far, all its threads (Tantivy's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_docs(n: int, seed: int, clock: Clock, label: str) -> Iterator[IndexDoc]:
    """The archive's records analysed, with the time each step took; progress on the way."""
    source = records(n, seed)
    now = time.perf_counter
    start = now()
    step = max(100_000, n // 10)
    for i in itertools.count(1):
        t0 = now()
        record = next(source, None)
        t1 = now()
        if record is None:
            return
        doc = entry(record)
        clock.synthesis += t1 - t0
        clock.analysis += now() - t1
        yield doc
        if i % step == 0:
            print(f"  {label}: {i:,} records in {now() - start:,.0f} s", flush=True)


def fingerprint(n: int, seed: int, backend: str) -> str:
    """Changes when the generator or the analyser would index different terms, or the
    index's format changes."""
    module = "postgres_provider" if backend == "postgresql" else "tantivy_provider"
    layout = getattr(importlib.import_module(f"veritrail.search.{module}"), "FORMAT", "")
    digest = hashlib.sha256(f"{n}/{seed}/{backend}/{layout}".encode())
    for doc in map(entry, itertools.islice(records(n, seed), 0, 200)):
        digest.update("\x1f".join(doc.title_tokens + doc.body_tokens).encode())
    return digest.hexdigest()[:16]


# -- the baseline: SQLite FTS5 ------------------------------------------------------------

_FTS_SCHEMA = """
CREATE TABLE docs (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, record_type TEXT NOT NULL,
    language TEXT NOT NULL, classification TEXT NOT NULL, owner_state TEXT,
    group_id TEXT, year INTEGER, title TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE doc_states (doc_id INTEGER, value TEXT, PRIMARY KEY (doc_id, value)) WITHOUT ROWID;
CREATE TABLE doc_regimes (doc_id INTEGER, value TEXT, PRIMARY KEY (doc_id, value)) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, content='',
    tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);
"""
_FTS_FACETS = {
    Facet.TYPE: "d.record_type",
    Facet.LANGUAGE: "d.language",
    Facet.CLASSIFICATION: "d.classification",
    Facet.YEAR: "d.year",
}
_FTS_MULTI = {Facet.STATE: "doc_states", Facet.REGIME: "doc_regimes"}


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts_text(node: Node) -> str:
    """A text-only query tree as an FTS5 query expression over the same tokens."""
    match node:
        case Term(alternatives, where):
            expr = "(" + " OR ".join(map(_quoted, alternatives)) + ")"
        case Phrase(positions, where):
            phrases = itertools.islice(itertools.product(*positions), 64)
            expr = "(" + " OR ".join(_quoted(" ".join(p)) for p in phrases) + ")"
        case And(items):
            plus = [_fts_text(i) for i in items if not isinstance(i, Not)]
            minus = [_fts_text(i.item) for i in items if isinstance(i, Not)]
            expr = "(" + " AND ".join(plus) + ")"
            for m in minus:
                expr = f"({expr} NOT {m})"
            return expr
        case Or(items):
            return "(" + " OR ".join(map(_fts_text, items)) + ")"
        case _:
            raise ValueError(f"the FTS5 baseline cannot run {node!r} inside a text query")
    return f"title : {expr}" if where is TextField.TITLE else expr


def _fts_filter(node: Filter | YearRange, params: list[Any]) -> str:
    if isinstance(node, YearRange):
        params += [node.start, node.end]
        return "d.year BETWEEN ? AND ?"
    marks = ",".join("?" * len(node.values))
    if node.field == Facet.YEAR:
        params += [int(v) for v in node.values]
    else:
        params += list(node.values)
    if node.field in _FTS_FACETS:
        return f"{_FTS_FACETS[Facet(node.field)]} IN ({marks})"
    if node.field in _FTS_MULTI:
        table = _FTS_MULTI[Facet(node.field)]
        return f"EXISTS (SELECT 1 FROM {table} x WHERE x.doc_id = d.id AND x.value IN ({marks}))"
    raise ValueError(f"the FTS5 baseline has no filter on {node.field!r}")


def _fts_visibility(branches: Sequence[Branch], params: list[Any]) -> str:
    alternatives: list[str] = []
    for b in branches:
        parts = [
            "d.record_type = ?",
            f"d.classification IN ({','.join('?' * len(b.classifications))})",
        ]
        params += [b.record_type.value, *b.classifications]
        if b.owner_state is not None:
            parts.append("d.owner_state = ?")
            params.append(b.owner_state)
        if b.not_owner_state is not None:
            parts.append("(d.owner_state IS NULL OR d.owner_state <> ?)")
            params.append(b.not_owner_state)
        if b.groups is not None:
            parts.append(f"d.group_id IN ({','.join('?' * len(b.groups))})")
            params += list(b.groups)
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")" if alternatives else "0"


@dataclass(slots=True)
class Found:
    total: int
    hits: list[tuple[str, str, str]]  # title, text, language
    facets: dict[Facet, dict[str, int]] = field(default_factory=dict)


class Fts5:
    """The same records in SQLite FTS5: analysed tokens space-joined, facets in a table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-262144")  # 256 MB

    def count(self) -> int:
        try:
            return int(self.db.execute("SELECT count(*) FROM docs").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def build(self, docs: Iterator[IndexDoc]) -> int:
        self.db.executescript(
            "DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS doc_states; "
            "DROP TABLE IF EXISTS doc_regimes; DROP TABLE IF EXISTS fts;" + _FTS_SCHEMA
        )
        written = 0
        rows: list[tuple[Any, ...]] = []
        texts: list[tuple[int, str, str]] = []
        states: list[tuple[int, str]] = []
        regimes: list[tuple[int, str]] = []
        for i, doc in enumerate(docs, 1):
            rows.append(
                (i, doc.key, doc.record_type.value, doc.language, doc.classification,
                 doc.owner_state, doc.group_id, doc.year, doc.title, doc.text)
            )  # fmt: skip
            texts.append((i, " ".join(doc.title_tokens), " ".join(doc.body_tokens)))
            states += ((i, s) for s in doc.states)
            regimes += ((i, r) for r in doc.regimes)
            if len(rows) == BATCH:
                self._insert(rows, texts, states, regimes)
            written = i
        self._insert(rows, texts, states, regimes)
        return written

    def _insert(
        self, rows: list[Any], texts: list[Any], states: list[Any], regimes: list[Any]
    ) -> None:
        with self.db:
            self.db.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self.db.executemany("INSERT INTO fts (rowid, title, body) VALUES (?,?,?)", texts)
            self.db.executemany("INSERT INTO doc_states VALUES (?,?)", states)
            self.db.executemany("INSERT INTO doc_regimes VALUES (?,?)", regimes)
        for batch in (rows, texts, states, regimes):
            batch.clear()

    def search(self, node: Node, branches: Sequence[Branch], facets: Sequence[Facet]) -> Found:
        items = node.items if isinstance(node, And) else (node,)
        text = [i for i in items if not isinstance(i, Filter | YearRange | MatchAll)]
        params: list[Any] = []
        where = [_fts_visibility(branches, params)]
        where += [_fts_filter(i, params) for i in items if isinstance(i, Filter | YearRange)]
        if text:
            match = _fts_text(And(tuple(text)) if len(text) > 1 else text[0])
            source = "fts JOIN docs d ON d.id = fts.rowid"
            where.insert(0, "fts MATCH ?")
            params.insert(0, match)
            order = "bm25(fts, 2.0, 1.0)"
        else:
            source, order = "docs d", "d.key"
        clause = " AND ".join(where)
        hits = self.db.execute(
            f"SELECT d.title, d.text, d.language FROM {source} WHERE {clause} "
            f"ORDER BY {order} LIMIT 10",
            params,
        ).fetchall()
        found = Found(total=-1, hits=hits)
        for facet in facets:
            if facet in _FTS_MULTI:
                table = _FTS_MULTI[facet]
                sql = (
                    f"SELECT x.value, count(*) FROM {source} JOIN {table} x ON x.doc_id = d.id "
                    f"WHERE {clause} GROUP BY x.value"
                )
            else:
                column = _FTS_FACETS[facet]
                sql = f"SELECT {column}, count(*) FROM {source} WHERE {clause} GROUP BY {column}"
            counts = {str(v): c for v, c in self.db.execute(sql, params)}
            found.facets[facet] = counts
            if facet in _FTS_FACETS and None not in counts:
                found.total = sum(counts.values())  # single-valued: the buckets add up
        if found.total < 0:
            sql = f"SELECT count(*) FROM {source} WHERE {clause}"
            found.total = int(self.db.execute(sql, params).fetchone()[0])
        return found

    def close(self) -> None:
        self.db.close()


# -- the query mix ------------------------------------------------------------------------


def _word(rng: Random, language: str, seed: int, band: str) -> str:
    vocab = vocabulary(language, seed)
    common = vocab.rank_of(0.25)  # the few words that make up a quarter of the text
    middle = vocab.rank_of(0.75)
    low, high = {
        "common": (0, common),
        "medium": (common + 1, middle),
        "rare": (middle + 1, len(vocab.words) - 1),
    }[band]
    return vocab.words[rng.randint(low, max(low, high))]


def _phrase(rng: Random, n: int, seed: int, language: str) -> str:
    """Two or three words standing together in a record of the archive, in ``language``."""
    for _ in range(50):
        index = rng.randrange(max(1, n // CHUNK))
        candidates = [r for r in chunk(seed, index, min(CHUNK, n)) if r.language == language]
        if not candidates:
            continue
        text = rng.choice(candidates).text
        if language == "zh":
            start = rng.randrange(max(1, len(text) - 8))
            piece = "".join(c for c in text[start : start + rng.randint(4, 6)] if c.isalpha())
        else:
            words = text.split()
            start = rng.randrange(max(1, len(words) - 3))
            taken = words[start : start + rng.randint(2, 3)]
            piece = " ".join(w.strip(".") for w in taken)
        if len(piece) >= 2:
            return piece
    raise RuntimeError(f"no record in {language!r} to take a phrase from")


def query_mix(n: int, seed: int, count: int) -> list[str]:
    """``count`` queries as readers type them, cycling through the kinds of query."""
    rng = Random(seed * 7919 + count)
    languages = list(LANGUAGE_SHARES)
    weights = list(LANGUAGE_SHARES.values())
    states = [s.alpha3 for s in all_states()]
    kinds: list[Callable[[str], str]] = [
        lambda lang: _word(rng, lang, seed, "common"),
        lambda lang: _word(rng, lang, seed, "medium"),
        lambda lang: _word(rng, lang, seed, "rare"),
        lambda lang: f"{_word(rng, lang, seed, 'common')} {_word(rng, lang, seed, 'medium')}",
        lambda lang: f"{_word(rng, lang, seed, 'medium')} {_word(rng, lang, seed, 'rare')}",
        lambda lang: f'"{_phrase(rng, n, seed, lang)}"',
        lambda lang: f"{_word(rng, lang, seed, 'medium')} OR {_word(rng, lang, seed, 'rare')}",
        lambda lang: (
            f"({_word(rng, lang, seed, 'medium')} OR {_word(rng, lang, seed, 'medium')}) "
            f"{_word(rng, lang, seed, 'common')}"
        ),
        lambda lang: f"{_word(rng, lang, seed, 'common')} -{_word(rng, lang, seed, 'common')}",
        lambda lang: (
            f"{_word(rng, lang, seed, 'medium')} lang:{lang} "
            f"year:{(y := rng.randint(2000, 2020))}..{y + rng.randint(0, 5)}"
        ),
        lambda lang: (
            f"{_word(rng, lang, seed, 'common')} type:document "
            f"classification:public,restricted regime:{rng.choice(list(REGIMES))}"
        ),
        lambda lang: f"title:{_word(rng, lang, seed, 'medium')} state:{rng.choice(states)}",
        lambda lang: (
            f"{_word(rng, 'en', seed, 'medium')} type:declaration year:{rng.randint(2000, 2025)}"
        ),
    ]
    return [kinds[i % len(kinds)](rng.choices(languages, weights)[0]) for i in range(count)]


def readers() -> list[tuple[str, Actor]]:
    """National viewers of a large, a middling and a small submitter, and an analyst."""
    states = submitters()
    national = [
        (f"national ({code})", Actor(username=f"na-{code}", role=Role.NA_VIEWER, state=code))
        for code in (states[0], states[20], states[150])
    ]
    analyst = Actor(username="analyst", role=Role.ANALYST, groups=frozenset({"g-cwc-1", "g-bwc-1"}))
    return [*national, ("analyst", analyst)]


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    reader: str
    actor: Actor
    facets: tuple[Facet, ...]


def cases(n: int, seed: int, count: int) -> list[Case]:
    """Each query asked by a national viewer (in turn) and by the analyst."""
    people = readers()
    national, analyst = people[:-1], people[-1]
    out: list[Case] = []
    for i, text in enumerate(query_mix(n, seed, count)):
        for k, (label, actor) in enumerate((national[i % len(national)], analyst)):
            out.append(Case(text, label, actor, FACET_PAIRS[(i + k) % 2]))
    return out


# -- running a query both ways ------------------------------------------------------------


@dataclass(slots=True)
class Stages:
    parse: list[float] = field(default_factory=list)
    search: list[float] = field(default_factory=list)
    snippets: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)


def ours(provider: SearchProvider, case: Case, stages: Stages | None = None) -> Found:
    """The service's path: parse, visibility, provider search, snippets."""
    t0 = time.perf_counter()
    node = parse(case.text)
    t1 = time.perf_counter()
    request = SearchRequest(query=node, visibility=visibility(case.actor), facets=case.facets)
    result = provider.search(request)
    t2 = time.perf_counter()
    for hit in result.hits:
        snippet(hit.text, node, hit.language)
    t3 = time.perf_counter()
    if stages is not None:
        stages.parse.append(t1 - t0)
        stages.search.append(t2 - t1)
        stages.snippets.append(t3 - t2)
        stages.total.append(t3 - t0)
    return Found(
        total=result.total,
        hits=[(h.title, h.text, h.language) for h in result.hits],
        facets={f: {v.value: v.count for v in values} for f, values in result.facets.items()},
    )


def theirs(fts: Fts5, case: Case, stages: Stages | None = None) -> Found:
    """The same on FTS5: parse, the visibility in SQL, MATCH + bm25 + GROUP BY, snippets."""
    t0 = time.perf_counter()
    node = parse(case.text)
    t1 = time.perf_counter()
    found = fts.search(node, visibility(case.actor), case.facets)
    t2 = time.perf_counter()
    for _, text, language in found.hits:
        snippet(text, node, language)
    t3 = time.perf_counter()
    if stages is not None:
        stages.parse.append(t1 - t0)
        stages.search.append(t2 - t1)
        stages.snippets.append(t3 - t2)
        stages.total.append(t3 - t0)
    return found


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- the three measurements ---------------------------------------------------------------


@dataclass(slots=True)
class Setup:
    args: argparse.Namespace
    work: Path
    summary: list[str] = field(default_factory=list)

    @property
    def marker(self) -> Path:
        return self.work / "built.json"

    def built(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return {}
        return data

    def provider(self) -> SearchProvider:
        if self.args.backend == "postgresql":
            from sqlalchemy import create_engine

            from veritrail.search.postgres_provider import PostgresProvider

            return PostgresProvider(create_engine(self.args.database_url), prefix="bench_search_")
        from veritrail.search.tantivy_provider import TantivyProvider

        return TantivyProvider(self.work / "tantivy")

    def fts(self) -> Fts5:
        return Fts5(self.work / "fts5.sqlite3")


def answers(provider: SearchProvider) -> bool:
    """Whether the index can be searched by this version of the provider."""
    everyone = visibility(readers()[-1][1])
    try:
        provider.search(SearchRequest(MatchAll(), everyone, facets=tuple(Facet), limit=1))
    except (VeritrailError, ValueError) as exc:
        print(f"  the index left by an earlier run cannot be used ({exc}); rebuilding")
        return False
    return True


def bench_index(setup: Setup, force: bool) -> None:
    args = setup.args
    n, seed = args.docs, args.seed
    wanted = fingerprint(n, seed, args.backend)
    before = setup.built()
    provider, fts = setup.provider(), setup.fts()
    if (
        not force
        and before.get("fingerprint") == wanted
        and provider.count() == n
        and fts.count() == n
        and answers(provider)
    ):
        print(f"== indexing: reusing the {n:,}-record index and FTS5 database in {setup.work}")
        reused = list(before.get("summary", []))
        if reused:
            reused[0] += " [measured when the index was built]"
        setup.summary += reused
        fts.close()
        return
    print(f"== indexing {n:,} records ({args.backend}, then FTS5)", flush=True)
    clock = Clock()
    start, cpu = time.perf_counter(), cpu_seconds()
    written = provider.rebuild(timed_docs(n, seed, clock, args.backend), 0)
    ours_s, ours_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    assert written == n == provider.count(), (written, provider.count())
    base = Clock()
    start, cpu = time.perf_counter(), cpu_seconds()
    fts.build(timed_docs(n, seed, base, "FTS5"))
    theirs_s, theirs_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    fts.close()
    rate, base_rate = n / ours_s, n / theirs_s
    engine = ours_s - clock.synthesis - clock.analysis
    base_engine = theirs_s - base.synthesis - base.analysis
    lines = [
        f"indexing: {rate:,.0f} docs/s end to end (goal >= {GOAL_INDEX:,}: "
        f"{met(rate >= GOAL_INDEX)}); FTS5 {base_rate:,.0f} docs/s; "
        f"ratio {rate / base_rate:.2f}x (docs/s, ours over FTS5's)",
        f"  {args.backend} {ours_s:,.0f} s = synthetic text {clock.synthesis:,.0f} s + analysis "
        f"{clock.analysis:,.0f} s + the rest {engine:,.0f} s; FTS5 {theirs_s:,.0f} s = "
        f"{base.synthesis:,.0f} s + {base.analysis:,.0f} s + {base_engine:,.0f} s",
        f"  without making up the text (not the indexer's work): about "
        f"{n / (ours_s - clock.synthesis):,.0f} docs/s; FTS5 about "
        f"{n / (theirs_s - base.synthesis):,.0f} docs/s",
        f"  CPU time of the process: {args.backend} {ours_cpu:,.0f} s ({ours_cpu / ours_s:.1f} "
        f"cores busy on average), FTS5 {theirs_cpu:,.0f} s ({theirs_cpu / theirs_s:.1f})",
    ]
    for line in lines:
        print(line)
    setup.summary += lines
    setup.marker.write_text(json.dumps({"fingerprint": wanted, "summary": lines}))


def bench_queries(setup: Setup) -> None:
    args = setup.args
    provider, fts = setup.provider(), setup.fts()
    if provider.count() != args.docs or fts.count() != args.docs:
        raise SystemExit(f"no {args.docs:,}-record index in {setup.work}: run the indexing first")
    todo = cases(args.docs, args.seed, args.queries)
    print(f"== {len(todo):,} searches ({args.queries:,} queries x 2 readers), top 10, two facets")
    disagree: list[str] = []
    for case in todo:  # warm-up, and the check that both engines count alike
        a, b = ours(provider, case), theirs(fts, case)
        if a.total != b.total or a.facets != b.facets:
            disagree.append(f"{case.text!r} as {case.reader}: totals {a.total} and {b.total}")
    mine, base = Stages(), Stages()
    timed: list[Case] = []
    rng = Random(args.seed)
    for _ in range(args.rounds):  # interleaved, so drift hits both alike
        order = list(todo)
        rng.shuffle(order)
        for case in order:
            ours(provider, case, mine)
            theirs(fts, case, base)
        timed += order
    fts.close()
    p95, b95 = quantile(mine.total, 0.95), quantile(base.total, 0.95)
    stages = ", ".join(
        f"{name} {ms(quantile(getattr(mine, name), 0.95))}"
        for name in ("parse", "search", "snippets")
    )
    lines = [
        f"queries: p50 {ms(statistics.median(mine.total))}, p95 {ms(p95)}, max "
        f"{ms(max(mine.total))} over {len(mine.total):,} searches (goal p95 <= "
        f"{ms(GOAL_P95)}: {met(p95 <= GOAL_P95)}); FTS5 p50 {ms(statistics.median(base.total))}, "
        f"p95 {ms(b95)}, max {ms(max(base.total))}; ratio {p95 / b95:.2f}x (p95, ours over FTS5's)",
        f"  p95 by stage: {stages}; FTS5 search alone p95 {ms(quantile(base.search, 0.95))}",
        f"  totals and facet counts: both engines agree on {len(todo) - len(disagree):,} "
        f"of {len(todo):,} searches",
    ]
    slowest = sorted(zip(mine.total, timed, strict=True), key=lambda p: -p[0])
    for line in lines:
        print(line)
    for seconds, case in slowest[:5]:
        facets = "+".join(f.value for f in case.facets)
        print(f"  slow: {ms(seconds)} {case.text!r} as {case.reader}, facets {facets}")
    for line in disagree[:10]:
        print(f"  DISAGREE: {line}")
    setup.summary += lines


def child_memory(args: argparse.Namespace) -> None:
    """In a fresh process: open the index, run the query mix, report peak memory."""
    setup = Setup(args, Path(args.workdir))
    provider = setup.provider()
    for case in cases(args.docs, args.seed, args.queries):
        ours(provider, case)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    kib = {k: int(status[k].split()[0]) for k in ("VmHWM", "RssAnon", "RssFile")}
    print(json.dumps(kib))


def bench_memory(setup: Setup) -> None:
    args = setup.args
    print("== memory of a fresh query process")
    command = [
        sys.executable, __file__, "--memory-child", "--workdir", str(setup.work),
        "--docs", str(args.docs), "--seed", str(args.seed), "--queries", str(args.queries),
        "--backend", args.backend,
    ]  # fmt: skip
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the query process failed:\n{done.stderr}")
    kib = json.loads(done.stdout.strip().splitlines()[-1])
    peak = kib["VmHWM"] * 1024
    line = (
        f"memory: peak RSS {peak / 1024**2:,.0f} MB (goal < {GOAL_MEMORY / 1024**3:.0f} GB: "
        f"{met(peak < GOAL_MEMORY)}); at the end {kib['RssAnon'] / 1024:,.0f} MB own, "
        f"{kib['RssFile'] / 1024:,.0f} MB of mapped files (the index)"
    )
    print(line)
    setup.summary.append(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the searches")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("index", "query", "memory"))
    parser.add_argument("--backend", choices=("tantivy", "postgresql"), default="tantivy")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("VERITRAIL_BENCH_DATABASE_URL"),
        help="for --backend postgresql (postgresql+psycopg://…)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="Keep the index and FTS5 database here and reuse them."
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend == "postgresql" and not args.database_url:
        parser.error("--backend postgresql needs --database-url (or VERITRAIL_BENCH_DATABASE_URL)")
    if args.memory_child:
        child_memory(args)
        return
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores; load average before the run {load}")
    with tempfile.TemporaryDirectory(prefix="veritrail-bench-search-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        setup = Setup(args, work)
        if args.only in (None, "index"):
            bench_index(setup, force=args.only == "index")
        if args.only in (None, "query"):
            bench_queries(setup)
        if args.only in (None, "memory"):
            bench_memory(setup)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"== summary ({args.docs:,} records, {args.backend}, {os.cpu_count()} cores; "
            f"load average at the end {load})"
        )
        for line in setup.summary:
            print(line)


if __name__ == "__main__":
    main()
