"""Language detection: scripts decide Chinese, Arabic and Russian; lingua decides the rest."""

from __future__ import annotations

import pytest
from archive_samples import AR, CORPUS, EN, ES, FR, RU, ZH

from veritrail.text.detect import detect_language, languages_by_share


@pytest.mark.parametrize(
    ("text", "language"),
    [(EN, "en"), (FR, "fr"), (ES, "es"), (RU, "ru"), (ZH, "zh"), (AR, "ar")],
)
def test_a_paragraph_in_each_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("General and complete disarmament", "en"),
        ("Adoption of the agenda", "en"),
        ("Désarmement général et complet", "fr"),
        ("Aprobación del orden del día", "es"),
        ("俄罗斯联邦", "zh"),
        ("Российская Федерация", "ru"),
    ],
)
def test_headings_are_judged_by_their_function_words(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text", ["", "   ", "12 345", "Annex", "S/2020/1197", "안녕하세요 세계 여러분"]
)
def test_too_little_text_or_another_script_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_web_addresses_do_not_make_a_chinese_text_english() -> None:
    text = (
        ZH + " https://www.youtube.com/watch?v=gCyPR4-HQ7s https://undocs.org/ch/S/RES/2118(2013)"
    )
    assert languages_by_share(text)[0][0] == "zh"
    assert [language for language, _ in languages_by_share(text)] == ["zh"]


def test_shares_of_a_mixed_text_add_up_by_letters() -> None:
    shares = dict(languages_by_share(EN + "\n\n" + FR + "\n\n" + ZH))
    assert set(shares) == {"en", "fr", "zh"}
    assert shares["en"] > shares["zh"]  # a Han character counts as one letter
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.02)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the UN Chinese corpus is not on this machine")
def test_the_chinese_un_documents_are_chinese() -> None:
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert detect_language(text) == "zh", path.name
        assert languages_by_share(text)[0][0] == "zh", path.name
