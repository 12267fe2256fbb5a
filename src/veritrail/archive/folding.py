"""Folding and tries for matching names in extracted text (states, chemicals, months).

``fold_for_matching`` keeps a text's length, so a match's offsets are offsets
into the text; ``trie_pattern`` compiles many names into one regular expression.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TypeAlias

from veritrail.text.normalize import nfkc, normalize_arabic


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            table[code] = decomposed[0]
    table.update({ord(k): v for k, v in {"ё": "е", "Ё": "Е", "ø": "o", "Ø": "O"}.items()})
    table.update({ord(k): v for k, v in {"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae"}.items()})
    table.update({ord(k): "'" for k in "\u2018\u2019\u02bc\u2032\u0060\u00b4"})
    table.update({0x0660 + i: str(i) for i in range(10)})  # Arabic-Indic digits
    table.update({0x06F0 + i: str(i) for i in range(10)})  # Extended Arabic-Indic digits
    return table


_FOLD = _fold_table()
_TO_FOLD = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_FOLD)) + "]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def fold_for_matching(text: str) -> str:
    """The form names and numbers are matched in; case is kept (capitals are checked)."""
    text = nfkc(text)
    if _TO_FOLD.search(text):
        text = text.translate(_FOLD)
    return normalize_arabic(text) if _ARABIC.search(text) else text


# -- tries ---------------------------------------------------------------------------------

_Trie: TypeAlias = dict[str, "_Trie"]


def trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, the longest where several fit.

    A plain alternation of hundreds of names tries each in turn at every
    position; a trie tries only the names that share what was read so far.
    """
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def build(node: _Trie) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            # Greedy: the longer name first, the shorter one if the longer does not fit.
            return f"(?:{body})?" if len(branches) > 1 or len(branches[0]) > 1 else f"{body}?"
        return body

    return build(root)


def capitalised_pattern(words: Iterable[str], *, cased_first: bool) -> str:
    """A trie of lower-case ``words``: a capital first letter (or either case), then any case.

    Only the first letter is matched exactly, outside any case-insensitive group,
    so the regular expression engine skips every position that cannot start a
    word in the list without entering the trie: ten times faster on prose.
    """
    by_first: dict[str, list[str]] = {}
    for word in words:
        if word:
            by_first.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        cases = {first.upper(), first} if not cased_first else {first.upper()}
        if len(first.upper()) != 1:
            cases = {first}
        head = "".join(sorted(re.escape(c) for c in cases))
        head = f"[{head}]" if len(cases) > 1 else head
        tail = trie_pattern(rests)
        branches.append(f"{head}(?i:{tail})" if tail else head)
    return "(?:" + "|".join(branches) + ")"


def starts_word(text: str, start: int, joiners: str = "_-") -> bool:
    """Whether a match at ``start`` begins a word: no letter, digit or joiner just before it."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in joiners)


__all__ = ["capitalised_pattern", "fold_for_matching", "starts_word", "trie_pattern"]
