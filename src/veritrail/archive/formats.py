"""What kind of file an archive upload is, and the bounds it must keep.

:func:`sniff` names the media type from the bytes themselves (magic numbers,
the parts inside a zip archive, the first lines of a text), and uses the file
name only where the content cannot tell (Markdown is plain text). A file whose
name promises one kind and whose content is another is refused: a program
renamed ``report.pdf`` never reaches a parser. The ``check_*`` functions guard
the readers against files that are small on disk and huge once unpacked.
:func:`decode_text` and :func:`decode_html` find the encoding of text files,
web pages and e-mail parts, and refuse binary data that only looks like text.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import charset_normalizer

from veritrail.errors import TooLarge, UnreadableFile, UnsupportedFormat

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
EMAIL = "message/rfc822"

MEDIA_TYPES = (PDF, DOCX, PNG, JPEG, TIFF, HTML, TEXT, MARKDOWN, EMAIL)
IMAGES = frozenset({PNG, JPEG, TIFF})
ACCEPTED = (
    "Veritrail's archive accepts PDF documents, Word documents (.docx), images (PNG, JPEG, "
    "TIFF), web pages (.html), plain text (.txt), Markdown (.md) and e-mails (.eml)"
)
LABELS = {
    PDF: "PDF document",
    DOCX: "Word document (.docx)",
    PNG: "PNG image",
    JPEG: "JPEG image",
    TIFF: "TIFF image",
    HTML: "web page (HTML)",
    TEXT: "text file",
    MARKDOWN: "Markdown file",
    EMAIL: "e-mail (.eml)",
}
MIB = 1024 * 1024
# Control characters that never belong in text (tab, line ends and form feed do).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one archive file; a file past any of them is refused with :class:`TooLarge`."""

    max_file_bytes: int = 200 * MIB
    max_pdf_pages: int = 2_000
    max_image_frames: int = 2_000  # pages of a multi-page TIFF
    max_image_pixels: int = 80_000_000  # one image or frame; an A3 page scanned at 600 dpi is 70
    max_render_pixels: int = 36_000_000  # a PDF page rendered for OCR
    max_text_chars: int = 20_000_000
    max_unzipped_bytes: int = 256 * MIB
    max_compression_ratio: int = 200
    max_zip_entries: int = 5_000
    ocr_timeout_seconds: float = 120.0


DEFAULT_LIMITS = Limits()

# Extensions that promise a binary format: a text file under such a name is refused.
_BINARY_EXTENSIONS = {
    "pdf": PDF,
    "docx": DOCX,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "jpe": JPEG,
    "tif": TIFF,
    "tiff": TIFF,
}
_TEXT_EXTENSIONS = frozenset({"", "txt", "text", "csv", "tsv", "log", "asc"})
_HTML_EXTENSIONS = frozenset({"html", "htm", "xhtml"})
_MARKDOWN_EXTENSIONS = frozenset({"md", "markdown"})
_SAVE_AS = "Save it as PDF or .docx and upload that."

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_OTHER_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"MZ", 0, "a Windows program"),
    (b"\x7fELF", 0, "a program"),
    (b"\xcf\xfa\xed\xfe", 0, "a program"),
    (b"\xca\xfe\xba\xbe", 0, "a program"),
    (b"\x00asm", 0, "a program"),
    (b"#!", 0, "a script"),
    (b"GIF8", 0, "a GIF image (save it as PNG)"),
    (b"WEBP", 8, "a WebP image (save it as PNG)"),
    (b"ftypheic", 4, "a HEIC photo (save it as JPEG)"),
    (b"ftypheix", 4, "a HEIC photo (save it as JPEG)"),
    (b"ftypmif1", 4, "a HEIF photo (save it as JPEG)"),
    (b"ftypavif", 4, "an AVIF image (save it as PNG)"),
    (b"ftyp", 4, "a video"),
    (b"\x00\x00\x00\x0cjP  ", 0, "a JPEG 2000 image (save it as PNG)"),
    (b"8BPS", 0, "a Photoshop image (save it as PNG)"),
    (b"RIFF", 0, "an audio or video file"),
    (b"ID3", 0, "an audio file"),
    (b"OggS", 0, "an audio or video file"),
    (b"fLaC", 0, "an audio file"),
    (b"\x1a\x45\xdf\xa3", 0, "a video"),
    (b"\x1f\x8b", 0, "a gzip archive (unpack it and upload the files inside)"),
    (b"BZh", 0, "a bzip2 archive (unpack it and upload the files inside)"),
    (b"\xfd7zXZ\x00", 0, "an xz archive (unpack it and upload the files inside)"),
    (b"\x28\xb5\x2f\xfd", 0, "a zstd archive (unpack it and upload the files inside)"),
    (b"Rar!", 0, "a RAR archive (unpack it and upload the files inside)"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive (unpack it and upload the files inside)"),
    (b"PK\x05\x06", 0, "an empty zip archive"),
    (b"SQLite format 3\x00", 0, "a database file"),
    (b"{\\rtf", 0, "an RTF document (save it as .docx or PDF)"),
    (b"%!PS", 0, "a PostScript file (convert it to PDF)"),
)
_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
    re.IGNORECASE | re.DOTALL,
)
_HEADER_LINE = re.compile(rb"([A-Za-z][A-Za-z0-9-]{0,76}):")
_MAIL_HEADERS = frozenset({b"date", b"subject", b"to", b"message-id", b"received", b"mime-version"})
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def extension(filename: str) -> str:
    """The lower-case extension of ``filename`` without its dot; ``""`` when there is none."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].strip().lower() if "." in name else ""


def megabytes(size: int) -> str:
    return f"{size / MIB:,.0f} MB" if size >= MIB else f"{size:,} bytes"


def _many(count: int, unit: str) -> str:
    return f"{count / 1e6:g} million {unit}" if count >= 1_000_000 else f"{count:,} {unit}"


def check_file_size(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    if len(data) > limits.max_file_bytes:
        raise TooLarge(
            f"the file is {megabytes(len(data))}; at most {megabytes(limits.max_file_bytes)} "
            "is accepted in the archive. Split it into smaller files.",
            limit=limits.max_file_bytes,
            size=len(data),
        )


def check_pages(count: int, limits: Limits = DEFAULT_LIMITS) -> None:
    if count > limits.max_pdf_pages:
        raise TooLarge(
            f"the PDF has {count:,} pages; at most {limits.max_pdf_pages:,} are accepted. "
            "Split it into smaller files.",
            limit=limits.max_pdf_pages,
        )


def check_frames(count: int, limits: Limits = DEFAULT_LIMITS) -> None:
    if count > limits.max_image_frames:
        raise TooLarge(
            f"the image has {count:,} pages; at most {limits.max_image_frames:,} are accepted. "
            "Split it into smaller files.",
            limit=limits.max_image_frames,
        )


def check_pixels(width: int, height: int, where: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an image before it is decoded when it would be too large in memory."""
    if width <= 0 or height <= 0:
        raise UnreadableFile(f"{where} has no pixels ({width} × {height}); the file is damaged")
    if width * height > limits.max_image_pixels:
        raise TooLarge(
            f"{where} is {width:,} × {height:,} pixels; at most "
            f"{_many(limits.max_image_pixels, 'pixels')} are accepted. Scan it again at 300 dpi.",
            limit=limits.max_image_pixels,
        )


def check_text_size(chars: int, limits: Limits = DEFAULT_LIMITS) -> None:
    if chars > limits.max_text_chars:
        raise TooLarge(
            f"the file holds more than {_many(limits.max_text_chars, 'characters')} of text, "
            "the most accepted in one archive file. Split it into smaller files.",
            limit=limits.max_text_chars,
        )


def check_docx_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a .docx whose zip archive is damaged, encrypted or a zip bomb.

    Python's :mod:`zipfile` never inflates an entry past the size its header
    declares, so the declared sizes checked here bound what python-docx unpacks.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UnreadableFile(
            "the Word document is damaged: its zip archive cannot be read (the file may be "
            f"incomplete). {_SAVE_AS}"
        ) from exc
    if len(infos) > limits.max_zip_entries:
        raise TooLarge(
            f"the Word document holds {len(infos):,} parts; at most "
            f"{limits.max_zip_entries:,} are accepted",
            limit=limits.max_zip_entries,
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableFile(
                "the Word document is encrypted; save it without a password and upload it again"
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MIB and ratio > limits.max_compression_ratio:
            raise TooLarge(
                f"the Word document's part {info.filename[:80]!r} expands {ratio:,.0f} times "
                f"when unpacked; at most {limits.max_compression_ratio} times is accepted (this "
                "is how a zip bomb looks, not a document)",
                limit=limits.max_compression_ratio,
            )
    if total > limits.max_unzipped_bytes:
        raise TooLarge(
            f"the Word document unpacks to {megabytes(total)}; at most "
            f"{megabytes(limits.max_unzipped_bytes)} are accepted",
            limit=limits.max_unzipped_bytes,
        )


def _sniff_zip(data: bytes, ext: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        what = "Word document" if ext == "docx" else "zip archive (or Word document)"
        raise UnreadableFile(
            f"the {what} is damaged: its zip structure cannot be read (the file may be "
            f"incomplete). {_SAVE_AS}"
        ) from exc
    except (RuntimeError, NotImplementedError) as exc:  # an encrypted or exotic "mimetype"
        raise UnsupportedFormat(f"this zip archive cannot be opened. {ACCEPTED}.") from exc
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        what = "an Excel workbook (.xlsx)"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation (.pptx)"
    elif b"opendocument" in mimetype:
        what = "an OpenDocument file (.odt, .ods or .odp)"
    else:
        what = "a zip archive (unpack it and upload the files inside)"
    raise UnsupportedFormat(f"this is {what}, not a file the archive reads. {ACCEPTED}.")


def image_type(data: bytes) -> str | None:
    """PNG, JPEG or TIFF by their magic numbers; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] in _TIFF_MAGIC:
        return TIFF
    return None


def _looks_binary(sample: bytes) -> bool:
    if sample.startswith(_BOMS):
        return False
    if b"\x00" in sample:
        # UTF-16 without a byte order mark: every other byte of ASCII text is zero.
        even, odd = sample[0::2], sample[1::2]
        return len(sample) < 4 or max(even.count(0) / len(even), odd.count(0) / len(odd)) < 0.4
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls > len(sample) // 100


def _looks_like_email(data: bytes) -> bool:
    """RFC 5322 headers first: ``Name: value`` lines, a From and one more of the usual ones."""
    names: set[bytes] = set()
    for line in data[:16384].lstrip(b"\r\n").splitlines()[:200]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t") and names:
            continue  # a folded header goes on
        found = _HEADER_LINE.match(line)
        if not found:
            return False
        names.add(found.group(1).lower())
    return b"from" in names and bool(names & _MAIL_HEADERS)


def _refuse_binary(data: bytes, ext: str) -> None:
    """Refuse the binary formats Veritrail knows by name and does not read."""
    if data.startswith(_OLE2):
        if _ENCRYPTED_OOXML in data:
            raise UnreadableFile(
                "the document is encrypted; save it without a password and upload it again"
            )
        if ext == "msg":
            what = "an Outlook message (.msg); save it as .eml (File › Save as) and upload that"
        else:
            what = f"an old-format Office file (.doc, .xls or .ppt). {_SAVE_AS}"
        raise UnsupportedFormat(f"this is {what}. {ACCEPTED}.")
    for magic, offset, what in _OTHER_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if magic == b"#!" and ext in _TEXT_EXTENSIONS - {""}:
                continue  # a text file may begin with "#!"
            if magic == b"MZ" and b"\x00" not in data[:256]:
                continue  # every program has zeros in its header; this is text
            raise UnsupportedFormat(f"this is {what}, not a document. {ACCEPTED}.")
    if data[:2] == b"BM" and data[14:15] in (b"\x0c", b"(", b"4", b"8", b"l", b"|"):
        raise UnsupportedFormat(f"this is a BMP image (save it as PNG). {ACCEPTED}.")


def sniff(data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The media type of ``data`` (one of :data:`MEDIA_TYPES`), or an error saying why not."""
    check_file_size(data, limits)
    if not data or data.isspace():
        raise UnreadableFile(f"the file {filename!r} is empty; there is nothing to read")
    ext = extension(filename)
    if b"%PDF-" in data[:1024]:
        return PDF
    image = image_type(data)
    if image:
        return image
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, ext)
    _refuse_binary(data, ext)
    if ext in _BINARY_EXTENSIONS:
        label = LABELS[_BINARY_EXTENSIONS[ext]]
        raise UnsupportedFormat(
            f"the file is named .{ext} but is not a {label} inside (it may have been renamed "
            f"or be damaged). {ACCEPTED}."
        )
    if _looks_binary(data[:65536]):
        named = f"is named .{ext} but " if ext else ""
        raise UnsupportedFormat(
            f"the file {named}holds binary data of a kind Veritrail does not read, not text. "
            f"{ACCEPTED}."
        )
    if ext == "eml":
        return EMAIL
    if ext in _HTML_EXTENSIONS:
        return HTML
    if ext in _MARKDOWN_EXTENSIONS:
        return MARKDOWN
    if ext not in _TEXT_EXTENSIONS:
        raise UnsupportedFormat(f"files named .{ext} are not accepted. {ACCEPTED}.")
    if ext == "":
        if _looks_like_email(data):
            return EMAIL
        if _HTML_START.match(data[:4096].removeprefix(codecs.BOM_UTF8)):
            return HTML
    return TEXT


# -- text encodings ------------------------------------------------------------------------

_BOM_CODECS = (  # UTF-32 before UTF-16: FF FE begins both
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Names web pages declare, mapped as browsers map them (the WHATWG Encoding Standard).
_HTML_LABELS = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "utf-16": "utf-8",  # a page whose bytes are ASCII-compatible cannot be UTF-16
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}
_META_CHARSET = re.compile(
    rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]{1,40})", re.I
)
_KOREAN = frozenset({"cp949", "euc_kr", "johab", "iso2022_kr"})
_HANGUL_OR_KANA = re.compile("[\u3040-\u30ff\u1100-\u11ff\uac00-\ud7af]")


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) / len(odd) > 0.4:
        return "utf-16-le"
    if even.count(0) / len(even) > 0.4:
        return "utf-16-be"
    return None


def decode_text(data: bytes, *, what: str) -> str:
    """Text of any encoding: a byte order mark first, then UTF-8, then detection."""
    for bom, codec in _BOM_CODECS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"the {what} begins with a {codec.upper()} byte order mark but is not valid "
                    f"{codec.upper()} at byte {exc.start:,}; the file is damaged. Save it again "
                    "as UTF-8 text."
                ) from exc
    utf16 = _utf16_without_bom(data[:4096])  # before UTF-8, for which zeros are valid
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UnreadableFile(
            f"the {what} is not text in any encoding Veritrail recognises (it may be a binary "
            "file with a text name). Save it as UTF-8 text and upload it again."
        )
    if best.encoding in _KOREAN:
        # Short Chinese texts in GB18030 pass for Korean; Chinese is far likelier here.
        try:
            chinese = data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if not _HANGUL_OR_KANA.search(chinese):
                return chinese
    return str(best)


def decode_html(data: bytes) -> str:
    """A web page's text: its byte order mark, its declared charset if right, or detection."""
    if not data.startswith(tuple(bom for bom, _ in _BOM_CODECS)):
        declared = _META_CHARSET.search(data[:8192])
        if declared:
            label = declared.group(1).decode("ascii").lower()
            try:
                codec = codecs.lookup(_HTML_LABELS.get(label, label)).name
                return data.decode(codec)
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong or unknown declaration: detect the encoding instead
    return decode_text(data, what="web page")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Symbols, unassigned and private-use code points; format characters (direction marks,
# zero-width joiners) belong to Arabic and Persian text.
_NOT_TEXT = frozenset({"Sm", "Sc", "Sk", "So", "Cc", "Cn", "Co", "Cs"})


def refuse_garbage(text: str, what: str) -> None:
    """Refuse decoded text that is mostly symbols, control characters or undecodable bytes.

    Bytes of a binary file decode in some legacy code page into box-drawing
    characters and symbols; text has letters, digits, spaces and punctuation.
    """
    sample = text[:65536]
    bad = len(CONTROL_CHARACTERS.findall(sample)) + sum(
        1
        for ch in _NON_ASCII.findall(sample)
        if ch == "\ufffd" or unicodedata.category(ch) in _NOT_TEXT
    )
    if sample and bad > len(sample) // 10:
        raise UnreadableFile(
            f"the {what} does not read as text: {bad:,} of its first {len(sample):,} "
            "characters are symbols, control characters or undecodable bytes. It may be a "
            "binary file with a text name; save it as UTF-8 text and upload it again."
        )


__all__ = [
    "ACCEPTED",
    "CONTROL_CHARACTERS",
    "DEFAULT_LIMITS",
    "DOCX",
    "EMAIL",
    "HTML",
    "IMAGES",
    "JPEG",
    "LABELS",
    "MARKDOWN",
    "MEDIA_TYPES",
    "PDF",
    "PNG",
    "TEXT",
    "TIFF",
    "Limits",
    "check_docx_zip",
    "check_file_size",
    "check_frames",
    "check_pages",
    "check_pixels",
    "check_text_size",
    "decode_html",
    "decode_text",
    "extension",
    "image_type",
    "megabytes",
    "refuse_garbage",
    "sniff",
]
