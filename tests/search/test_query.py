"""The query language: grammar, precedence, field filters, symbols, and every error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veritrail.errors import QuerySyntaxError
from veritrail.search.analyze import analyze, query_alternatives, query_positions
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
from veritrail.search.query import describe, parse


def term(word: str, field: TextField = TextField.ANY) -> Term:
    return Term(query_alternatives(word), field)


def phrase(text: str, field: TextField = TextField.ANY) -> Phrase:
    return Phrase(query_positions(text), field)


A, B, C = term("alpha"), term("beta"), term("gamma")


# -- grammar --------------------------------------------------------------------------------


def test_words_are_anded() -> None:
    assert parse("chemical weapons") == And((term("chemical"), term("weapons")))
    assert parse("Weapons") == Term(query_alternatives("weapons"))


def test_quoted_phrases() -> None:
    assert parse('"chemical weapons"') == phrase("chemical weapons")
    assert parse("“chemical weapons”") == phrase("chemical weapons")  # typographic quotes
    assert parse("« armes chimiques »") == phrase("armes chimiques")


def test_precedence_not_and_or() -> None:
    assert parse("alpha OR beta gamma") == Or((A, And((B, C))))
    assert parse("alpha beta OR gamma") == Or((And((A, B)), C))
    assert parse("NOT alpha beta") == And((Not(A), B))
    assert parse("alpha AND beta OR gamma") == Or((And((A, B)), C))
    assert parse("(alpha OR beta) gamma") == And((Or((A, B)), C))


def test_not_forms() -> None:
    expected = And((A, Not(B)))
    assert parse("alpha NOT beta") == expected
    assert parse("alpha AND NOT beta") == expected
    assert parse("alpha -beta") == expected
    assert parse('alpha -"chemical weapons"') == And((A, Not(phrase("chemical weapons"))))
    assert parse("alpha -(beta gamma)") == And((A, Not(And((B, C)))))
    assert parse("NOT -alpha") == A


def test_only_negative_parts_match_everything_else() -> None:
    assert parse("-alpha") == And((MatchAll(), Not(A)))
    assert parse("NOT alpha -beta") == And((MatchAll(), Not(A), Not(B)))
    assert parse("alpha OR -beta") == Or((A, And((MatchAll(), Not(B)))))


def test_lower_case_operators_are_words() -> None:
    assert parse("and or not") == And((term("and"), term("or"), term("not")))


def test_empty_and_punctuation_only_queries_match_everything() -> None:
    assert parse("") == MatchAll()
    assert parse("   \n") == MatchAll()
    assert parse("... — !") == MatchAll()
    assert parse("alpha ...") == A  # words that analyse to nothing are dropped


def test_words_with_several_terms_are_phrases() -> None:
    assert parse("non-proliferation") == phrase("non proliferation")
    assert parse("59/60") == Phrase((("59",), ("60",)))
    assert parse("1540委员会") == Phrase(
        (("1540",), ("委",), ("委员",), ("员",), ("员会",), ("会",))
    )


def test_chinese_query_runs_are_phrases_of_characters_and_bigrams() -> None:
    assert parse("安全理事会") == Phrase(tuple((t,) for t in analyze("安全理事会", "zh")))
    assert parse("核") == Term(("核",))
    assert parse("化学武器 核查") == And((phrase("化学武器"), Term(("核查",))))
    assert parse("武器") == Term(("武器",))  # a two-character word alone: its bigram


def test_query_text_is_folded_like_documents() -> None:
    assert parse("安全理事會") == parse("安全理事会")
    assert parse("ＣＷＣ　ｓａｒｉｎ") == parse("cwc sarin")
    assert parse("（ａｌｐｈａ　ＯＲ　ｂｅｔａ）") == Or((A, B))
    assert parse("الأسلحة") == parse("اسلحة")


def test_colons_that_are_not_fields_are_words() -> None:
    assert parse("12:30") == Phrase((("12",), ("30",)))
    assert parse("note: alpha") == And((term("note"), A))
    node = parse("http://undocs.org/en/S/2020/1197")
    assert isinstance(node, Phrase) and node.positions[0] == ("http",)


# -- field filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type:document", Filter(Facet.TYPE, ("document",))),
        ("type:Declaration", Filter(Facet.TYPE, ("declaration",))),
        ("state:FRA", Filter(Facet.STATE, ("FRA",))),
        ("state:fr", Filter(Facet.STATE, ("FRA",))),
        ("state:France", Filter(Facet.STATE, ("FRA",))),
        ("state:法国", Filter(Facet.STATE, ("FRA",))),
        ('state:"United Kingdom"', Filter(Facet.STATE, ("GBR",))),
        ("state:FRA,DEU", Filter(Facet.STATE, ("FRA", "DEU"))),
        ("regime:CWC", Filter(Facet.REGIME, ("cwc",))),
        ("lang:zh", Filter(Facet.LANGUAGE, ("zh",))),
        ("language:ZH", Filter(Facet.LANGUAGE, ("zh",))),
        ("year:2020", Filter(Facet.YEAR, ("2020",))),
        ("year:2018..2020", YearRange(2018, 2020)),
        ("year:2018..", YearRange(2018, 9999)),
        ("year:..2020", YearRange(1, 2020)),
        ("classification:public", Filter(Facet.CLASSIFICATION, ("public",))),
        ("classification:highly-protected", Filter(Facet.CLASSIFICATION, ("highly_protected",))),
        ("symbol:S/2020/1197", Filter("symbol", ("S/2020/1197",))),
        ("symbol:S/2020/1197.", Filter("symbol", ("S/2020/1197",))),
        ("symbol:S/2020/1197,A/61/1028", Filter("symbol", ("S/2020/1197", "A/61/1028"))),
        ("symbol:s/res/1540 (2004)", Filter("symbol", ("S/RES/1540(2004)",))),
        ('symbol:"A/RES/59/60"', Filter("symbol", ("A/RES/59/60",))),
        ("title:weapons", term("weapons", TextField.TITLE)),
        ('title:"chemical weapons"', phrase("chemical weapons", TextField.TITLE)),
        ("Ｔｙｐｅ：ｄｏｃｕｍｅｎｔ", Filter(Facet.TYPE, ("document",))),
    ],
)
def test_field_filters(query: str, expected: Node) -> None:
    assert parse(query) == expected


def test_filters_combine_with_words() -> None:
    assert parse("sarin state:SYR -year:2013") == And(
        (term("sarin"), Filter(Facet.STATE, ("SYR",)), Not(Filter(Facet.YEAR, ("2013",))))
    )
    assert parse("-type:declaration") == And(
        (MatchAll(), Not(Filter(Facet.TYPE, ("declaration",))))
    )


# -- UN document symbols ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "symbol"),
    [
        ("A/61/1028", "A/61/1028"),
        ("S/2020/1197", "S/2020/1197"),
        ("CD/2141", "CD/2141"),
        ("S/RES/1540 (2004)", "S/RES/1540(2004)"),
        ("S/RES/1540(2004)", "S/RES/1540(2004)"),
        ("A/RES/59/60", "A/RES/59/60"),
        ("Ｓ／２０２０／１１９７", "S/2020/1197"),
        ("s/2020/1197", "S/2020/1197"),
        ("E/CN.4/2005/1", "E/CN.4/2005/1"),
    ],
)
def test_bare_symbols_match_the_symbol_field_or_the_text(query: str, symbol: str) -> None:
    node = parse(query)
    assert isinstance(node, Or)
    assert node.items[0] == Filter("symbol", (symbol,))
    assert node.items[1] == Phrase(query_positions(symbol))


def test_symbols_among_words() -> None:
    node = parse("see S/2020/1197. sarin")
    assert isinstance(node, And) and len(node.items) == 3
    assert node.items[1] == Or((Filter("symbol", ("S/2020/1197",)), phrase("S/2020/1197")))
    node = parse("A/75/649–S/2020/1197")  # one document, two symbols
    assert isinstance(node, And)
    assert [n.items[0] for n in node.items if isinstance(n, Or)] == [
        Filter("symbol", ("A/75/649",)),
        Filter("symbol", ("S/2020/1197",)),
    ]
    assert not isinstance(parse("and/or"), Or)  # no digit: not a symbol


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "says"),
    [
        ("alpha OR", 6, "OR needs a search term after it"),
        ("OR alpha", 0, "OR needs a search term before it"),
        ("alpha AND OR beta", 6, "AND needs a search term after it"),
        ("alpha AND", 6, "AND needs a search term after it"),
        ("alpha NOT", 6, "NOT needs a search term after it"),
        ("alpha -)", 6, "'-' needs a search term after it"),
        ("(alpha beta", 0, "'(' is never closed"),
        ("alpha)", 5, "closes no '('"),
        ("alpha ( )", 6, "parentheses are empty"),
        ('alpha "beta', 6, "quotation mark is never closed"),
        ("foo:bar", 0, "Unknown field 'foo:'"),
        ("alpha colour:red", 6, "Fields are type, state"),
        ("state:", 0, "needs a value"),
        ("state:Atlantis", 0, "No state is known as 'Atlantis'"),
        ("type:file", 0, "use one of document, declaration"),
        ("lang:xx", 0, "use one of ar, en, es, fr, ru, zh"),
        ("classification:secret", 0, "highly_protected"),
        ("regime:c!w", 0, "not a regime code"),
        ("year:20x0", 0, "'20x0' is not a year"),
        ("year:2020..2018", 0, "ends before it starts"),
        ("year:1..2", 0, "not a range of years"),
        ("（ａｌｐｈａ", 0, "never closed"),
        ("ａｌｐｈａ ＯＲ", 6, "OR needs a search term after it"),
        ("ﬁre OR", 4, "OR needs"),  # positions count characters of the query as typed
    ],
)
def test_errors_say_what_and_where(query: str, position: int, says: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position
    assert says in caught.value.message
    assert f"(at character {position + 1})" in caught.value.message
    assert caught.value.as_dict()["position"] == position


def test_limits() -> None:
    with pytest.raises(QuerySyntaxError, match="1,001 characters") as caught:
        parse("a" * 1001)
    assert caught.value.position == 1000
    parse(" ".join(["w"] * 64))
    with pytest.raises(QuerySyntaxError, match="more than 64 terms") as caught:
        parse(" ".join(["w"] * 65))
    assert caught.value.position == 128


def test_describe_is_stable() -> None:
    node = parse('"chemical weapons" OR sarin -state:SYR year:2018..2020')
    assert describe(node) == (
        '("chemic|chemical weapon|weapons" OR (sarin AND NOT state:SYR AND year:2018..2020))'
    )
    assert describe(parse("")) == "*"


# -- properties -------------------------------------------------------------------------------


def _nots_are_guarded(node: Node, guarded: bool = False) -> bool:
    if isinstance(node, Not):
        return guarded and _nots_are_guarded(node.item)
    if isinstance(node, And):
        positive = any(not isinstance(n, Not) for n in node.items)
        return all(_nots_are_guarded(n, positive) for n in node.items)
    if isinstance(node, Or):
        return all(_nots_are_guarded(n) for n in node.items)
    return True


queries = st.lists(
    st.sampled_from(
        [" ", "(", ")", '"', "-", ":", "/", ".", ",", "a", "b", "1", "2", "0", "安", "全"]
        + ["AND ", "OR ", "NOT ", "state:", "year:", "type:", "title:", "S/2020/1197", "x:"]
        + ["“", "（", "２", "\u0301", "٢", "..", "FRA", "2020"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(queries)
def test_parse_raises_only_query_syntax_errors(query: str) -> None:
    try:
        node = parse(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)
        return
    assert _nots_are_guarded(node)
    assert isinstance(describe(node), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parse_never_fails_otherwise_on_any_text(query: str) -> None:
    try:
        parse(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)
