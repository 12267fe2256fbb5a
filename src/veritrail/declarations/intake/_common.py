"""What every intake format shares: limits, text decoding, name folding."""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from veritrail.errors import TooLarge, UnsupportedFormat
from veritrail.settings import Settings

ACCEPTED = "Veritrail accepts a declaration as .xlsx, as .csv (UTF-8) or as .json (UTF-8)"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one upload; the first three come from :class:`Settings`."""

    max_upload_bytes: int = 50 * MIB
    max_json_depth: int = 32
    max_spreadsheet_cells: int = 2_000_000
    max_unzipped_bytes: int = 256 * MIB
    max_compression_ratio: int = 200
    max_zip_entries: int = 2_000
    max_cell_chars: int = 32_767  # what Excel itself allows in one cell

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_upload_bytes=settings.max_upload_bytes,
            max_json_depth=settings.max_json_depth,
            max_spreadsheet_cells=settings.max_spreadsheet_cells,
        )


def as_limits(limits: Limits | Settings | None) -> Limits:
    if isinstance(limits, Limits):
        return limits
    if limits is None:
        from veritrail.settings import get_settings

        limits = get_settings()
    return Limits.from_settings(limits)


def megabytes(size: int) -> str:
    return f"{size / MIB:,.0f} MB" if size >= MIB else f"{size:,} bytes"


def check_size(data: bytes, limits: Limits) -> None:
    """Refuse an upload over the size limit before reading a byte of it."""
    if len(data) > limits.max_upload_bytes:
        raise TooLarge(
            f"the file is {megabytes(len(data))}; at most {megabytes(limits.max_upload_bytes)} "
            "is accepted. Split the declaration or remove unused sheets and rows.",
            limit=limits.max_upload_bytes,
            size=len(data),
        )


def fold(text: Any) -> str:
    """A name compared without regard to case, width or repeated spaces."""
    value = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(value.split())


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def line_and_column(data: bytes | str, pos: int) -> tuple[int, int]:
    nl: Any = b"\n" if isinstance(data, bytes) else "\n"
    line = data.count(nl, 0, pos) + 1
    return line, pos - (data.rfind(nl, 0, pos) + 1) + 1


# --- text decoding -------------------------------------------------------------

_UTF32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CONTROL = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}


def _looks_utf16(sample: bytes) -> bool:
    """UTF-16 without a byte order mark: every other byte of ASCII text is zero."""
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.4


def looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls / len(sample) > 0.05


def _gbk_score(data: bytes) -> float:
    """Share of high bytes that form common GB2312 characters (lead B0-D7, trail A1-FE)."""
    high = sum(1 for b in data if b >= 0x80)
    good, i = 0, 0
    while i < len(data) - 1:
        if 0xB0 <= data[i] <= 0xD7 and 0xA1 <= data[i + 1] <= 0xFE:
            good += 2
            i += 2
        else:
            i += 1
    return good / high if high else 0.0


def _clustered(data: bytes) -> float:
    """Share of high bytes next to another high byte: whole words in a non-Latin script."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return 0.0
    marks = set(high)
    return sum(1 for i in high if i - 1 in marks or i + 1 in marks) / len(high)


def _script_share(codec: str, accept: Callable[[str], bool]) -> Callable[[bytes], float]:
    """Share of the non-ASCII characters of ``data`` that ``accept`` takes, once decoded."""

    def score(data: bytes) -> float:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            return 0.0
        wide = [c for c in text if ord(c) >= 0x80]
        return sum(1 for c in wide if accept(c)) / len(wide) if wide else 0.0

    return score


# Scripts written in whole words of high bytes, most distinctive first.
_WORD_SCRIPTS: tuple[tuple[str, Callable[[bytes], float]], ...] = (
    ("GB18030/GBK (Chinese)", _gbk_score),
    ("Windows-1256 (Arabic)", _script_share("cp1256", lambda c: "\u0621" <= c <= "\u064a")),
    # Lower case only: Arabic bytes read as Windows-1251 fall on capitals as often.
    (
        "Windows-1251 (Cyrillic)",
        _script_share("cp1251", lambda c: "\u0430" <= c <= "\u044f" or c == "\u0451"),
    ),
)
_LATIN = (
    "Windows-1252 or Latin-1 (Western European)",
    _script_share("latin-1", lambda c: c.isalpha() or c in "\u00a0\u00b0\u00ab\u00bb"),
)


def guess_encoding(data: bytes) -> str | None:
    """The likeliest legacy encoding of text that is not UTF-8, or None.

    Western European text has accented letters alone among ASCII ones; Chinese,
    Arabic and Russian text has whole words of high bytes. Which of those it is
    shows in which script the bytes decode to.
    """
    sample = data[: 256 * 1024]
    if _clustered(sample) < 0.5:
        name, score = _LATIN
        return name if score(sample) >= 0.7 else None
    scored = [(score(sample), name) for name, score in _WORD_SCRIPTS]
    best, found = max(scored, key=lambda pair: pair[0])  # the first of equals wins
    return found if best >= 0.7 else None


def decode_text(data: bytes, *, what: str) -> str:
    """Strict UTF-8 (a byte order mark is accepted), or an error naming the encoding found."""
    save_as = f"Save the {what} as UTF-8 (in Excel: “CSV UTF-8”; in a text editor: UTF-8) "
    if data.startswith(_UTF32):
        raise UnsupportedFormat(
            f"the {what} is encoded as UTF-32, not UTF-8. {save_as}and upload it again.",
            encoding="utf-32",
        )
    if data.startswith(_UTF16) or _looks_utf16(data[:1024]):
        raise UnsupportedFormat(
            f"the {what} is encoded as UTF-16 (Excel's “Unicode Text”), not UTF-8. "
            f"{save_as}and upload it again.",
            encoding="utf-16",
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if looks_binary(data[:4096]) or b"\x00" in data:
        raise UnsupportedFormat(f"this is a binary file, not a text {what}. {ACCEPTED}.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = line_and_column(data, exc.start)
        guess = guess_encoding(data)
        found = f"it looks like {guess}" if guess else "its encoding is not UTF-8"
        raise UnsupportedFormat(
            f"the {what} is not UTF-8: byte 0x{data[exc.start]:02X} at line {line}, column "
            f"{column} is not valid UTF-8; {found}. {save_as}and upload it again.",
            encoding=guess or "unknown",
            line=line,
            column=column,
        ) from exc


__all__ = [
    "ACCEPTED",
    "Limits",
    "as_limits",
    "check_size",
    "decode_text",
    "fold",
    "guess_encoding",
    "is_empty",
    "line_and_column",
    "looks_binary",
    "megabytes",
]
