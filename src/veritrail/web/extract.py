"""Babel extraction of message ids that are not written as ``_()`` calls.

The validator reports problems as ``report.add(path, code, "message", …)`` and
the field checkers return ``(code, "message", params)`` tuples; both messages
are gettext ids, translated when the problem is reported. ``babel.cfg`` names
:func:`extract_checks` for those two modules so that their messages land in
the catalogues with everything else.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

Extracted = tuple[int, str, str, list[str]]


def _messages(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "add" and len(node.args) >= 3:
                message = node.args[2]
                if isinstance(message, ast.Constant) and isinstance(message.value, str):
                    yield message.lineno, message.value
        elif isinstance(node, ast.Tuple) and len(node.elts) == 3:
            _code, message, params = node.elts
            if (
                isinstance(message, ast.Constant)
                and isinstance(message.value, str)
                and isinstance(params, ast.Dict)
            ):
                yield message.lineno, message.value


def extract_checks(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Babel extractor: the problem messages of the validator and the field checkers."""
    source = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    seen: set[str] = set()
    for lineno, message in sorted(_messages(ast.parse(source))):
        if message not in seen:
            seen.add(message)
            yield lineno, "gettext", message, []


__all__ = ["extract_checks"]
