"""Snippets and highlights: what is marked, escaping, fragments, long texts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import UN_ZH_DOCS, needs_corpus
from veritrail.search.analyze import analyze, query_alternatives
from veritrail.search.query import parse
from veritrail.search.snippets import (
    ELLIPSIS,
    FIRST_STRETCH,
    SCAN_LIMIT,
    Snippet,
    highlight,
    query_terms,
    snippet,
)

DOCS = UN_ZH_DOCS
corpus = needs_corpus

FILLER = "Lorem ipsum dolor sit amet. "


def marked(segments: tuple[tuple[str, bool], ...]) -> list[str]:
    return [text for text, flag in segments if flag]


def test_query_terms_are_the_positive_terms() -> None:
    terms = query_terms(parse('"chemical weapons" OR sarin -tabun state:SYR'))
    assert set(query_alternatives("weapons")) <= terms
    assert "sarin" in terms
    assert not terms & set(query_alternatives("tabun"))
    assert query_terms(parse("state:SYR")) == frozenset()
    assert query_terms(parse("安全理事会")) == set(analyze("安全理事会", "zh"))


def test_html_marks_matches_and_escapes_the_text() -> None:
    text = "The <script>alert('x')</script> report on Chemical Weapons & sarin."
    result = snippet(text, parse("weapons sarin"), "en")
    assert result.html() == (
        "The &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; report on Chemical "
        "<mark>Weapons</mark> &amp; <mark>sarin</mark>."
    )
    assert result.plain() == text
    assert result.matched
    tricky = snippet("<b>sarin</b>", parse("b"), "en")
    assert "<b>" not in tricky.html() and "&lt;<mark>b</mark>&gt;" in tricky.html()


def test_whole_original_words_are_marked() -> None:
    text = "Inspections were inspected; an INSPECTOR came."
    assert marked(highlight(text, parse("inspect"), "en")) == ["Inspections", "inspected"]
    assert marked(highlight(text, parse("inspector"), "en")) == ["INSPECTOR"]


def test_phrases_are_marked_only_where_their_terms_stand_together() -> None:
    text = "chemical industry and weapons; chemical weapons, chemical\nweapons"
    segments = highlight(text, parse('"chemical weapons"'), "en")
    assert marked(segments) == ["chemical weapons", "chemical\nweapons"]
    assert "".join(t for t, _ in segments) == text


def test_negated_terms_are_not_marked() -> None:
    segments = highlight("sarin and tabun", parse("sarin -tabun"), "en")
    assert marked(segments) == ["sarin"]


def test_han_characters_under_matching_bigrams_are_marked() -> None:
    text = "安全局势与安\n全理事会的决议"
    segments = highlight(text, parse("安全理事会"), "zh")
    assert marked(segments) == ["安\n全理事会"]  # not the 安全 of 安全局势
    segments = highlight("安全理事會", parse("安全理事会"), "zh")  # traditional text
    assert marked(segments) == ["安全理事會"]


def test_snippet_tidies_whitespace_and_joins_broken_han_words() -> None:
    text = "大  会\n\n关于“安\n\n全理事会第 2118(2013)号决议”的   会议"
    result = snippet(text, parse("安全理事会"), "zh")
    assert result.plain() == "大会关于“安全理事会第 2118(2013)号决议”的会议"
    assert marked(result.segments) == ["安全理事会"]


def test_no_match_gives_the_opening() -> None:
    text = FILLER * 40
    result = snippet(text, parse("state:FRA"), "en", width=100)
    assert not result.matched
    assert result.plain().startswith("Lorem ipsum")
    assert result.plain().endswith(" " + ELLIPSIS)
    assert len(result.plain()) <= 103
    assert snippet("", parse("sarin"), "en") == Snippet(())
    assert snippet("short text", parse(""), "en").plain() == "short text"


def test_two_fragments_with_ellipses() -> None:
    text = FILLER * 20 + "Sarin was found. " + FILLER * 20 + "Tabun was found. " + FILLER * 20
    result = snippet(text, parse("sarin OR tabun"), "en", width=120, fragments=2)
    plain = result.plain()
    assert plain.startswith(ELLIPSIS + " ") and plain.endswith(" " + ELLIPSIS)
    assert plain.count(ELLIPSIS) == 3
    assert marked(result.segments) == ["Sarin", "Tabun"]
    assert len(plain) < 140


def test_the_densest_passage_is_chosen() -> None:
    text = (
        FILLER * 10 + "sarin. " + FILLER * 10 + "sarin and tabun, tabun and sarin. " + FILLER * 10
    )
    result = snippet(text, parse("sarin tabun"), "en", width=80, fragments=1)
    assert marked(result.segments) == ["sarin", "tabun", "tabun", "sarin"]


def test_words_are_not_cut_at_the_edges() -> None:
    text = FILLER * 10 + "sarin " + FILLER * 10
    plain = snippet(text, parse("sarin"), "en", width=60, fragments=1).plain()
    inner = plain.strip(ELLIPSIS + " ")
    words = set(FILLER.replace(".", "").split()) | {"sarin"}
    assert all(w.strip(".") in words for w in inner.split())


def test_long_texts_are_read_as_far_as_needed() -> None:
    late = FILLER * 4000 + "The sarin was found at the end."  # about 112,000 characters
    assert marked(snippet(late, parse("sarin"), "en").segments) == ["sarin"]
    beyond = FILLER * (SCAN_LIMIT // len(FILLER) + 10) + "sarin"
    assert not snippet(beyond, parse("sarin"), "en").matched


def test_a_phrase_across_stretches_is_found() -> None:
    for shift in range(-30, 30, 3):
        head = "x" * (FIRST_STRETCH + shift) + " "
        text = head + "alpha. beta gamma " + FILLER * 500
        assert marked(snippet(text, parse('"alpha beta"'), "en").segments) == ["alpha. beta"]


@corpus
def test_snippets_of_the_corpus() -> None:
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        result = snippet(text, parse("安全理事会 OR 化学武器 OR 核查"), "zh")
        assert result.matched, path.name
        for piece in marked(result.segments):
            assert piece in {"安全理事会", "化学武器", "核查"}, (path.name, piece)
        everything = highlight(text, parse("禁止化學武器組織"), "zh")
        assert "".join(t for t, _ in everything) == text


words = st.sampled_from(
    ["sarin", "Sarin", "tabun", "安全", "理事会", "安\n全", " ", "\n", ".", "<"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=40).map("".join), st.sampled_from(["sarin", "安全理事会", "x"]))
def test_highlight_covers_the_text_exactly(text: str, query: str) -> None:
    segments = highlight(text, parse(query), "en")
    assert "".join(t for t, _ in segments) == text
    assert all(t for t, _ in segments)
    result = snippet(text, parse(query), "en")
    assert "<" not in result.html().replace("<mark>", "").replace("</mark>", "")
