"""Reading archive files with a text layer: PDF, Word, web pages, e-mail, Markdown, text."""

from __future__ import annotations

import datetime

import pytest
from archive_samples import EN, ES, FR, RU, ZH, email, pdf, word

from veritrail.archive import formats
from veritrail.archive.extract import extract, markdown_title
from veritrail.archive.mentions import find_mentions

UTC = datetime.UTC


def test_a_pdf_gives_each_page_its_language_and_the_metadata() -> None:
    data = pdf(
        [EN, FR, ES, RU, ZH, EN],
        title="Arria-formula meeting",
        author="Permanent Mission",
        created=datetime.datetime(2020, 12, 11, 9, 30, tzinfo=UTC),
    )
    calls: list[tuple[int, int]] = []
    found = extract(data, "letter.pdf", progress=lambda done, total: calls.append((done, total)))
    assert found.media_type == formats.PDF
    assert [p.language for p in found.pages] == ["en", "fr", "es", "ru", "zh", "en"]
    assert [p.number for p in found.pages] == [1, 2, 3, 4, 5, 6]
    assert not found.ocr and not any(p.ocr for p in found.pages)
    assert (found.title, found.author) == ("Arria-formula meeting", "Permanent Mission")
    assert found.date == datetime.date(2020, 12, 11)
    assert found.language == "en"  # two pages of it: the most characters
    assert found.languages[0] == "en"
    assert set(found.languages) == {"en", "fr", "es", "ru", "zh"}
    assert calls == [(n, 6) for n in range(1, 7)]
    assert "第2118(2013)号决议" in found.pages[4].text
    assert found.text == "\n\n".join(p.text for p in found.pages)
    assert "RUS" in find_mentions(found.text).states


def test_a_word_document_reads_paragraphs_and_tables_in_order() -> None:
    data = word(
        ["Declaration of chemical weapons production facilities", EN],
        [["Chemical", "CAS"], ["Sarin", "107-44-8"], ["Thiodiglycol", "111-48-8"]],
        title="Initial declaration",
        author="National Authority",
        created=datetime.datetime(2021, 3, 4, 10, 0, tzinfo=UTC),
    )
    found = extract(data, "declaration.docx")
    assert found.media_type == formats.DOCX
    assert (found.title, found.author, found.date) == (
        "Initial declaration",
        "National Authority",
        datetime.date(2021, 3, 4),
    )
    text = found.text
    assert text.index("Declaration of chemical") < text.index("Sarin\t107-44-8")
    assert text.index("Thiodiglycol\t111-48-8") < text.index("After the table.")
    assert found.language == "en" and len(found.pages) == 1
    assert {c.cas for c in find_mentions(text).chemicals} == {"107-44-8", "111-48-8"}


def test_a_web_page_in_windows_1251_keeps_its_text_and_drops_its_scripts() -> None:
    page = (
        '<!DOCTYPE html><html><head><meta charset="windows-1251"><title>Письмо  от 11 декабря'
        "</title><style>p { color: red }</style><script>var secret = 'tracking';</script></head>"
        f"<body><h1>Резюме</h1><p>{RU}</p><noscript>Включите JavaScript</noscript>"
        "<template><p>шаблон</p></template><ul><li>первый</li><li>второй</li></ul>"
        "<p>строка<br>следующая</p></body></html>"
    )
    found = extract(page.encode("cp1251"), "letter.html")
    assert found.media_type == formats.HTML
    assert found.title == "Письмо от 11 декабря"
    assert found.language == "ru"
    text = found.text
    assert "Российской Федерации" in text
    assert "tracking" not in text and "color" not in text
    assert "JavaScript" not in text and "шаблон" not in text
    assert "Резюме\n\n" in text and "первый\n\nвторой" in text and "строка\nследующая" in text


def test_a_web_page_without_a_declared_charset_is_detected() -> None:
    page = f"<html><head><title>信</title></head><body><p>{ZH}</p></body></html>"
    found = extract(page.encode("gb18030"), "letter.htm")
    assert found.language == "zh" and "俄罗斯联邦" in found.text and found.title == "信"


def test_an_email_gives_subject_sender_date_and_lists_its_attachments() -> None:
    data = email(
        subject="Note verbale: resolution 1540 (2004)",
        sender="Permanent Mission <mission@example.org>",
        sent=datetime.datetime(2020, 12, 11, 16, 45, tzinfo=UTC),
        text=EN,
        html=f"<p>{EN}</p>",
        attachments={"report.pdf": pdf([EN]), "annex.xlsx": b"PK\x03\x04 not read"},
    )
    found = extract(data, "note.eml")
    assert found.media_type == formats.EMAIL
    assert found.title == "Note verbale: resolution 1540 (2004)"
    assert found.author == "Permanent Mission <mission@example.org>"
    assert found.date == datetime.date(2020, 12, 11)
    assert found.text.startswith("Letter dated 11 December 2020")
    assert found.text.endswith("Attachments: report.pdf, annex.xlsx")
    assert found.text.count("Letter dated") == 1  # the HTML alternative is not read as well


def test_an_html_only_email_goes_through_the_web_page_reader() -> None:
    data = email(
        subject="Lettre",
        sender="mission@example.org",
        sent=datetime.datetime(2020, 12, 11, tzinfo=UTC),
        html=f"<html><body><script>alert(1)</script><p>{FR}</p></body></html>",
    )
    found = extract(data, "lettre")  # no extension: recognised by its headers
    assert found.media_type == formats.EMAIL
    assert found.language == "fr" and "alert" not in found.text


def test_markdown_gives_its_first_heading_as_title() -> None:
    text = f"Some preamble\n\n# Report of the Group of Experts #\n\n{EN}\n\n## Annex\n"
    found = extract(text.encode(), "report.md")
    assert found.media_type == formats.MARKDOWN
    assert found.title == "Report of the Group of Experts"
    assert markdown_title("Summary\n=======\n\ntext") == "Summary"
    assert markdown_title("---\ntitle: 'From the front matter'\n---\n# Heading") == (
        "From the front matter"
    )
    assert markdown_title("no heading at all") is None


@pytest.mark.parametrize(
    ("text", "encoding", "language"),
    [
        (ZH, "utf-16", "zh"),
        (EN, "utf-16-le", "en"),
        (ZH, "gb18030", "zh"),
        (ZH[:22], "gb18030", "zh"),
        (RU, "cp1251", "ru"),
        (RU[:40], "cp1251", "ru"),
        (FR, "utf-8-sig", "fr"),
        (ES, "cp1252", "es"),
    ],
)
def test_plain_text_in_any_encoding(text: str, encoding: str, language: str) -> None:
    found = extract(text.encode(encoding), "letter.txt")
    assert found.media_type == formats.TEXT
    assert found.text == text.strip()
    assert found.language == language
    assert found.title is None and found.date is None


def test_a_bilingual_text_lists_both_languages_the_larger_first() -> None:
    found = extract(f"{EN}\n\n{EN}\n\n{FR}".encode(), "bilingual.txt")
    assert found.languages == ("en", "fr")
    assert found.language == "en"
