"""What an .xlsx upload must pass before python-calamine opens it.

python-calamine reads a worksheet into a dense grid in one call and has no
limits of its own. Two cells far apart (``A1`` and ``XFD1048576``) make it
allocate half a terabyte and abort the whole process, which no ``except`` can
catch; one long shared string used by many cells is copied into each of them.
So :func:`prepare` checks the upload first and hands calamine a copy of it:

1. The zip archive (:func:`check_zip`): number of entries, total unpacked size,
   compression ratio of each large entry, entry names (no absolute paths,
   ``..``, backslashes or drive letters), duplicates and encryption. Python's
   :mod:`zipfile` never inflates an entry past the size its header declares,
   so the declared sizes checked here bound the real work.
2. Every XML part is unpacked once; a document type declaration (DTD) is refused.
3. Every part holding ``sheetData`` is scanned for the grid calamine would build
   (rows and columns from ``A1`` to the furthest cell reference, empty but
   formatted cells included) and for the text its cells can expand to (a shared
   string counts once per cell using it). The scan overestimates, never
   underestimates: an unusual sheet (cells without a reference, namespace
   prefixes, comments) takes a slower, exact path.
4. The checked parts are written to a new, uncompressed archive, and that is
   what calamine reads: it never sees a part that was not checked, and cannot
   fall back to reading the upload as .xlsb or .ods, which this scan does not
   understand.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable

from veritrail.errors import TooLarge, UnsupportedFormat

from ._common import Limits, megabytes

_RATIO_FLOOR = 1024 * 1024  # small entries may compress well without being a bomb
SAVE_AS_XLSX = "Open it in a spreadsheet program and save it as “Excel Workbook (.xlsx)”."
MAX_LETTERS, MAX_DIGITS = 3, 7  # XFD1048576: the largest cell a sheet can have
_HUGE = 1 << 40

# Fast path: each cell is written ``<c r="B12" ...>`` (Excel, LibreOffice, openpyxl).
# Each has a literal prefix: three searches are ten times faster than one alternation.
_UNUSUAL = (
    re.compile(rb'<c(?:[\t\n\r/>]| (?!r="))'),
    re.compile(rb"<v[\s/]"),
    re.compile(rb":[cv][\s/>]"),
)
_COLUMNS = re.compile(rb'<c r="([A-Za-z]*)')
_ROWS = re.compile(rb'<c r="[A-Za-z]*(\d*)"')
_SHARED_REF = re.compile(rb"<v>(\d+)</v>")
_ERROR_CELL = re.compile(
    rb'<c r="([A-Za-z]*\d*)"[^>]*\st="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?'
    rb"(?:<v>([^<]*)</v>)?"
)
# Exact path: every tag of a cell, row or value, wherever ``>`` hides in quotes.
_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(row|c|v)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_T_ERROR = re.compile(rb"""(?:^|\s)t\s*=\s*["']e["']""")
_REF = re.compile(rb"([A-Za-z]*)(\d*)")
_NOT_MARKUP = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
_SI_END = re.compile(rb"</(?:[\w.-]+:)?si\s*>")


def too_many_cells(limit: int) -> TooLarge:
    return TooLarge(
        f"the workbook has more than {limit:,} cells (empty but formatted cells count), "
        "the most accepted in one upload; delete unused rows and columns or split the "
        "declaration",
        limit=limit,
    )


def check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Open ``data`` as a zip archive that is safe to inflate, or explain why not."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UnsupportedFormat(
            f"the file is not a readable .xlsx workbook (a damaged or "
            f"incomplete zip archive). {SAVE_AS_XLSX}"
        ) from exc
    if len(infos) > limits.max_zip_entries:
        raise TooLarge(
            f"the workbook holds {len(infos):,} parts; at most "
            f"{limits.max_zip_entries:,} are accepted",
            limit=limits.max_zip_entries,
        )
    names: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or "\x00" in name
            or ".." in parts
            or re.match(r"^[A-Za-z]:", name)
        ):
            raise UnsupportedFormat(
                f"the workbook contains a part with an unsafe name "
                f"({name[:80]!r}); it was not opened. {SAVE_AS_XLSX}"
            )
        if name in names:
            raise UnsupportedFormat(
                f"the workbook contains the part {name[:80]!r} twice; it "
                f"was not opened. {SAVE_AS_XLSX}"
            )
        names.add(name)
        if info.flag_bits & 0x1:
            raise UnsupportedFormat(
                "the workbook is encrypted; remove its password and upload it again"
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
            raise TooLarge(
                f"the workbook part {name[:80]!r} expands {ratio:,.0f} times when unpacked; at "
                f"most {limits.max_compression_ratio} times is accepted (this is how a zip bomb "
                "looks, not a spreadsheet)",
                limit=limits.max_compression_ratio,
            )
    if total > limits.max_unzipped_bytes:
        raise TooLarge(
            f"the workbook unpacks to {megabytes(total)}; at most "
            f"{megabytes(limits.max_unzipped_bytes)} are accepted",
            limit=limits.max_unzipped_bytes,
        )
    return archive


def _not_a_workbook(archive: zipfile.ZipFile) -> str:
    names = archive.NameToInfo
    if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:100]:
        return f"this is an OpenDocument file (.ods), not .xlsx. {SAVE_AS_XLSX}"
    if "word/document.xml" in names:
        return "this is a Word document, not a spreadsheet; use the .xlsx template"
    return f"this zip archive is not an .xlsx workbook. {SAVE_AS_XLSX}"


def _is_xml(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _blank_out(match: re.Match[bytes]) -> bytes:
    return b"_" * len(match.group())


def _plain(body: bytes) -> bytes:
    """``body`` with comments, CDATA and processing instructions blanked (same length)."""
    if b"<!" not in body and body.find(b"<?", 1) < 0:
        return body
    return _NOT_MARKUP.sub(_blank_out, body)


def _position(ref: bytes) -> tuple[int, int] | None:
    """1-based (row, column) of a reference as calamine reads it; None if it refuses it."""
    match = _REF.fullmatch(ref)
    if match is None or not match.group(2):
        return None
    letters, digits = match.groups()
    if len(letters) > MAX_LETTERS or len(digits.lstrip(b"0")) > MAX_DIGITS:
        return _HUGE, _HUGE
    column = 0
    for char in letters.upper():
        column = column * 26 + char - 64
    return int(digits), column


class SheetScan:
    """What one worksheet part can become in memory, at most."""

    def __init__(self, body: bytes, limit: int) -> None:
        self.limit = limit  # of cells: the scan stops as soon as the grid outgrows it
        self.size = len(body)  # inline text cannot be longer than the part
        self.rows = self.columns = 0
        self.shared_refs: Counter[bytes] = Counter()
        self.errors: list[tuple[str, str]] = []  # (cell, error text) of formula errors
        body = _plain(body)
        if any(unusual.search(body) for unusual in _UNUSUAL) or not self._fast(body):
            self._exact(body)

    def _fast(self, body: bytes) -> bool:
        columns, rows = _COLUMNS.findall(body), _ROWS.findall(body)
        if not len(columns) == len(rows) == body.count(b'<c r="'):
            return False  # a reference calamine may read differently: take the exact path
        numbers = set(rows) - {b""}  # a reference without a row: calamine refuses it
        if numbers:
            if max(map(len, numbers)) > MAX_DIGITS:
                return False
            last = max(map(int, numbers))
            self._extend((last, p[1]) for c in set(columns) if (p := _position(c + b"1")))
        if b't="e"' in body:
            errors = _ERROR_CELL.findall(body)
            if len(errors) != body.count(b't="e"'):
                return False
            self.errors = [
                (ref.decode(), (text or b"#N/A").decode("utf-8", "replace")) for ref, text in errors
            ]
        self.shared_refs.update(_SHARED_REF.findall(body))
        return True

    def _exact(self, body: bytes) -> None:
        """Walk the cell, row and value tags as calamine does (0-based positions)."""
        row = col = 0
        cell_error: bytes | None = None
        for tag in _TAG.finditer(body):
            closing, name, attrs = tag.groups()
            empty = attrs.endswith(b"/")
            if name == b"row":
                if not closing:
                    for ref in self._refs(attrs):
                        row = max(row, ref[0] - 1)
                if closing or empty:
                    row, col = row + 1, 0
            elif name == b"c" and not closing:
                refs = list(self._refs(attrs))
                if refs:
                    row_c, col = max(r for r, _ in refs) - 1, max(c for _, c in refs) - 1
                else:
                    row_c = row
                self._extend([(row_c + 1, col + 1)])
                cell_error = _ref(row_c, col) if _T_ERROR.search(attrs) else None
                col += 1
            elif name == b"v" and not closing and not empty:
                text = body[tag.end() : body.find(b"<", tag.end())]
                if text.isdigit():
                    self.shared_refs[text] += 1
                if cell_error is not None:
                    self.errors.append((cell_error.decode(), text.decode("utf-8", "replace")))

    @staticmethod
    def _refs(attrs: bytes) -> Iterable[tuple[int, int]]:
        for double, single in _R_ATTR.findall(attrs):
            position = _position(double or single)
            if position is not None:
                yield position

    def _extend(self, positions: Iterable[tuple[int, int]]) -> None:
        for row, column in positions:
            self.rows, self.columns = max(self.rows, row), max(self.columns, column)
        if self.rows * self.columns > self.limit:
            raise too_many_cells(self.limit)


def _ref(row: int, col: int) -> bytes:
    letters = b""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters + str(row + 1).encode()


def _string_sizes(body: bytes) -> list[int]:
    """An upper bound on the length of each shared string (its XML, markup included)."""
    return [len(chunk) for chunk in _SI_END.split(_plain(body))[:-1]]


def prepare(data: bytes, limits: Limits) -> bytes:
    """Check an .xlsx upload and return the archive calamine may read (see the module doc)."""
    archive = check_zip(data, limits)
    out = io.BytesIO()
    scans: list[SheetScan] = []
    shared: list[int] = []
    with archive, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        if "xl/workbook.xml" not in archive.NameToInfo:
            raise UnsupportedFormat(_not_a_workbook(archive))
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or ("/" not in name and name != "[Content_Types].xml"):
                continue  # .ods keeps its parts at the top; .xlsx only its content types
            body = archive.read(info)
            if not _is_xml(body):
                continue  # images, printer settings, macros; and .xlsb's binary sheets
            if b"<!DOCTYPE" in body:
                raise UnsupportedFormat(
                    "a document type declaration (DTD) is not allowed in "
                    f"a workbook. {SAVE_AS_XLSX}"
                )
            if b"sheetData" in body:
                scans.append(SheetScan(body, limits.max_spreadsheet_cells))
            if b"si>" in body or b"si " in body:
                sizes = _string_sizes(body)
                shared = [max(a, b) for a, b in zip(sizes, shared, strict=False)] + (
                    sizes[len(shared) :] or shared[len(sizes) :]
                )
            copy.writestr(info.filename, body)
    _check_text(scans, shared, limits)
    _check_errors(scans)
    return out.getvalue()


def _check_text(scans: list[SheetScan], shared: list[int], limits: Limits) -> None:
    limit = limits.max_unzipped_bytes
    total = sum(scan.size for scan in scans)
    for scan in scans:
        for index, count in scan.shared_refs.items():
            position = int(index)
            if position < len(shared):
                total += count * shared[position]
        if total > limit:
            raise TooLarge(
                f"the cells of the workbook would hold more than {megabytes(limit)} "
                "of text once read (a text repeated in many cells counts each time); "
                "split the declaration",
                limit=limit,
            )


def _check_errors(scans: list[SheetScan]) -> None:
    # calamine reads a cell showing #DIV/0! or #N/A as empty: refuse rather than lose it.
    for scan in scans:
        for cell, text in scan.errors:
            raise UnsupportedFormat(
                f"cell {cell} of a sheet shows the formula error {text}; "
                "correct the formula or type the value, then upload the "
                "workbook again"
            )


__all__ = ["SAVE_AS_XLSX", "check_zip", "prepare", "too_many_cells"]
