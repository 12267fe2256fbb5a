"""CSV that is safe to open in a spreadsheet program.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and some programs one that starts with a tab or carriage return) as a formula;
a declaration or a remark crafted by someone else could then read or send data
when an analyst opens an export. :func:`neutralise` puts an apostrophe before
such a value, except before a plain number such as ``-12.5`` or ``+3``, which
stays a number. Every CSV export of Veritrail is written with :func:`write_csv`.
The CSV intake takes the apostrophe off again, so an exported declaration can
be uploaded back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(cell: object) -> str:
    """``cell`` as text that no spreadsheet program will run as a formula."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        text = "true" if cell else "false"
    elif isinstance(cell, Decimal):
        text = format(cell, "f") if cell.is_finite() else str(cell)
    elif isinstance(cell, datetime | date):
        text = cell.isoformat()
    else:
        text = str(cell)
    if text.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(rows: Iterable[Sequence[object]], *, bom: bool = True) -> bytes:
    """RFC 4180 CSV in UTF-8, every cell neutralised.

    The byte order mark (on by default) makes Excel read the file as UTF-8
    instead of the local code page, which would garble Chinese, Arabic or
    Russian text.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    text = buffer.getvalue()
    return ("\ufeff" + text if bom else text).encode("utf-8")


__all__ = ["neutralise", "write_csv"]
