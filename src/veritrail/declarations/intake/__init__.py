"""Intake: any uploaded declaration file becomes one canonical document.

Call :func:`parse_upload` with the bytes and the file name; it refuses files
over the size limit before reading them, recognises the format from the
content (and the name when the content is ambiguous), and returns a
:class:`~veritrail.declarations.document.ParsedDeclaration` whose ``locations``
map JSON pointers back to the cell or row the user typed. Every refusal is an
:class:`~veritrail.errors.InputError`: :class:`~veritrail.errors.TooLarge`,
:class:`~veritrail.errors.UnsupportedFormat`, or
:class:`~veritrail.errors.ValidationFailed` with every problem found. The
formats are described in ``docs/intake-formats.md``.

Parsing only reads the file; checking the declaration against its regime pack
is :func:`veritrail.declarations.validate.validate`.
"""

from __future__ import annotations

import re

from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import UnsupportedFormat
from veritrail.regimes.loader import Registry
from veritrail.settings import Settings

from ._common import ACCEPTED, Limits, as_limits, check_size
from .csv_ import parse_csv
from .json_ import parse_json
from .xlsx_ import parse_xlsx

FORMATS = ("json", "csv", "xlsx")
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"{\\rtf": "an RTF document",
    b"PK\x05\x06": "an empty zip archive",
}
_CSV_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:\"?#[^\n]*\n\s*)*\"?\[\s*declaration\s*\]", re.I)


def _extension(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return filename.rsplit(".", 1)[1].strip().lower()


def sniff(data: bytes, filename: str | None = None) -> str:
    """``json``, ``csv`` or ``xlsx`` for an upload, or :class:`UnsupportedFormat`."""
    ext = _extension(filename)
    if data.startswith(_ZIP):
        return "xlsx"
    if data.startswith(_OLE2):
        raise UnsupportedFormat(
            "this is an old-format Excel workbook (.xls) or a password-protected workbook. "
            "Open it in a spreadsheet program and save it as “Excel Workbook (.xlsx)” without "
            "a password."
        )
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise UnsupportedFormat(f"this is {what}, not a declaration. {ACCEPTED}.")
    if ext in ("xlsx", "xlsm", "xls", "ods"):
        raise UnsupportedFormat(
            f"the file is named .{ext} but is not a spreadsheet workbook inside (it may have "
            "been renamed, or be damaged). Open it in a spreadsheet program and save it as "
            "“Excel Workbook (.xlsx)”."
        )
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _CSV_START.match(data[:65536]):
        return "csv"
    if head.startswith(b"{"):
        return "json"
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext == "json" or head.startswith(b"["):
        return "json"
    return "csv"


def parse_upload(
    data: bytes,
    filename: str | None,
    *,
    registry: Registry,
    limits: Limits | Settings | None = None,
) -> ParsedDeclaration:
    """Read one uploaded declaration (XLSX, CSV or JSON) into the canonical document.

    ``limits`` defaults to the process settings. Raises only
    :class:`~veritrail.errors.InputError` subclasses for bad input.
    """
    bounds = as_limits(limits)
    check_size(data, bounds)
    if not data.strip():
        raise UnsupportedFormat(f"the file is empty. {ACCEPTED}.")
    kind = sniff(data, filename)
    if kind == "xlsx":
        return parse_xlsx(data, registry=registry, limits=bounds)
    if kind == "json":
        return parse_json(data, limits=bounds)
    return parse_csv(data, registry=registry, limits=bounds)


__all__ = [
    "FORMATS",
    "Limits",
    "parse_csv",
    "parse_json",
    "parse_upload",
    "parse_xlsx",
    "sniff",
]
