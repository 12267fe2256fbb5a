"""OCR with the real Tesseract: scanned pages and images come back as searchable text.

Each test reads a small image or two; the whole module runs in a few seconds.
"""

from __future__ import annotations

import pytesseract
import pytest
from archive_samples import CJK, SANS, image_bytes, scanned_pdf, text_image, tiff

from veritrail.archive import formats
from veritrail.archive.extract import extract
from veritrail.archive.formats import Limits
from veritrail.archive.mentions import find_mentions
from veritrail.archive.ocr import available_languages
from veritrail.errors import UnreadableFile

ENGLISH_LINES = [
    "Letter dated 11 December 2020 from the Permanent",
    "Representative of the Russian Federation addressed",
    "to the Secretary-General on resolution 2118 (2013).",
]
RUSSIAN_LINES = [
    "Письмо Постоянного представителя Российской",
    "Федерации от 11 декабря 2020 года на имя",
    "Генерального секретаря Организации Объединенных Наций.",
]
CHINESE_LINES = [
    "2020年12月11日俄罗斯联邦常驻联合国代表",
    "给秘书长的信。安全理事会第2118(2013)号决议",
    "的执行情况：维护禁止化学武器组织权威。",
]

pytestmark = pytest.mark.skipif(
    not {"eng", "rus", "chi_sim", "osd"} <= available_languages(),
    reason="Tesseract or its language models are not installed (make setup installs them)",
)


def test_the_models_for_the_six_languages_are_installed() -> None:
    assert {"ara", "chi_sim", "chi_tra", "eng", "fra", "rus", "spa", "osd"} <= (
        available_languages()
    )


def test_an_english_png_is_read_with_ocr() -> None:
    found = extract(image_bytes(text_image(ENGLISH_LINES)), "scan.png")
    assert found.media_type == formats.PNG
    assert found.ocr and found.pages[0].ocr
    assert found.language == "en"
    assert "Russian Federation" in found.text and "Secretary-General" in found.text
    mentions = find_mentions(found.text)
    assert "RUS" in mentions.states
    assert [r.number for r in mentions.resolutions] == [2118]


def test_a_chinese_png_is_read_with_the_simplified_chinese_model() -> None:
    image = text_image(CHINESE_LINES, font=CJK, size=40)
    found = extract(image_bytes(image), "scan.png")
    assert found.language == "zh"
    assert "俄罗斯联邦" in found.text
    mentions = find_mentions(found.text)
    assert "RUS" in mentions.states
    assert [(r.number, r.year) for r in mentions.resolutions] == [(2118, 2013)]


def test_every_page_of_a_tiff_is_read_in_its_own_language() -> None:
    pages = [text_image(RUSSIAN_LINES, font=SANS, size=32), text_image(ENGLISH_LINES, size=32)]
    calls: list[tuple[int, int]] = []
    found = extract(
        tiff(pages), "fax.tif", progress=lambda done, total: calls.append((done, total))
    )
    assert found.media_type == formats.TIFF
    assert [p.language for p in found.pages] == ["ru", "en"]
    assert "Российской" in found.pages[0].text
    assert "Secretary-General" in found.pages[1].text
    assert calls == [(1, 2), (2, 2)]
    assert found.languages[0] in ("ru", "en") and set(found.languages) == {"ru", "en"}


def test_a_scanned_pdf_page_without_a_text_layer_is_read_with_ocr() -> None:
    found = extract(scanned_pdf(text_image(ENGLISH_LINES)), "scan.pdf")
    assert found.media_type == formats.PDF
    assert found.ocr and found.pages[0].ocr
    assert "Russian Federation" in found.text


def test_a_blank_image_has_no_text_even_after_ocr() -> None:
    blank = text_image([])
    with pytest.raises(UnreadableFile, match="no text was found in the PNG image, even with OCR"):
        extract(image_bytes(blank), "blank.png")


def test_without_tesseract_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(UnreadableFile, match="Tesseract is not installed.*make setup") as caught:
        extract(image_bytes(text_image(ENGLISH_LINES[:1])), "scan.png")
    assert caught.value.details == {"reason": "ocr_not_installed"}


def test_ocr_that_runs_out_of_time_names_the_page() -> None:
    with pytest.raises(UnreadableFile, match="OCR\\) of page 1 of the PDF took longer than 0.01"):
        extract(
            scanned_pdf(text_image(ENGLISH_LINES)),
            "scan.pdf",
            limits=Limits(ocr_timeout_seconds=0.01),
        )
