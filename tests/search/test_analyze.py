"""The analyser: Han bigrams, folding, stemming by script, offsets into the original text.

The Chinese cases run on the five real UN documents of the shared corpus
(``../shared/corpus/un-zh``), whose extracted text breaks lines inside words.
"""

from __future__ import annotations

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import UN_ZH_DOCS, needs_corpus
from veritrail.search.analyze import (
    MAX_TERM,
    Scan,
    Token,
    analyze,
    arabic_stem,
    boundary,
    boundary_before,
    first_mention,
    query_alternatives,
    query_positions,
    tokens,
)

DOCS = UN_ZH_DOCS
corpus = needs_corpus


def read(name: str) -> str:
    return next(p for p in DOCS if p.name.startswith(name)).read_text(encoding="utf-8")


def has_phrase(terms: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(terms[i : i + n] == phrase for i in range(len(terms) - n + 1))


# -- Chinese --------------------------------------------------------------------------------


def test_han_runs_give_characters_and_overlapping_bigrams_interleaved() -> None:
    assert analyze("安全理事会", "zh") == (
        ("安", "安全", "全", "全理", "理") + ("理事", "事", "事会", "会")
    )


def test_a_lone_han_character_is_its_own_term() -> None:
    assert analyze("核、生、化武器", "zh") == ("核", "生", "化", "化武", "武", "武器", "器")


def test_whitespace_between_han_characters_does_not_break_a_word() -> None:
    text = "关于“安\n\n全理事会第 2118(2013)号决议"
    toks = tokens(text, "zh")
    assert [t.term for t in toks][:7] == ["关", "关于", "于", "安", "安全", "全", "全理"]
    first = toks[4]
    assert text[first.start : first.end] == "安\n\n全"
    assert "2118" in [t.term for t in toks]
    assert "2013" in [t.term for t in toks]


def test_traditional_and_full_width_fold_like_simplified_and_half_width() -> None:
    assert analyze("安全理事會 禁止化學武器組織", "zh") == analyze(
        "安全理事会 禁止化学武器组织", "zh"
    )
    assert analyze("ＣＷＣ　Ｓ／２０２０／１１９７", "zh") == analyze("CWC S/2020/1197", "zh")
    assert query_positions("安全理事會") == query_positions("安全理事会")


def test_kangxi_radicals_from_pdf_extraction_fold_to_ideographs() -> None:
    assert analyze("⼈民", "zh") == analyze("人民", "zh") == ("人", "人民", "民")


def test_han_next_to_letters_and_digits_splits_runs() -> None:
    assert analyze("1540委员会", "zh") == ("1540", "委", "委员", "员", "员会", "会")
    assert analyze("OPCW组织", "zh") == ("opcw", "组", "组织", "织")


@corpus
def test_corpus_offsets_slice_the_original_and_match_analyze() -> None:
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        toks = tokens(text, "zh")
        assert tuple(t.term for t in toks) == analyze(text, "zh")
        for t in toks:
            piece = "".join(text[t.start : t.end].split())
            assert 0 <= t.start < t.end <= len(text)
            if len(t.term) == 2 and "\u4e00" <= t.term[0] <= "\u9fff":
                assert len(piece) == 2  # the two characters, whatever whitespace was between


@corpus
def test_corpus_words_broken_across_lines_still_form_phrases() -> None:
    text = read("000")
    assert "安\n\n全理事会" in text  # as the PDF's text layer has it
    terms = analyze(text, "zh")
    for query in ("安全理事会", "禁止化学武器组织", "阿里亚办法"):
        assert has_phrase(terms, tuple(p[0] for p in query_positions(query))), query


@corpus
def test_corpus_in_traditional_characters_gives_the_same_phrases() -> None:
    text = read("003")
    traditional = opencc.OpenCC("s2t").convert(text)
    assert traditional != text
    simplified, folded = analyze(text, "zh"), analyze(traditional, "zh")
    for query in ("非国家行为体", "大规模毁灭性武器", "安全理事会", "1540委员会"):
        phrase = tuple(p[0] for p in query_positions(query))
        assert has_phrase(simplified, phrase) and has_phrase(folded, phrase), query


# -- words ----------------------------------------------------------------------------------


def test_english_stems_and_keeps_numbers() -> None:
    assert analyze("Chemical Weapons", "en") == analyze("chemical weapon", "en")
    assert analyze("resolution 2118 (2013)", "en") == ("resolut", "2118", "2013")


def test_phrases_are_consecutive_positions() -> None:
    terms = analyze("The Chemical Weapons Convention, article VI.", "en")
    assert terms[1:4] == ("chemic", "weapon", "convent")
    assert analyze("A/RES/59/60", "en") == ("a", "res", "59", "60")


def test_french_spanish_and_accents() -> None:
    assert analyze("armes chimiques", "fr") == analyze("arme chimique", "fr") == ("arme", "chimiqu")
    assert analyze("désarmement", "fr") == analyze("DESARMEMENT", "fr")
    assert analyze("de\u0301sarmement", "fr") == analyze("désarmement", "fr")  # decomposed
    assert analyze("œuvre", "fr") == analyze("oeuvre", "fr")
    assert analyze("armas químicas", "es") == analyze("ARMAS QUIMICAS", "es")
    assert analyze("verificación", "es") == analyze("verificaciones", "es")


def test_russian_is_stemmed_whatever_the_document_language() -> None:
    assert analyze("химического оружия", "ru") == analyze("химическое оружие", "en")
    assert analyze("химического оружия", "und") == ("химическ", "оруж")


def test_latin_words_in_other_languages_use_english() -> None:
    assert analyze("weapons", "ru") == analyze("weapons", "zh") == analyze("weapons", "und")
    assert analyze("weapons", "ru") == ("weapon",)


def test_arabic_light_stemming() -> None:
    assert analyze("الأسلحة الكيميائية", "ar") == analyze("اسلحة كيميائية", "ar")
    assert analyze("الأسلحة الكيميائية", "ar") == ("اسلح", "كيميائ")
    assert analyze("والأسلحة", "ar") == analyze("أسلحة", "ar")
    assert analyze("٢٠٢٠", "ar") == ("2020",)  # Arabic-Indic digits


def test_arabic_stem_keeps_short_words() -> None:
    assert arabic_stem("ولد") == "ولد"  # a one-letter prefix needs four letters
    assert arabic_stem("في") == "في"  # two letters stay
    assert arabic_stem("المفتشين") == "مفتش"
    assert arabic_stem("اتفاقيه") == "اتفاق"


def test_pdf_soft_hyphens_and_joiners_stay_inside_words() -> None:
    assert analyze("verifi\u00adcation", "en") == analyze("verification", "en")


def test_long_tokens_are_dropped() -> None:
    assert analyze("a" * (MAX_TERM + 1) + " sarin", "en") == ("sarin",)
    assert len(analyze("b" * MAX_TERM, "en")) == 1


def test_punctuation_alone_gives_nothing() -> None:
    assert analyze("... — ; «» ()", "en") == ()
    assert tokens("", "en") == []


# -- query words ----------------------------------------------------------------------------


def test_query_alternatives_by_script() -> None:
    assert set(query_alternatives("armes")) == {"arm", "arme", "armes"}
    assert "weapon" in query_alternatives("Weapons")
    assert query_alternatives("оружия") == ("оруж",)
    assert query_alternatives("الأسلحة") == ("اسلح",)
    assert query_alternatives("2020") == ("2020",)
    assert query_alternatives("核") == ("核",)
    assert query_alternatives("化学武器") == ()  # several positions: not one word


def test_query_alternatives_cover_every_document_language() -> None:
    for word, language in [("armes", "fr"), ("weapons", "en"), ("armas", "es"), ("arms", "zh")]:
        assert analyze(word, language)[0] in query_alternatives(word)


def test_query_positions_of_mixed_text() -> None:
    positions = query_positions("non-proliferation")
    assert len(positions) == 2 and "non" in positions[0]
    assert query_positions("1540委员会") == (
        ("1540",),
        ("委",),
        ("委员",),
        ("员",),
        ("员会",),
        ("会",),
    )
    assert query_positions("!!") == ()


# -- scanning a stretch at a time -----------------------------------------------------------


def test_scan_in_stretches_equals_one_pass() -> None:
    text = ("Chemical weapons, 化学武器 and\n安全理事会; оружия " * 300).strip()
    whole = tokens(text, "en")
    scan, pos = Scan(text, "en"), 0
    while pos < len(text):
        stop = boundary(text, pos + 500)
        scan.add(pos, stop)
        pos = stop
    assert scan.tokens() == whole
    assert boundary_before(text, 1000) <= 1000


def test_first_mention_finds_the_earliest_possible_match() -> None:
    text = "Lorem ipsum " * 100 + "sarin " + "安全理事会"
    terms = frozenset({"sarin"})
    at = first_mention(text, "en", terms)
    assert at is not None and text[at:].startswith("sarin")
    assert first_mention(text, "en", frozenset({"tabun"})) is None
    at = first_mention(text, "zh", frozenset({"理事"}))
    assert at is not None and text[at:].startswith("安全理事会")


# -- properties -----------------------------------------------------------------------------

texts = st.text(
    alphabet=st.sampled_from(
        list("abcÉéß ½\n\t-/.,’'\u00ad\u0301") + list("安全理事會⼈〇") + list("оружияالأسلحة٢0")
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["en", "fr", "es", "ru", "ar", "zh", "und"]))
def test_tokens_slice_the_original_and_agree_with_analyze(text: str, language: str) -> None:
    toks = tokens(text, language)
    assert tuple(t.term for t in toks) == analyze(text, language)
    for t in toks:
        assert isinstance(t, Token)
        assert 0 <= t.start < t.end <= len(text)
        assert text[t.start : t.end].strip()
        assert 0 < len(t.term) <= MAX_TERM
        assert not any(c.isspace() for c in t.term)
