"""Text, language and metadata out of an archive file of any accepted kind.

:func:`extract` sniffs the file (:mod:`veritrail.archive.formats`), reads it
with the reader for its kind, and detects the language of each page. A PDF
page without a text layer, and every image, is read with OCR
(:mod:`veritrail.archive.ocr`). Every failure is an
:class:`~veritrail.errors.InputError` that says what is wrong, where, and
what would be accepted; no library's exception leaves this module.
"""

from __future__ import annotations

import datetime
import email
import email.message
import io
import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from typing import Any, TypeVar

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from docx.document import Document as DocxDocument
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from PIL import Image, ImageOps, UnidentifiedImageError
from selectolax.lexbor import LexborHTMLParser

from veritrail.archive import formats
from veritrail.archive.formats import DEFAULT_LIMITS, Limits
from veritrail.archive.ocr import recognize
from veritrail.errors import TooLarge, UnreadableFile, UnsupportedFormat, VeritrailError
from veritrail.text.detect import UNDETERMINED, detect_language, languages_by_share

Progress = Callable[[int, int], None]

OCR_DPI = 300
MIN_TEXT_LAYER = 20  # letters and digits; a page with fewer is read with OCR if it has images
MIN_LANGUAGE_SHARE = 0.05  # of a document's characters, for a language to be listed

# PDFium is not thread-safe: one call into it at a time, in the whole process.
_PDFIUM = threading.Lock()


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    text: str
    language: str  # ar en es fr ru zh, or "und"
    ocr: bool  # the text came from OCR


@dataclass(frozen=True, slots=True)
class Extracted:
    media_type: str
    title: str | None
    pages: tuple[Page, ...]  # one page for the kinds of file without pages
    language: str  # the language of most of the characters
    languages: tuple[str, ...]  # every language found, the main one first
    ocr: bool  # some page was read with OCR
    date: datetime.date | None
    author: str | None

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)


@dataclass(slots=True)
class _Read:
    """What a reader found, before the text is cleaned and its language detected."""

    pages: list[tuple[str, bool]] = field(default_factory=list)  # (text, from OCR)
    title: str | None = None
    date: datetime.date | None = None
    author: str | None = None


# -- text cleaning -------------------------------------------------------------------------

_CONTROLS = formats.CONTROL_CHARACTERS
_SPACES_AT_LINE_END = re.compile(r"[ \t\f\u00a0\u3000]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROLS.sub("", text)
    text = _SPACES_AT_LINE_END.sub("\n", text + "\n")
    return _BLANK_LINES.sub("\n\n", text).strip()


def _one_line(value: object, limit: int = 500) -> str | None:
    """A metadata value as one trimmed line, or None when it is empty."""
    text = " ".join(_CONTROLS.sub(" ", str(value)).split())[:limit] if value else ""
    return text or None


# -- PDF -----------------------------------------------------------------------------------

_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
_NOT_TEXT_OBJECTS = (
    pdfium_c.FPDF_PAGEOBJ_IMAGE,
    pdfium_c.FPDF_PAGEOBJ_PATH,
    pdfium_c.FPDF_PAGEOBJ_SHADING,
)


# PDFium refuses a PDF whose page tree is empty without naming an error.
_NO_PAGES = re.compile(rb"/Count\s*0\b")
_SOME_PAGES = re.compile(rb"/Count\s*[1-9]")
_LOCKED = (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY)


def _pdf_date(value: str | None) -> datetime.date | None:
    found = _PDF_DATE.match(value.strip()) if value else None
    if not found:
        return None
    year, month, day = (int(part) if part else 1 for part in found.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _open_pdf(data: bytes) -> Any:
    if b"%%EOF" not in data[-1024:]:
        raise UnreadableFile(
            "the PDF is incomplete: it stops before its end marker (%%EOF), so part of it is "
            "missing (the upload or an earlier copy may have been cut short). Upload the "
            "complete file."
        )
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium's error code outlives the call that set it: a failure that sets none
        # reports the previous one. What the file holds decides.
        if getattr(exc, "err_code", None) in _LOCKED and b"/Encrypt" in data:
            raise UnreadableFile(
                "the PDF is encrypted with a password; export or print it to a PDF without a "
                "password and upload that",
                reason="encrypted",
            ) from exc
        if _NO_PAGES.search(data) and not _SOME_PAGES.search(data):
            raise UnreadableFile("the PDF has no pages; there is nothing to read") from exc
        raise UnreadableFile(
            "the PDF is damaged and cannot be opened (its structure is broken). Open it in a "
            "PDF reader and save or print it to a new PDF, then upload that."
        ) from exc


def _page_text(page: Any) -> tuple[str, bool]:
    """The text layer of a PDF page, and whether the page holds something to OCR instead."""
    textpage = page.get_textpage()
    try:
        text = str(textpage.get_text_bounded())
    finally:
        textpage.close()
    if sum(ch.isalnum() for ch in text) >= MIN_TEXT_LAYER:
        return text, False
    drawn = next(iter(page.get_objects(filter=_NOT_TEXT_OBJECTS, max_depth=3)), None)
    return text, drawn is not None


def _render(page: Any, limits: Limits) -> Image.Image:
    width, height = float(page.get_width()), float(page.get_height())
    scale = OCR_DPI / 72
    if width > 0 and height > 0:
        scale = min(scale, math.sqrt(limits.max_render_pixels / (width * height)))
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image: Image.Image = bitmap.to_pil()
        return image.copy()  # the bitmap's buffer goes with it
    finally:
        bitmap.close()


def _read_pdf(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    with _PDFIUM:
        pdf = _open_pdf(data)
    try:
        with _PDFIUM:
            count = len(pdf)
            metadata = pdf.get_metadata_dict(skip_empty=True)
        if count == 0:
            raise UnreadableFile("the PDF has no pages; there is nothing to read")
        formats.check_pages(count, limits)
        read = _Read(
            title=_one_line(metadata.get("Title")),
            author=_one_line(metadata.get("Author")),
            date=_pdf_date(metadata.get("CreationDate")),
        )
        chars = 0
        for index in range(count):
            number = index + 1
            image: Image.Image | None = None
            with _PDFIUM:
                try:
                    page = pdf[index]
                except pdfium.PdfiumError as exc:
                    raise UnreadableFile(
                        f"page {number} of the PDF is damaged and cannot be read. Open the PDF "
                        "in a PDF reader and save or print it to a new PDF, then upload that.",
                        page=number,
                    ) from exc
                try:
                    text, scanned = _page_text(page)
                    if scanned:
                        image = _render(page, limits)
                finally:
                    page.close()
            if image is not None:
                reading = recognize(
                    image,
                    where=f"page {number} of the PDF",
                    dpi=OCR_DPI,
                    timeout=limits.ocr_timeout_seconds,
                )
                text = reading.text
            read.pages.append((text, image is not None))
            chars += len(text)
            formats.check_text_size(chars, limits)
            if progress:
                progress(number, count)
        return read
    finally:
        with _PDFIUM:
            pdf.close()


# -- images --------------------------------------------------------------------------------


def _dpi(value: object) -> int:
    """The resolution an image declares, when it is believable; 300 dpi otherwise."""
    try:
        dpi = round(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return OCR_DPI
    return dpi if 70 <= dpi <= 1200 else OCR_DPI


def _too_large_to_open(what: str, exc: Exception, limits: Limits) -> TooLarge:
    return TooLarge(
        f"{what} is too large to open safely ({exc}). Scan it again at 300 dpi.",
        limit=limits.max_image_pixels,
    )


_IMAGE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError)
_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def _read_image(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    kind = formats.LABELS[formats.image_type(data) or formats.PNG]
    try:
        image = Image.open(io.BytesIO(data))
        count = int(getattr(image, "n_frames", 1))
    except _BOMBS as exc:
        raise _too_large_to_open(f"the {kind}", exc, limits) from exc
    except _IMAGE_ERRORS as exc:
        raise UnreadableFile(
            f"the {kind} is damaged or incomplete and cannot be opened. Save it again as PNG "
            "and upload that."
        ) from exc
    formats.check_frames(count, limits)
    read = _Read()
    chars = 0
    with image:
        for index in range(count):
            where = f"page {index + 1} of the {kind}" if count > 1 else f"the {kind}"
            try:
                image.seek(index)
                formats.check_pixels(image.width, image.height, where, limits)
                dpi = _dpi(image.info.get("dpi", (OCR_DPI,))[0])
                frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
                frame.load()
            except _BOMBS as exc:
                raise _too_large_to_open(where, exc, limits) from exc
            except (*_IMAGE_ERRORS, IndexError) as exc:
                raise UnreadableFile(
                    f"{where} is damaged or incomplete and cannot be read. Save it again as "
                    "PNG and upload that.",
                    page=index + 1,
                ) from exc
            reading = recognize(frame, where=where, dpi=dpi, timeout=limits.ocr_timeout_seconds)
            read.pages.append((reading.text, True))
            chars += len(reading.text)
            formats.check_text_size(chars, limits)
            if progress:
                progress(index + 1, count)
    return read


# -- Word ----------------------------------------------------------------------------------


def _cell_text(cell: _Cell) -> str:
    return "\n".join(_block_texts(cell.iter_inner_content()))


def _block_texts(blocks: Iterator[Paragraph | Table]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield block.text
            continue
        for row in block.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:  # a merged cell comes once per grid column it spans
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    cells.append(_cell_text(cell))
            yield "\t".join(cells)


def _read_docx(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    formats.check_docx_zip(data, limits)
    try:
        document: DocxDocument = docx.Document(io.BytesIO(data))
    except ValueError as exc:
        if "macroEnabled" in str(exc) or "template" in str(exc):
            raise UnsupportedFormat(
                "this is a macro-enabled Word document (.docm) or a template (.dotx); save it "
                f"as a Word document (.docx) and upload that. {formats.ACCEPTED}."
            ) from exc
        raise
    properties = document.core_properties
    created = properties.created
    read = _Read(
        title=_one_line(properties.title),
        author=_one_line(properties.author),
        date=created.date() if isinstance(created, datetime.datetime) else None,
    )
    read.pages.append(("\n".join(_block_texts(document.iter_inner_content())), False))
    if progress:
        progress(1, 1)
    return read


# -- web pages -----------------------------------------------------------------------------

_DROP = ["script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"]
_BLOCKS = frozenset(
    "address article aside blockquote dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table "
    "tbody thead tfoot tr ul caption".split()
)
_PARAGRAPH, _LINE, _CELL = "\u2029", "\u2028", "\t"
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_BREAKS = re.compile(r" *([\u2028\u2029\t]) *")


def html_to_text(html: str | bytes) -> tuple[str | None, str]:
    """The title and the visible text of a web page, with a line break per block."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _one_line(title_node.text()) if title_node is not None else None
    tree.strip_tags(_DROP)
    root = tree.body or tree.root
    parts: list[str] = []
    if root is not None:
        for node in root.traverse(include_text=True):
            if node.is_text_node:
                parts.append(node.text_content or "")
                continue
            tag = node.tag or ""
            if tag in _BLOCKS:
                parts.append(_PARAGRAPH)
            elif tag == "br":
                parts.append(_LINE)
            elif tag in ("td", "th"):
                parts.append(_CELL)
    text = _HTML_SPACE.sub(" ", "".join(parts))
    text = _BREAKS.sub(r"\1", text)
    text = re.sub(r"\u2029[\u2029\u2028\t]*", "\n\n", text).replace(_LINE, "\n")
    lines = (line.lstrip("\t") for line in text.split("\n"))
    return title, "\n".join(lines)


def _read_html(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    formats.check_text_size(len(data) // 4, limits)
    text = formats.decode_html(data)
    formats.refuse_garbage(text, "web page")
    title, body = html_to_text(text)
    if progress:
        progress(1, 1)
    return _Read(pages=[(body, False)], title=title)


# -- plain text and Markdown ---------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.+?)[\"']?\s*$", re.M)


def markdown_title(text: str) -> str | None:
    """The first heading of a Markdown text (or the ``title`` of its front matter)."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), 0)
        if end:
            found = _FRONT_TITLE.search("\n".join(lines[1:end]))
            if found:
                return _one_line(found.group(1))
            lines = lines[end + 1 :]
    previous = ""
    for line in lines[:2000]:
        atx = _ATX.match(line)
        if atx:
            return _one_line(atx.group(1))
        if previous.strip() and _SETEXT.match(line) and not previous.startswith((" ", "\t")):
            return _one_line(previous)
        previous = line
    return None


def _read_text(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    formats.check_text_size(len(data) // 4, limits)  # before decoding: at most 4 bytes a letter
    text = formats.decode_text(data, what="text file")
    formats.refuse_garbage(text, "text file")
    if progress:
        progress(1, 1)
    return _Read(pages=[(text, False)])


def _read_markdown(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    read = _read_text(data, limits, progress)
    read.title = markdown_title(read.pages[0][0])
    return read


# -- e-mail --------------------------------------------------------------------------------


def _part_text(part: email.message.EmailMessage, what: str) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        content = None  # an unknown or wrong charset: decode the bytes ourselves
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return formats.decode_text(payload, what=what) if isinstance(payload, bytes) and payload else ""


def _read_email(data: bytes, limits: Limits, progress: Progress | None) -> _Read:
    message = email.message_from_bytes(data, policy=policy.default)
    if not isinstance(message, email.message.EmailMessage):
        raise UnreadableFile("the e-mail cannot be read")
    date_header: Any = message.get("date")
    sent = getattr(date_header, "datetime", None)
    read = _Read(
        title=_one_line(message.get("subject")),
        author=_one_line(message.get("from")),
        date=sent.date() if isinstance(sent, datetime.datetime) else None,
    )
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if isinstance(body, email.message.EmailMessage):
        if body.get_content_subtype() == "html":
            raw = _part_text(body, "e-mail's HTML part")
            formats.refuse_garbage(raw, "e-mail's HTML part")
            text = html_to_text(raw)[1]
        else:
            text = _part_text(body, "e-mail's text")
            formats.refuse_garbage(text, "e-mail's text")
    names = []
    for number, part in enumerate(message.iter_attachments(), 1):
        name = (
            _one_line(part.get_filename(), limit=200)
            if isinstance(part, email.message.EmailMessage)
            else None
        )
        names.append(name or f"attachment {number} ({part.get_content_type()})")
    if names:
        text = f"{text.rstrip()}\n\nAttachments: {', '.join(names)}"
    read.pages.append((text, False))
    if progress:
        progress(1, 1)
    return read


# -- the whole -----------------------------------------------------------------------------

_READERS: dict[str, Callable[[bytes, Limits, Progress | None], _Read]] = {
    formats.PDF: _read_pdf,
    formats.PNG: _read_image,
    formats.JPEG: _read_image,
    formats.TIFF: _read_image,
    formats.DOCX: _read_docx,
    formats.HTML: _read_html,
    formats.TEXT: _read_text,
    formats.MARKDOWN: _read_markdown,
    formats.EMAIL: _read_email,
}


def _languages(pages: list[Page]) -> tuple[str, ...]:
    """Every language of the pages, by the characters written in it, the largest first."""
    weights: dict[str, float] = {}
    total = 0
    for page in pages:
        total += len(page.text)
        for language, share in languages_by_share(page.text):
            weights[language] = weights.get(language, 0.0) + share * len(page.text)
    found = {p.language for p in pages if p.language != UNDETERMINED}
    found |= {lang for lang, weight in weights.items() if weight >= MIN_LANGUAGE_SHARE * total}
    return tuple(sorted(found, key=lambda lang: (-weights.get(lang, 0.0), lang)))


def _nothing_found(media_type: str, read: _Read) -> UnreadableFile:
    label = formats.LABELS[media_type]
    if media_type == formats.PDF:
        n = len(read.pages)
        return UnreadableFile(
            f"no text was found in the PDF's {n} page{'s' if n != 1 else ''}, even with OCR; "
            "its pages may be blank or the scan too faint to read"
        )
    if media_type in formats.IMAGES:
        return UnreadableFile(
            f"no text was found in the {label}, even with OCR; it may hold no writing, or the "
            "scan may be too faint or too small to read (scan at 300 dpi)"
        )
    return UnreadableFile(f"the {label} holds no text; there is nothing to archive")


_T = TypeVar("_T")


def _guarded(label: str, read: Callable[..., _T], *args: Any) -> _T:
    """``read(*args)``, with any exception not Veritrail's own turned into one that is."""
    try:
        return read(*args)
    except VeritrailError:
        raise
    except RecursionError as exc:
        raise UnreadableFile(f"the {label} is nested too deeply to read") from exc
    except MemoryError as exc:
        raise TooLarge(f"the {label} needs more memory to read than is available") from exc
    except Exception as exc:  # the last line of defence against hostile files
        raise UnreadableFile(
            f"the {label} is damaged or malformed and cannot be read "
            f"({type(exc).__name__}). Save it again from the program that made it and upload "
            "that."
        ) from exc


def extract(
    data: bytes,
    filename: str,
    *,
    progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Extracted:
    """Read an archive file into pages of text with their languages, and its metadata.

    ``progress(done, total)`` is called after each page (each page of a PDF or
    TIFF; once for the other kinds).
    """
    media_type = _guarded("file", formats.sniff, data, filename, limits)
    label = formats.LABELS[media_type]
    read = _guarded(label, _READERS[media_type], data, limits, progress)
    texts = [_clean(text) for text, _ in read.pages]
    formats.check_text_size(sum(map(len, texts)), limits)
    pages = [
        Page(number=i, text=text, language=detect_language(text), ocr=ocr)
        for i, (text, (_, ocr)) in enumerate(zip(texts, read.pages, strict=True), 1)
    ]
    if not any(texts):
        raise _nothing_found(media_type, read)
    languages = _languages(pages)
    return Extracted(
        media_type=media_type,
        title=read.title,
        pages=tuple(pages),
        language=languages[0] if languages else UNDETERMINED,
        languages=languages,
        ocr=any(page.ocr for page in pages),
        date=read.date,
        author=read.author,
    )


__all__ = ["Extracted", "Page", "extract", "html_to_text", "markdown_title"]
