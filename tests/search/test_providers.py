"""Both search providers against each other and against a plain Python reading of the rules.

Every test runs on Tantivy and on PostgreSQL (when ``VERITRAIL_TEST_DATABASE_URL``
is set). The property test at the end draws records, access policies and query
trees, and checks totals, hit keys, hit order and facet counts against
:func:`reference_matches` and :func:`reference_visible`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from veritrail.errors import IndexBusy, StorageError
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
    RecordType,
    SearchProvider,
    SearchRequest,
    SearchResult,
    Term,
    TextField,
    Visibility,
    YearRange,
)
from veritrail.search.postgres_provider import PostgresProvider
from veritrail.search.tantivy_provider import TantivyProvider

DOCUMENT = RecordType.DOCUMENT
DECLARATION = RecordType.DECLARATION
CLASSIFICATIONS = ("public", "restricted", "protected")
EVERYONE: Visibility = (
    Branch(DOCUMENT, CLASSIFICATIONS),
    Branch(DECLARATION, CLASSIFICATIONS),
)


def entry(
    key: str,
    title: str = "",
    body: str = "",
    *,
    classification: str = "public",
    owner_state: str | None = None,
    group_id: str | None = None,
    **fields: Any,
) -> IndexDoc:
    """A record whose tokens are its title and body split on spaces."""
    record_type, record_id = key.split(":", 1)
    return IndexDoc(
        key=key,
        record_type=RecordType(record_type),
        record_id=record_id,
        title=title,
        text=body,
        title_tokens=tuple(title.split()),
        body_tokens=tuple(body.split()),
        language=fields.pop("language", "en"),
        classification=classification,
        owner_state=owner_state,
        group_id=group_id,
        updated_at=datetime(2024, 5, 1, tzinfo=UTC),
        **fields,
    )


# -- providers ----------------------------------------------------------------------------


@pytest.fixture(params=["tantivy", pytest.param("postgresql", marks=pytest.mark.postgres)])
def open_provider(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Opens a provider on this test's own index; each call is a fresh instance on it."""
    if request.param == "tantivy":
        yield lambda: TantivyProvider(tmp_path / "index")
        return
    base: Engine | None = request.getfixturevalue("postgres_engine")
    if base is None:
        pytest.skip("PostgreSQL not configured: set VERITRAIL_TEST_DATABASE_URL")
    # No sequential scans: the tsvector and array indexes must give the same answers.
    engine = create_engine(base.url, connect_args={"options": "-c enable_seqscan=off"})
    prefix = f"search_{uuid.uuid4().hex[:10]}_"
    yield lambda: PostgresProvider(engine, prefix=prefix)
    with engine.begin() as conn:
        for table in ("entries", "entries_new", "meta"):
            conn.execute(text(f"DROP TABLE IF EXISTS {prefix}{table}"))
    engine.dispose()


@pytest.fixture
def provider(open_provider: Callable[[], SearchProvider]) -> SearchProvider:
    return open_provider()


def load(provider: SearchProvider, *docs: IndexDoc, watermark: int = 1) -> None:
    with provider.writer() as writer:
        writer.upsert(docs)
        writer.commit(watermark)


def find(
    provider: SearchProvider,
    query: Node,
    visibility: Visibility = EVERYONE,
    **options: Any,
) -> SearchResult:
    return provider.search(SearchRequest(query, visibility, **options))


def keys(result: SearchResult) -> list[str]:
    return [hit.key for hit in result.hits]


def term(*alternatives: str, field: TextField = TextField.ANY) -> Term:
    return Term(alternatives, field)


def phrase(*words: str, field: TextField = TextField.ANY) -> Phrase:
    """A phrase of words; ``a|b`` is a position with two alternatives."""
    return Phrase(tuple(tuple(w.split("|")) for w in words), field)


# -- the query language -------------------------------------------------------------------

CORPUS = (
    entry(
        "document:1",
        "annual report",
        "chemical weapons destroyed in 2019",
        states=("FRA", "DEU"),
        regimes=("cwc",),
        symbols=("S/2020/1197",),
        year=2019,
    ),
    entry(
        "document:2",
        "inspection",
        "weapons chemical stockpile declared",
        states=("FRA",),
        regimes=("cwc",),
        year=2020,
        language="fr",
    ),
    entry(
        "declaration:3",
        "aggregate national data",
        "phosgene production chemical",
        states=("USA",),
        regimes=("cwc", "npt"),
        year=2021,
        classification="restricted",
    ),
    entry("document:4", "misc", "unrelated text", year=None),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (MatchAll(), ["declaration:3", "document:1", "document:2", "document:4"]),
        (term("chemical"), ["declaration:3", "document:1", "document:2"]),
        (term("stockpile", "phosgene"), ["declaration:3", "document:2"]),
        (term("report", field=TextField.TITLE), ["document:1"]),
        (term("chemical", field=TextField.TITLE), []),
        (phrase("chemical", "weapons"), ["document:1"]),
        (phrase("weapons", "chemical"), ["document:2"]),
        (phrase("chemical|weapons", "weapons|stockpile"), ["document:1", "document:2"]),
        (phrase("report", "chemical"), []),  # the end of the title does not run into the body
        (phrase("annual", "report", field=TextField.TITLE), ["document:1"]),
        (phrase("nothing"), []),
        (Phrase((), TextField.ANY), []),
        (Filter(Facet.TYPE, ("declaration",)), ["declaration:3"]),
        (Filter(Facet.STATE, ("DEU", "USA")), ["declaration:3", "document:1"]),
        (Filter(Facet.REGIME, ("npt",)), ["declaration:3"]),
        (Filter(Facet.LANGUAGE, ("fr",)), ["document:2"]),
        (Filter(Facet.YEAR, ("2019", "2021", "soon")), ["declaration:3", "document:1"]),
        (Filter(Facet.CLASSIFICATION, ("restricted",)), ["declaration:3"]),
        (Filter("symbol", ("S/2020/1197",)), ["document:1"]),
        (Filter(Facet.STATE, ()), []),
        (YearRange(2020, 2021), ["declaration:3", "document:2"]),
        (YearRange(2021, 2020), []),
        (And((term("chemical"), Filter(Facet.STATE, ("FRA",)))), ["document:1", "document:2"]),
        (And((term("chemical"), Not(term("stockpile")))), ["declaration:3", "document:1"]),
        (And((Not(term("chemical")),)), ["document:4"]),
        (Not(Filter(Facet.STATE, ("FRA",))), ["declaration:3", "document:4"]),
        (Not(YearRange(2000, 2100)), ["document:4"]),  # no year is outside any range
        (Or((term("phosgene"), Not(term("chemical")))), ["declaration:3", "document:4"]),
        (Or((term("phosgene"), Filter(Facet.LANGUAGE, ("fr",)))), ["declaration:3", "document:2"]),
        (And(()), ["declaration:3", "document:1", "document:2", "document:4"]),
        (Or(()), []),
        (Not(term("")), ["declaration:3", "document:1", "document:2", "document:4"]),
    ],
)
def test_every_kind_of_query_node(
    provider: SearchProvider, query: Node, expected: list[str]
) -> None:
    load(provider, *CORPUS)
    result = find(provider, query, limit=10)
    assert result.total == len(expected)
    assert sorted(keys(result)) == expected


def test_tokens_are_taken_verbatim(provider: SearchProvider) -> None:
    odd = ("Ab", "x'y", "back\\slash", "中文", "ÉTÉ", "a.b", "(q)", "S/2020/1", "tab\there", "")
    doc = IndexDoc(
        key="document:odd",
        record_type=DOCUMENT,
        record_id="odd",
        title="odd",
        text="odd",
        title_tokens=(),
        body_tokens=odd,
        language="und",
        classification="public",
        owner_state=None,
        group_id=None,
        updated_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    load(provider, doc)
    for token in odd[:-1]:
        assert find(provider, term(token)).total == 1, token
    for a, b in pairwise(odd[:-1]):
        assert find(provider, Phrase(((a, "zzz"), (b,)))).total == 1, (a, b)
    assert find(provider, term("ab")).total == 0  # nothing is lower-cased
    assert find(provider, term("tab")).total == 0  # a token is never split
    assert find(provider, Phrase((("tab\there",), ("Ab",)))).total == 0  # "" kept its position


def test_title_matches_rank_higher(provider: SearchProvider) -> None:
    load(
        provider,
        entry("document:a", "other words here", "sarin mentioned in the body"),
        entry("document:b", "sarin in the title", "other words here ok"),
    )
    assert keys(find(provider, term("sarin"))) == ["document:b", "document:a"]


def test_facets_count_every_visible_match_not_just_the_page(provider: SearchProvider) -> None:
    load(provider, *CORPUS)
    result = find(provider, term("chemical"), facets=tuple(Facet), limit=1)
    assert result.total == 3 and len(result.hits) == 1
    counted = {f: [(v.value, v.count) for v in values] for f, values in result.facets.items()}
    assert counted == {
        Facet.TYPE: [("document", 2), ("declaration", 1)],
        Facet.STATE: [("FRA", 2), ("DEU", 1), ("USA", 1)],
        Facet.REGIME: [("cwc", 3), ("npt", 1)],
        Facet.LANGUAGE: [("en", 2), ("fr", 1)],
        Facet.YEAR: [("2019", 1), ("2020", 1), ("2021", 1)],
        Facet.CLASSIFICATION: [("public", 2), ("restricted", 1)],
    }
    public = (Branch(DOCUMENT, ("public",)), Branch(DECLARATION, ("public",)))
    hidden = find(provider, term("chemical"), public, facets=(Facet.REGIME,))
    assert hidden.total == 2
    assert [(v.value, v.count) for v in hidden.facets[Facet.REGIME]] == [("cwc", 2)]


def test_pages_and_ties_follow_score_then_key(provider: SearchProvider) -> None:
    long = "document:" + "x" * 40  # keys alike in their first 32 bytes
    names = ("q", "c", f"{long}2", "x", "a", f"{long}1", "m")
    same = [entry(f"document:{k}" if len(k) < 9 else k, "t", "alpha beta") for k in names]
    load(provider, *same, entry("document:top", "t", "alpha alpha"), entry("document:z", "t", "b"))
    ranked = keys(find(provider, term("alpha"), limit=10))
    assert ranked == ["document:top", *sorted(d.key for d in same)]
    never = And((term("alpha"), term("nowhere")))  # scores nothing: every match scores 0
    for query in (
        term("alpha"),
        MatchAll(),
        Or((term("alpha"), MatchAll())),
        Or((MatchAll(), never)),
    ):
        full = keys(find(provider, query, limit=20))
        paged = [
            k
            for start in range(0, 8, 3)
            for k in keys(find(provider, query, offset=start, limit=3))
        ]
        assert paged == full
        again = find(provider, query, offset=2, limit=2)
        assert keys(again) == full[2:4] and again.total == len(full)
    assert keys(find(provider, MatchAll(), limit=3)) == ["document:a", "document:c", "document:m"]
    assert find(provider, MatchAll(), limit=0).hits == []
    assert find(provider, MatchAll(), limit=0).total == 9


def test_hits_carry_the_stored_fields(provider: SearchProvider) -> None:
    load(
        provider,
        entry(
            "declaration:9",
            "Title here",
            "body text",
            owner_state="FRA",
            year=2022,
            source_name="f.pdf",
        ),
    )
    (hit,) = find(provider, term("body")).hits
    assert (hit.record_type, hit.record_id, hit.title, hit.text) == (
        DECLARATION,
        "9",
        "Title here",
        "body text",
    )
    assert (hit.owner_state, hit.year, hit.source_name, hit.language) == (
        "FRA",
        2022,
        "f.pdf",
        "en",
    )
    assert hit.classification == "public" and hit.score > 0


# -- access -------------------------------------------------------------------------------


def test_visibility_is_part_of_the_query(provider: SearchProvider) -> None:
    load(
        provider,
        entry("declaration:fra", "d", "x", classification="protected", owner_state="FRA"),
        entry("declaration:deu", "d", "x", classification="protected", owner_state="DEU"),
        entry("document:sec", "d", "x", classification="protected"),
        entry("document:g1", "d", "x", classification="highly_protected", group_id="g1"),
        entry("document:g2", "d", "x", classification="highly_protected", group_id="g2"),
        entry("document:pub", "d", "x"),
    )

    def visible(*branches: Branch) -> list[str]:
        return sorted(keys(find(provider, term("x"), branches, limit=20)))

    assert visible() == []
    assert visible(Branch(DECLARATION, ("protected",), owner_state="FRA")) == ["declaration:fra"]
    assert visible(Branch(DECLARATION, ("protected",), not_owner_state="FRA")) == [
        "declaration:deu"
    ]
    assert visible(Branch(DOCUMENT, ("protected",), not_owner_state="FRA")) == ["document:sec"]
    assert visible(Branch(DOCUMENT, ("highly_protected",), groups=("g2", "g3"))) == ["document:g2"]
    assert visible(Branch(DOCUMENT, ("highly_protected",), groups=())) == []
    assert visible(Branch(DOCUMENT, ())) == []
    assert visible(Branch(DOCUMENT, ("public",)), Branch(DECLARATION, ("protected",))) == [
        "declaration:deu",
        "declaration:fra",
        "document:pub",
    ]
    nobody = find(provider, MatchAll(), (), facets=(Facet.TYPE,))
    assert (nobody.total, nobody.hits, nobody.facets) == (0, [], {Facet.TYPE: []})


# -- writing ------------------------------------------------------------------------------


def test_upsert_replaces_and_delete_removes(provider: SearchProvider) -> None:
    load(provider, entry("document:1", "old", "old words"), entry("document:2", "keep", "x"))
    load(provider, entry("document:1", "new", "new words"), watermark=2)
    assert provider.count() == 2
    assert find(provider, term("old")).total == 0
    assert keys(find(provider, term("new"))) == ["document:1"]
    with provider.writer() as writer:
        writer.upsert([entry("document:3", "a", "first"), entry("document:3", "a", "second")])
        writer.delete(["document:2", "document:missing"])
        writer.commit(3)
    assert sorted(keys(find(provider, MatchAll()))) == ["document:1", "document:3"]
    assert find(provider, term("first")).total == 0
    assert find(provider, term("second")).total == 1


def test_leaving_the_writer_without_commit_discards(provider: SearchProvider) -> None:
    load(provider, entry("document:1", "t", "kept"), watermark=4)
    with pytest.raises(RuntimeError), provider.writer() as writer:
        writer.upsert([entry("document:2", "t", "lost")])
        writer.delete(["document:1"])
        raise RuntimeError("interrupted")
    with provider.writer() as writer:
        writer.upsert([entry("document:3", "t", "also lost")])
    assert keys(find(provider, MatchAll())) == ["document:1"]
    assert provider.watermark() == 4


def test_watermark_survives_reopening(open_provider: Callable[[], SearchProvider]) -> None:
    first = open_provider()
    assert (first.watermark(), first.count()) == (0, 0)
    load(first, entry("document:1", "t", "b"), watermark=41)
    assert first.watermark() == 41
    again = open_provider()
    assert (again.watermark(), again.count()) == (41, 1)


def test_commits_reach_searchers_opened_earlier(
    open_provider: Callable[[], SearchProvider],
) -> None:
    searcher, writer = open_provider(), open_provider()
    assert find(searcher, MatchAll()).total == 0
    load(writer, entry("document:1", "t", "fresh"))
    assert keys(find(searcher, term("fresh"))) == ["document:1"]


def test_rebuild_swaps_in_a_new_index(
    open_provider: Callable[[], SearchProvider], tmp_path: Path
) -> None:
    searcher, builder = open_provider(), open_provider()
    load(builder, entry("document:old", "t", "old"), watermark=5)
    assert find(searcher, term("old")).total == 1
    docs = (entry(f"document:{i}", "t", f"new w{i}") for i in range(30))
    assert builder.rebuild(docs, 99) == 30
    assert find(searcher, term("old")).total == 0
    assert find(searcher, term("new")).total == 30
    assert (searcher.watermark(), searcher.count()) == (99, 30)
    load(searcher, entry("document:after", "t", "new"), watermark=100)
    assert (builder.count(), builder.watermark()) == (31, 100)
    if isinstance(builder, TantivyProvider):
        assert len([p for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")]) == 1


def test_rebuild_keeps_the_last_of_duplicate_keys(provider: SearchProvider) -> None:
    docs = [entry("document:1", "t", "first"), entry("document:1", "t", "second")]
    assert provider.rebuild(iter(docs), 1) == 2
    assert provider.count() == 1
    assert keys(find(provider, term("second"))) == ["document:1"]


def test_a_second_writer_is_refused(open_provider: Callable[[], SearchProvider]) -> None:
    first, second = open_provider(), open_provider()
    with first.writer() as writer:
        writer.upsert([entry("document:1", "t", "x")])
        with pytest.raises(IndexBusy):
            second.writer().__enter__()
        with pytest.raises(IndexBusy):
            second.rebuild(iter([]), 1)
        writer.commit(1)
    with second.writer() as writer:
        writer.commit(2)
    assert second.watermark() == 2


SECOND_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from veritrail.errors import IndexBusy
    from veritrail.search.tantivy_provider import TantivyProvider
    try:
        with TantivyProvider(Path(sys.argv[1])).writer():
            print("acquired")
    except IndexBusy:
        print("busy")
    """
)


def test_a_writer_in_another_process_is_refused(tmp_path: Path) -> None:
    provider = TantivyProvider(tmp_path / "index")

    def other_process() -> str:
        args = [sys.executable, "-c", SECOND_WRITER, str(tmp_path / "index")]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout.strip()

    with provider.writer():
        assert other_process() == "busy"
    assert other_process() == "acquired"


def test_a_broken_tantivy_index_asks_for_a_reindex(tmp_path: Path) -> None:
    provider = TantivyProvider(tmp_path / "index")
    load(provider, entry("document:1", "t", "x"))
    (tmp_path / "index" / "CURRENT").write_text("gen-999999")
    with pytest.raises(StorageError, match="veritrail search reindex"):
        TantivyProvider(tmp_path / "index").count()
    assert provider.rebuild(iter([entry("document:2", "t", "y")]), 7) == 1
    assert TantivyProvider(tmp_path / "index").count() == 1


def test_missing_postgres_tables_ask_for_a_reindex(
    open_provider: Callable[[], SearchProvider],
) -> None:
    provider = open_provider()
    if not isinstance(provider, PostgresProvider):
        pytest.skip("PostgreSQL only")
    load(provider, entry("document:1", "t", "x"))
    with provider.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {provider.entries}"))
    with pytest.raises(StorageError, match="veritrail search reindex"):
        find(provider, MatchAll())
    assert provider.rebuild(iter([entry("document:2", "t", "y")]), 7) == 1
    assert provider.count() == 1


# -- the reference ------------------------------------------------------------------------


def reference_values(doc: IndexDoc, field: str) -> set[str]:
    return {
        "type": {doc.record_type.value},
        "state": set(doc.states),
        "regime": set(doc.regimes),
        "language": {doc.language},
        "year": set() if doc.year is None else {str(doc.year)},
        "classification": {doc.classification},
        "symbol": set(doc.symbols),
    }[field]


def reference_matches(node: Node, doc: IndexDoc) -> bool:
    fields = (
        (doc.title_tokens,)
        if getattr(node, "field", None) == TextField.TITLE
        else (
            doc.title_tokens,
            doc.body_tokens,
        )
    )
    match node:
        case Term(alternatives):
            return any(t in alternatives for tokens in fields for t in tokens)
        case Phrase(positions):
            return bool(positions) and any(
                all(tokens[i + j] in alts for j, alts in enumerate(positions))
                for tokens in fields
                for i in range(len(tokens) - len(positions) + 1)
            )
        case Filter(field, values):
            return bool(reference_values(doc, str(field)) & set(values))
        case YearRange(start, end):
            return doc.year is not None and start <= doc.year <= end
        case And(items):
            return all(reference_matches(i, doc) for i in items)
        case Or(items):
            return any(reference_matches(i, doc) for i in items)
        case Not(item):
            return not reference_matches(item, doc)
        case MatchAll():
            return True
    raise AssertionError(node)


def reference_visible(doc: IndexDoc, visibility: Visibility) -> bool:
    return any(
        doc.record_type == b.record_type
        and doc.classification in b.classifications
        and (b.owner_state is None or doc.owner_state == b.owner_state)
        and (b.not_owner_state is None or doc.owner_state != b.not_owner_state)
        and (b.groups is None or doc.group_id in b.groups)
        for b in visibility
    )


def reference_facet(docs: list[IndexDoc], facet: Facet) -> list[tuple[str, int]]:
    counts = Counter(v for d in docs for v in reference_values(d, str(facet)))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def scored(node: Node) -> bool:
    """Whether the tree has a text leaf outside any Not, so that scores can differ."""
    match node:
        case Term() | Phrase():
            return True
        case And(items) | Or(items):
            return any(scored(i) for i in items)
    return False


# -- the property test --------------------------------------------------------------------

VOCABULARY = ("a", "b", "c", "d", "ÉTÉ", "中文", "x'y", "back\\slash", "a.b", "(q)", "S/1")
STATES = ("FRA", "DEU", "USA")
REGIMES = ("cwc", "npt")
SYMBOLS = ("S/1", "A/2")
YEARS = (2000, 2001, 2002, 2003)
GROUPS = ("g1", "g2")

# Some token lists recur, so that records tie on score.
tokens = st.one_of(
    st.sampled_from([("a", "b", "c"), ("c", "a"), ("a",), ()]),
    st.lists(st.sampled_from(VOCABULARY), max_size=7).map(tuple),
)
alternatives = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=2).map(tuple)
text_fields = st.sampled_from(TextField)
FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "type": ("document", "declaration"),
    "state": STATES,
    "regime": REGIMES,
    "language": ("en", "fr"),
    "year": tuple(map(str, YEARS)),
    "classification": CLASSIFICATIONS,
    "symbol": SYMBOLS,
}


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    field = draw(st.sampled_from(sorted(FILTER_VALUES)))
    values = draw(st.lists(st.sampled_from(FILTER_VALUES[field]), max_size=2))
    return Filter(Facet(field) if field != "symbol" else field, tuple(values))


leaves = st.one_of(
    st.builds(Term, alternatives, text_fields),
    st.builds(Phrase, st.lists(alternatives, max_size=3).map(tuple), text_fields),
    filters(),
    st.builds(YearRange, st.sampled_from(YEARS), st.sampled_from(YEARS)),
    st.just(MatchAll()),
)
queries = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(inner, max_size=3).map(lambda items: Or(tuple(items))),
        st.builds(Not, inner),
    ),
    max_leaves=6,
)
branches = st.builds(
    Branch,
    st.sampled_from(RecordType),
    st.lists(st.sampled_from(CLASSIFICATIONS), max_size=3, unique=True).map(tuple),
    st.none() | st.sampled_from(STATES),
    st.none() | st.sampled_from(STATES),
    st.none() | st.lists(st.sampled_from(GROUPS), max_size=2).map(tuple),
)
visibilities = st.one_of(st.just(EVERYONE), st.lists(branches, max_size=3).map(tuple))


@st.composite
def collections(draw: st.DrawFn) -> list[IndexDoc]:
    ids = draw(st.lists(st.integers(0, 999), min_size=1, max_size=10, unique=True))
    return [
        IndexDoc(
            key=f"{record_type.value}:{i}",
            record_type=record_type,
            record_id=str(i),
            title=f"record {i}",
            text=f"text {i}",
            title_tokens=draw(tokens),
            body_tokens=draw(tokens),
            language=draw(st.sampled_from(("en", "fr"))),
            classification=draw(st.sampled_from(CLASSIFICATIONS)),
            owner_state=draw(st.none() | st.sampled_from(STATES)),
            group_id=draw(st.none() | st.sampled_from(GROUPS)),
            updated_at=datetime(2024, 5, 1, tzinfo=UTC),
            states=tuple(draw(st.lists(st.sampled_from(STATES), max_size=3))),
            regimes=tuple(draw(st.lists(st.sampled_from(REGIMES), max_size=2))),
            symbols=tuple(draw(st.lists(st.sampled_from(SYMBOLS), max_size=2))),
            year=draw(st.none() | st.sampled_from(YEARS)),
        )
        for i in ids
        for record_type in [draw(st.sampled_from(RecordType))]
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=collections(), asked=st.lists(st.tuples(queries, visibilities), min_size=2, max_size=4))
def test_providers_agree_with_the_reference(
    provider: SearchProvider, docs: list[IndexDoc], asked: list[tuple[Node, Visibility]]
) -> None:
    provider.rebuild(iter(docs), 1)
    for query, visibility in asked:
        wanted = [
            d for d in docs if reference_visible(d, visibility) and reference_matches(query, d)
        ]
        expected = sorted(d.key for d in wanted)
        result = find(provider, query, visibility, facets=tuple(Facet), limit=50)
        assert result.total == len(expected)
        assert sorted(keys(result)) == expected
        for a, b in pairwise(result.hits):
            assert a.score > b.score or (a.score == b.score and a.key < b.key)
        if not scored(query):
            assert keys(result) == expected
        for facet in Facet:
            counted = [(v.value, v.count) for v in result.facets[facet]]
            assert counted == reference_facet(wanted, facet), facet
        page = find(provider, query, visibility, offset=1, limit=2)
        assert page.total == result.total
        assert keys(page) == keys(result)[1:3]
