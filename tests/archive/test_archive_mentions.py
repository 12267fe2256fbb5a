"""Mentions: symbols, resolutions, dates, states and chemicals, in the six languages."""

from __future__ import annotations

import datetime

import pytest
from archive_samples import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from veritrail.archive.mentions import Chemical, Mentions, Resolution, cas_is_valid, find_mentions
from veritrail.text.detect import detect_language

S, A = "S", "A"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("resolution 1540 (2004)", [Resolution(S, 1540, 2004)]),
        ("résolution 1540 (2004)", [Resolution(S, 1540, 2004)]),
        ("resolución 1540 (2004)", [Resolution(S, 1540, 2004)]),
        ("резолюция 1540 (2004)", [Resolution(S, 1540, 2004)]),
        ("во исполнение резолюции 2118 (2013)", [Resolution(S, 2118, 2013)]),
        ("القرار 1540 (2004)", [Resolution(S, 1540, 2004)]),
        ("قرار مجلس الأمن 2118 (2013)", [Resolution(S, 2118, 2013)]),
        ("第2118(2013)号决议", [Resolution(S, 2118, 2013)]),
        ("第 1540（2004）号决议", [Resolution(S, 1540, 2004)]),
        ("第２１１８（２０１３）号决议", [Resolution(S, 2118, 2013)]),
        ("第59/60号决议", [Resolution(A, 60, session=59)]),
        ("大会第 53/208 B 号决议", [Resolution(A, 208, session=53)]),
        ("General Assembly resolution 59/60", [Resolution(A, 60, session=59)]),
        ("resolution 2373 (XXII)", [Resolution(A, 2373, session=22)]),
        ("the Security Council endorsed, in resolution 2231, the plan", [Resolution(S, 2231)]),
        ("résolution 12", [Resolution(None, 12)]),
        ("the first session (document 1540 (2004))", []),
        ("第 1505 次全体会议", []),
    ],
)
def test_resolutions_in_every_language(text: str, expected: list[Resolution]) -> None:
    assert list(find_mentions(text).resolutions) == expected


def test_lists_of_resolutions_are_read_whole() -> None:
    english = "resolutions 1540 (2004), 1673 (2006), 1810 (2008) and 1977 (2011)"
    chinese = "第1540（2004）、1673（2006）、1810（2008）和1977（2011）号决议"
    numbers = [1540, 1673, 1810, 1977]
    for text in (english, chinese):
        assert [r.number for r in find_mentions(text).resolutions] == numbers


def test_symbols_are_normalised_and_give_their_resolutions() -> None:
    text = (
        "A/61/1028; S/2020/1197; CD/2141号文件; A/75/649–S/2020/1197; s/res/1; S/RES/1540 (2004); "
        "A/RES/59/60; CD/PV.1505; S/PV.8160; A/C.1/75/L.4; A/75/649/Add.1; and/or; A/B; S/25; "
        "https://undocs.org/ch/S/RES/2118(2013)"
    )
    found = find_mentions(text)
    assert found.symbols == (
        "A/61/1028",
        "A/75/649",
        "A/75/649/ADD.1",
        "A/C.1/75/L.4",
        "A/RES/59/60",
        "CD/2141",
        "CD/PV.1505",
        "S/2020/1197",
        "S/PV.8160",
        "S/RES/1540(2004)",
        "S/RES/2118(2013)",
    )
    assert found.resolutions == (
        Resolution(A, 60, session=59),
        Resolution(S, 1540, 2004),
        Resolution(S, 2118, 2013),
    )
    assert Resolution(S, 1540, 2004).symbol == "S/RES/1540(2004)"
    assert Resolution(A, 60, session=59).symbol == "A/RES/59/60"


@pytest.mark.parametrize(
    "text",
    [
        "11 December 2020",
        "December 11, 2020",
        "2020年12月11日",
        "2020 年 12 月 11 日",
        "２０２０年１２月１１日",
        "11 décembre 2020",
        "11 de diciembre de 2020",
        "11 декабря 2020 года",
        "11 كانون الأول/ديسمبر 2020",
        "١١ ديسمبر ٢٠٢٠",
        "2020-12-11",
    ],
)
def test_dates_in_every_language(text: str) -> None:
    assert find_mentions(f"Fait le {text}.").dates == (datetime.date(2020, 12, 11),)


def test_impossible_dates_and_longer_numbers_are_not_dates() -> None:
    assert find_mentions("31 February 2020, 111 December 2020, 2020-13-01").dates == ()


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("The Russian Federation and China", ("CHN", "RUS")),
        ("Romania and Nigeria", ("NGA", "ROU")),  # neither Oman nor the Niger
        ("the Niger", ("NER",)),
        ("Guinea-Bissau and Equatorial Guinea", ("GNB", "GNQ")),
        ("the Russia-Ukraine talks", ("RUS", "UKR")),
        ("the Democratic People's Republic of Korea", ("PRK",)),
        ("the Republic of Korea", ("KOR",)),
        ("the Democratic Republic of the Congo", ("COD",)),
        ("Côte d’Ivoire", ("CIV",)),
        ("la Fédération de Russie et les États-Unis d'Amérique", ("RUS", "USA")),
        ("la República Árabe Siria", ("SYR",)),
        ("Российской Федерации и Соединенных Штатов Америки", ("RUS", "USA")),
        ("с Китаем и Францией", ("CHN", "FRA")),
        ("Соединенного Королевства Великобритании и Северной Ирландии", ("GBR",)),
        ("الاتحاد الروسي والصين وللولايات المتحدة", ("CHN", "RUS", "USA")),
        ("俄罗斯联邦和中华人民共和国", ("CHN", "RUS")),
        ("白俄罗斯共和国", ("BLR",)),
        ("西班牙王国和哈萨克斯坦共和国", ("ESP", "KAZ")),
        ("发展中国家和拉美国家", ()),
        ("russia and chad, in lower case", ()),
        ("Northern Ireland", ()),
        ("دعم مالي", ()),
    ],
)
def test_states_by_name_in_every_language(text: str, states: tuple[str, ...]) -> None:
    assert find_mentions(text).states == states


def test_cas_check_digits() -> None:
    assert cas_is_valid("7664-39-3")
    assert not cas_is_valid("7664-39-4")
    assert cas_is_valid("107-44-8")


def test_chemicals_by_cas_number_and_by_name() -> None:
    text = (
        "Hydrogen fluoride 7664-39-3 (not 7664-39-4); sarin, 107-44-8; Mustard gas; 芥子气; "
        "环沙林; thiodiglycol; DMMP; vx in lower case is not VX's code"
    )
    found = {c.cas: c for c in find_mentions(text).chemicals}
    assert set(found) == {
        "7664-39-3",
        "107-44-8",
        "505-60-2",
        "329-99-7",
        "111-48-8",
        "756-79-6",
        "50782-69-9",
    }
    assert found["7664-39-3"] == Chemical("7664-39-3", None, None)
    assert found["107-44-8"].schedule == "1A"
    assert found["107-44-8"].name is not None and found["107-44-8"].name.startswith("Sarin")
    assert found["111-48-8"].schedule == "2B"
    assert find_mentions("VX").chemicals[0].cas == "50782-69-9"
    assert find_mentions("vx").chemicals == ()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the UN Chinese corpus is not on this machine")
class TestTheChineseUnCorpus:
    def mentions(self, name: str) -> Mentions:
        (path,) = CORPUS.glob(f"{name}_*.txt")
        return find_mentions(path.read_text(encoding="utf-8"))

    def test_the_letter_on_resolution_2118(self) -> None:
        found = self.mentions("000")
        assert {"A/75/649", "S/2020/1197", "S/RES/2118(2013)"} <= set(found.symbols)
        assert Resolution(S, 2118, 2013) in found.resolutions
        assert datetime.date(2020, 12, 11) in found.dates
        assert {"RUS", "CHN"} <= set(found.states)

    def test_the_security_council_debate(self) -> None:
        found = self.mentions("001")
        assert "S/2018/4" in found.symbols
        assert Resolution(S, 1540, 2004) in found.resolutions
        assert datetime.date(2018, 1, 2) in found.dates
        assert "KAZ" in found.states
        assert "SDN" not in found.states  # 努尔苏丹 is a name

    def test_the_conference_on_disarmament(self) -> None:
        found = self.mentions("002")
        assert {"CD/2141", "CD/PV.1505", "A/RES/73/27"} <= set(found.symbols)
        assert Resolution(A, 251, session=72) in found.resolutions
        assert {"BLR", "ESP"} <= set(found.states)

    def test_the_letter_on_resolution_1540(self) -> None:
        found = self.mentions("003")
        assert Resolution(S, 1540, 2004) in found.resolutions
        assert datetime.date(2016, 12, 15) in found.dates
        assert "ESP" in found.states

    def test_the_report_on_verification(self) -> None:
        found = self.mentions("004")
        assert "A/61/1028" in found.symbols
        assert Resolution(A, 60, session=59) in found.resolutions
        assert datetime.date(2004, 12, 3) in found.dates


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_mentions_and_a_language_without_error(text: str) -> None:
    found = find_mentions(text)
    assert list(found.states) == sorted(set(found.states))
    assert detect_language(text) in ("ar", "en", "es", "fr", "ru", "zh", "und")
