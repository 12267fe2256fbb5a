"""JSON intake: the canonical document itself, read strictly.

The file must be UTF-8 (a byte order mark is accepted) and hold one JSON object
(see :mod:`veritrail.declarations.document`). Reading refuses, with the line and
column where the problem is:

- nesting deeper than ``max_json_depth`` (measured on the brackets before the
  parser sees the text, so a hostile file cannot exhaust the stack);
- the same key twice in one object (reported with its JSON pointer);
- ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON;
- lone UTF-16 surrogates (``"\\ud800"``), which cannot be stored as UTF-8.

Numbers with a fraction or an exponent become :class:`decimal.Decimal`, never
``float``, so ``0.1`` stays exactly ``0.1``; the validator turns them into
strings. For JSON the JSON pointer is itself the location shown to the user,
so ``locations`` stays empty.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from typing import Any

import orjson

from veritrail.declarations.document import ParsedDeclaration, pointer
from veritrail.errors import Problem, TooLarge, ValidationFailed

from ._common import Limits, decode_text, line_and_column

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|$)', re.DOTALL)
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_CONSTANT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN)', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_FRACTION = re.compile(rb"[0-9][.eE]")
_STRUCTURAL = b'"[]{},:0123456789.eE'
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in _STRUCTURAL)


_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    Decimal: "a number",
    bool: "true or false",
    type(None): "null",
}


class _Constant(ValueError):
    pass


class _Number(ValueError):
    pass


def _deepest(brackets: bytes) -> int:
    steps = memoryview(brackets.translate(_STEPS)).cast("b")
    return max(accumulate(steps), default=0)


def _skeleton(text: str) -> tuple[bytes, bytes]:
    """The text with every string emptied, and only its brackets, as bytes."""
    if "\\" not in text:
        # Without escapes every '"' opens or closes a string, so after dropping
        # all but the structural bytes the pieces between quotes alternate
        # outside/inside: far cheaper than the regex over the whole text.
        kept = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURAL)
        skeleton = b'""'.join(kept.split(b'"')[::2])
    else:
        skeleton = _STRING.sub('""', text).encode("utf-8", "surrogatepass")
    return skeleton, skeleton.translate(None, _NOT_BRACKETS)


def measure(text: str, max_depth: int, max_values: int) -> tuple[int, int]:
    """(deepest nesting, number of values) of ``text``, ignoring what is inside strings.

    No recursion, and every step runs in C (re, translate, accumulate, max), so
    50 MB of brackets costs a second or two and never the stack. Either figure
    may be left partial once the other is over its limit.
    """
    depth, values, _skeleton_bytes = _measure(text, max_depth, max_values)
    return depth, values


def _measure(text: str, max_depth: int, max_values: int) -> tuple[int, int, bytes]:
    skeleton, brackets = _skeleton(text)
    head = _deepest(brackets[: 4 * max_depth + 4])  # "[[[[…" is refused at once
    if head > max_depth:
        return head, 0, skeleton
    values = skeleton.count(b",") + brackets.count(b"[") + brackets.count(b"{") + 1
    if values > max_values:
        return head, values, skeleton  # refused for its size before the longer depth scan
    return _deepest(brackets), values, skeleton


def _key_count(document: Any) -> int | None:
    """How many keys the objects of a parsed document hold, or None if unsure.

    Serialised by orjson, a document whose text has no backslash has '"'
    only around strings, so '":' ends exactly the keys.
    """
    out = orjson.dumps(document)
    return None if b"\\" in out else out.count(b'":')


def _fast_load(text: str, skeleton: bytes) -> Any | None:
    """The parsed document when orjson can read it exactly, else None.

    orjson is several times faster than the standard parser but keeps the last
    of duplicate keys and reads fractions as binary floats. So it is used only
    when the text has no backslash (hence no escapes) and no fraction or
    exponent outside strings, and its result is kept only when the objects hold
    as many keys as the text has ':' outside strings (one per key: no
    duplicate was lost).
    Anything else goes to the standard parser, which reports problems precisely.
    """
    if "\\" in text or _FRACTION.search(skeleton):
        return None  # (no backslash also means no escaped surrogate)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if _key_count(document) != skeleton.count(b":"):
        return None
    return document


def max_depth(text: str) -> int:
    """Deepest bracket nesting of ``text``, ignoring brackets inside strings."""
    return _deepest(_skeleton(text)[1])


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise _Number(text) from exc


def _syntax_problem(text: str, pos: int, message: str, code: str = "json_syntax") -> Problem:
    line, column = line_and_column(text, pos)
    return Problem(path=f"line {line}, column {column}", code=code, message=message)


def _walk(root: Any) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every (path, value) of a parsed document, depth-first, without recursion."""
    out: list[tuple[tuple[str | int, ...], Any]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), root)]
    while stack:
        path, value = stack.pop()
        out.append((path, value))
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
    return out


def parse_json(data: bytes, *, limits: Limits) -> ParsedDeclaration:
    """Read a JSON declaration; raise an :class:`~veritrail.errors.InputError` if unreadable."""
    text = decode_text(data, what="JSON file")
    depth, values, skeleton = _measure(text, limits.max_json_depth, limits.max_spreadsheet_cells)
    if depth > limits.max_json_depth:
        raise TooLarge(
            f"the JSON is nested more than {limits.max_json_depth} levels deep, the most "
            "accepted (a declaration needs 4: document, data, section, row)",
            limit=limits.max_json_depth,
        )
    if values > limits.max_spreadsheet_cells:
        raise TooLarge(
            f"the JSON holds more than {limits.max_spreadsheet_cells:,} values, the most "
            "accepted in one upload; split the declaration",
            limit=limits.max_spreadsheet_cells,
        )
    fast = _fast_load(text, skeleton)
    if fast is not None:
        return _as_declaration(fast)
    duplicates: dict[int, list[str]] = {}  # id of the parsed object -> keys seen twice

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    duplicates.setdefault(id(obj), []).append(key)
                seen.add(key)
        return obj

    try:
        document = json.loads(
            text,
            object_pairs_hook=pairs_hook,
            parse_float=_decimal,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        ends_early = not text[exc.pos :].strip()
        hint = " The file ends too early: is it truncated?" if ends_early else ""
        raise ValidationFailed(
            [_syntax_problem(text, exc.pos, f"not valid JSON: {exc.msg}.{hint}")],
            "the file is not valid JSON",
        ) from exc
    except _Constant as exc:
        match = next((m for m in _CONSTANT.finditer(text) if m.group(1)), None)
        pos = match.start(1) if match else 0
        message = f"{exc} is not a JSON number; write a number, or leave the value empty (null)"
        raise ValidationFailed(
            [_syntax_problem(text, pos, message, "not_a_number")], "the file is not valid JSON"
        ) from exc
    except (_Number, ValueError, RecursionError) as exc:
        # Integers over 4,300 digits and exponents beyond Decimal's range land here.
        raise ValidationFailed(
            [Problem("", "json_number", f"a number is out of range ({str(exc)[:200]})")],
            "the file is not valid JSON",
        ) from exc
    problems: list[Problem] = []
    if duplicates or _SURROGATE_ESCAPE.search(text):
        for path, value in _walk(document):
            for key in duplicates.get(id(value), []) if isinstance(value, dict) else []:
                problems.append(
                    Problem(
                        pointer(*path, key),
                        "duplicate_key",
                        f"the key {key!r} appears twice in the same object; keep only one",
                    )
                )
            for item in (*path[-1:], value):
                if isinstance(item, str) and _SURROGATE.search(item):
                    problems.append(
                        Problem(
                            pointer(*path),
                            "invalid_text",
                            "contains a lone UTF-16 "
                            "surrogate escape (\\ud800-\\udfff), which is not a character",
                        )
                    )
                    break
    if problems:
        raise ValidationFailed(problems)
    return _as_declaration(document)


def _as_declaration(document: Any) -> ParsedDeclaration:
    if not isinstance(document, dict):
        kind = _KINDS.get(type(document), "a single value")
        raise ValidationFailed(
            [
                Problem(
                    "",
                    "not_an_object",
                    "a declaration must be one JSON object {…} with "
                    f"regime, type, period, state and data; this file holds {kind}",
                )
            ]
        )
    return ParsedDeclaration(document=document, source_format="json")


__all__ = ["max_depth", "parse_json"]
