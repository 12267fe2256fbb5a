"""Hostile and broken archive files: each ends in one InputError a user can act on."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pypdfium2 as pdfium
import pytest
from archive_samples import EN, image_bytes, pdf, text_image, word
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veritrail.archive.extract import extract
from veritrail.archive.formats import Limits
from veritrail.errors import InputError, TooLarge, UnreadableFile, UnsupportedFormat

ACCEPTED = "Veritrail's archive accepts PDF documents"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_truncated_pdf_is_incomplete() -> None:
    data = pdf([EN] * 3)
    with pytest.raises(UnreadableFile, match="the PDF is incomplete.*Upload the complete file"):
        extract(data[: len(data) // 2], "letter.pdf")


def test_a_pdf_whose_structure_is_broken_is_damaged() -> None:
    data = pdf([EN] * 3)
    with pytest.raises(UnreadableFile, match="the PDF is damaged.*print it to a new PDF"):
        extract(data[: len(data) // 2] + b"\n%%EOF\n", "letter.pdf")


def test_an_encrypted_pdf_asks_for_a_copy_without_password() -> None:
    with pytest.raises(UnreadableFile, match="encrypted with a password") as caught:
        extract(pdf([EN], password="s3cret"), "letter.pdf")
    assert caught.value.details == {"reason": "encrypted"}


def test_a_pdf_without_pages() -> None:
    document = pdfium.PdfDocument.new()
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    with pytest.raises(UnreadableFile, match="the PDF has no pages"):
        extract(buffer.getvalue(), "empty.pdf")


def test_too_many_pdf_pages() -> None:
    with pytest.raises(TooLarge, match="the PDF has 3 pages; at most 2 are accepted"):
        extract(pdf([EN] * 3), "letter.pdf", limits=Limits(max_pdf_pages=2))


def test_a_program_renamed_pdf_is_refused_for_what_it_is() -> None:
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
    with pytest.raises(UnsupportedFormat, match=f"this is a Windows program.*{ACCEPTED}"):
        extract(program, "report.pdf")


@pytest.mark.parametrize("name", ["report.pdf", "report.docx", "scan.png", "scan.tiff"])
def test_text_under_a_binary_name_is_refused(name: str) -> None:
    with pytest.raises(UnsupportedFormat, match=r"is named \.\w+ but is not a"):
        extract(EN.encode(), name)


@pytest.mark.parametrize("data", [b"", b"   \n\t  \r\n"])
def test_an_empty_file(data: bytes) -> None:
    with pytest.raises(UnreadableFile, match="is empty; there is nothing to read"):
        extract(data, "notes.txt")


def test_binary_garbage_named_txt_is_not_text() -> None:
    with pytest.raises(UnsupportedFormat, match=r"named \.txt but holds binary data"):
        extract(os.urandom(4096), "notes.txt")


def test_high_bytes_that_decode_to_symbols_are_not_text() -> None:
    garbage = bytes((i * 7919) % 128 + 128 for i in range(3000))
    with pytest.raises(UnreadableFile, match="the text file (does not read as text|is not text)"):
        extract(garbage, "notes.txt")


def test_unknown_extensions_and_other_office_files_are_refused() -> None:
    with pytest.raises(UnsupportedFormat, match=r"files named \.json are not accepted"):
        extract(b'{"a": 1}', "data.json")
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedFormat, match=r"an Excel workbook \(\.xlsx\)"):
        extract(workbook.getvalue(), "declaration.xlsx")
    with pytest.raises(UnsupportedFormat, match="a GIF image"):
        extract(b"GIF89a" + bytes(100), "scan.gif")


def test_a_zip_bomb_in_a_word_document_is_refused_before_it_is_unpacked() -> None:
    buffer = io.BytesIO(word([EN]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/image1.bin", bytes(20 * 1024 * 1024))
    with pytest.raises(TooLarge, match="expands .* times when unpacked.*zip bomb"):
        extract(buffer.getvalue(), "bomb.docx")


def test_a_word_document_that_unpacks_too_large() -> None:
    with pytest.raises(TooLarge, match="the Word document unpacks to"):
        extract(word([EN]), "big.docx", limits=Limits(max_unzipped_bytes=100_000))


def test_a_damaged_word_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document")
    with pytest.raises(UnreadableFile, match="Word document"):
        extract(buffer.getvalue(), "broken.docx")
    data = word([EN])
    with pytest.raises(UnreadableFile, match="Word document is damaged"):
        extract(data[: len(data) // 2], "cut.docx")


def test_a_decompression_bomb_png_is_too_large() -> None:
    # 100,000 × 100,000 pixels declared in a file of a hundred bytes.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )
    with pytest.raises(TooLarge, match="too large to open safely"):
        extract(data, "bomb.png")


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded() -> None:
    data = image_bytes(text_image(["A line of text"]))
    with pytest.raises(TooLarge, match=r"the PNG image is 1,400 × 132 pixels; at most 1,000 "):
        extract(data, "scan.png", limits=Limits(max_image_pixels=1000))


def test_a_truncated_image_is_damaged() -> None:
    data = image_bytes(text_image(["A line of text"]))
    with pytest.raises(UnreadableFile, match="damaged or incomplete"):
        extract(data[:200], "scan.png")


def test_a_file_over_the_size_limit() -> None:
    with pytest.raises(TooLarge, match="the file is 2,000 bytes; at most 1,000 bytes"):
        extract(b"x" * 2000, "notes.txt", limits=Limits(max_file_bytes=1000))


def test_too_much_text() -> None:
    with pytest.raises(TooLarge, match="more than 100 characters of text"):
        extract(EN.encode(), "notes.txt", limits=Limits(max_text_chars=100))


NAMES = ["a.pdf", "a.docx", "a.txt", "a.md", "a.html", "a.eml", "a", "a.jpg", "a.tif", "a.png"]
MAGIC = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"\xff\xd8\xff"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MAGIC), st.binary(max_size=3000), st.sampled_from(NAMES))
def test_random_bytes_end_in_an_input_error_or_a_reading(
    magic: bytes, body: bytes, name: str
) -> None:
    try:
        extract(magic + body, name)
    except InputError as exc:
        assert exc.message and exc.status in (413, 415, 422)
