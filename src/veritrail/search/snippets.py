"""Where a hit matched its query: snippets for result lists, highlights for the document.

Both re-analyse the original text (``analyze.Scan``) and compare its terms with
the query's, so a match is found exactly where the index found it: whole
original words, or the Han characters under matching bigrams. A phrase is
highlighted only where its terms stand together. A snippet analyses a long text
a stretch at a time and stops once it has enough matches, and never reads past
``SCAN_LIMIT`` characters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, islice

from veritrail.search.analyze import HAN, Scan, boundary, boundary_before, first_mention
from veritrail.search.model import And, Node, Or, Phrase, Term

ELLIPSIS = "…"
SCAN_LIMIT = 200_000  # characters a snippet analyses at most
FIRST_STRETCH = 4_096  # characters analysed first; each further stretch is twice as long
MAX_MATCHES = 1_000  # matches a snippet chooses among

_SPACE = re.compile(r"\s+")
_TEXT = re.compile(r"\S")
_WORD_EDGE = re.compile(r"\w")

Segments = tuple[tuple[str, bool], ...]


@dataclass(frozen=True, slots=True)
class Snippet:
    """Text segments, each with whether it is a match; ``…`` where text was left out."""

    segments: Segments

    @property
    def matched(self) -> bool:
        return any(flag for _, flag in self.segments)

    def plain(self) -> str:
        return "".join(text for text, _ in self.segments)

    def html(self) -> str:
        """HTML-escaped text with matches in ``<mark>``."""
        return "".join(
            f"<mark>{html.escape(text)}</mark>" if flag else html.escape(text)
            for text, flag in self.segments
        )


# -- what the query matches -----------------------------------------------------------------


def _items(node: Node) -> Iterator[tuple[tuple[str, ...], ...]]:
    """The positive text parts of a query, each as its positions' alternatives."""
    if isinstance(node, Term):
        yield (node.alternatives,)
    elif isinstance(node, Phrase):
        yield node.positions
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from _items(item)
    # Not, Filter, YearRange, MatchAll: nothing to highlight


def query_terms(node: Node) -> frozenset[str]:
    """Every index term the query can match, outside its NOT parts."""
    return frozenset(term for item in _items(node) for position in item for term in position)


class _Matcher:
    def __init__(self, node: Node) -> None:
        items = list(dict.fromkeys(_items(node)))
        self.items = [tuple(frozenset(p) for p in item) for item in items if item]
        self.first: dict[str, list[int]] = {}
        for k, item in enumerate(self.items):
            for term in item[0]:
                self.first.setdefault(term, []).append(k)
        self.longest = max((len(item) for item in self.items), default=0)
        self.terms = frozenset(self.first)  # a match begins with one of these

    def find(self, scan: Scan, start: int = 0) -> list[tuple[int, int, int]]:
        """Matches (first term, last term, item) that begin at term ``start`` or later."""
        terms, first = scan.terms, self.first
        total = len(terms)
        found: list[tuple[int, int, int]] = []
        hits = compress(range(start, total), map(first.__contains__, islice(terms, start, None)))
        for i in list(hits):
            for k in first[terms[i]]:
                item = self.items[k]
                end = i + len(item)
                if end <= total and all(terms[i + j] in item[j] for j in range(1, len(item))):
                    found.append((i, end - 1, k))
        return found


def _regions(scan: Scan, matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Character spans (start, end, item) of the matches, in text order."""
    out = [(scan.span(i)[0], scan.span(j)[1], k) for i, j, k in matches]
    out.sort()
    return out


def _merge(spans: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end, _ in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _segments(
    text: str, start: int, end: int, marks: list[tuple[int, int]]
) -> list[tuple[int, int, bool]]:
    """``text[start:end]`` cut into (start, end, matched) pieces."""
    out: list[tuple[int, int, bool]] = []
    pos = start
    for a, b in marks:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        if a > pos:
            out.append((pos, a, False))
        out.append((a, b, True))
        pos = b
    if pos < end:
        out.append((pos, end, False))
    return out


# -- highlight --------------------------------------------------------------------------------


def highlight(text: str, node: Node, language: str) -> Segments:
    """The whole ``text`` cut into segments, the matches of ``node`` flagged."""
    matcher = _Matcher(node)
    if not matcher.items or not text:
        return ((text, False),) if text else ()
    scan = Scan(text, language)
    scan.add()
    marks = _merge(_regions(scan, matcher.find(scan)))
    return tuple((text[a:b], flag) for a, b, flag in _segments(text, 0, len(text), marks))


# -- snippets ---------------------------------------------------------------------------------


def _scan_matches(
    text: str, language: str, matcher: _Matcher, fragments: int
) -> list[tuple[int, int, int]]:
    """Match regions, analysing stretch after stretch until there are enough of them.

    When the first stretch holds no match, a quick look ahead (``first_mention``)
    finds where the first one may be, or that there is none (a hit on its title).
    """
    limit = min(len(text), SCAN_LIMIT)
    scan = Scan(text, language)
    matches: list[tuple[int, int, int]] = []
    pos, stretch, searched, looked = 0, FIRST_STRETCH, 0, False
    while pos < limit:
        stop = min(boundary(text, pos + stretch), limit)
        scan.add(pos, stop)
        # A phrase may begin in the last stretch and end in this one.
        again = max(0, searched - matcher.longest + 1)
        matches.extend(m for m in matcher.find(scan, again) if m[1] >= searched)
        searched = len(scan.terms)
        pos, stretch = stop, stretch * 2
        if not matches and not looked and pos < limit:
            looked = True
            back = boundary_before(text, pos - 256)  # where a phrase ending further on may begin
            ahead = first_mention(text, language, matcher.terms, back, limit)
            if ahead is None:
                break
            if ahead > pos:
                scan, searched = Scan(text, language), 0
                pos, stretch = boundary_before(text, ahead), FIRST_STRETCH
        seen = {k for _, _, k in matches}
        if len(matches) >= 8 * fragments or (
            len(seen) == len(matcher.items) and len(matches) >= 2 * fragments
        ):
            break
    return _regions(scan, matches[:MAX_MATCHES])


def _best_window(regions: list[tuple[int, int, int]], width: int) -> tuple[int, int] | None:
    """Indexes [i, j) of the regions that fit one window and match the most."""
    best: tuple[tuple[int, int], int, int] | None = None
    j = 0
    for i, (start, _, _) in enumerate(regions):
        j = max(j, i + 1)
        while j < len(regions) and regions[j][1] - start <= width:
            j += 1
        score = (len({k for _, _, k in regions[i:j]}), j - i)
        if best is None or score > best[0]:
            best = (score, i, j)
    return None if best is None else (best[1], best[2])


def _place(text: str, start: int, end: int, width: int) -> tuple[int, int]:
    """A window of about ``width`` characters around ``text[start:end]``, on word edges."""
    if end - start >= width:
        return start, end
    pad = width - (end - start)
    left = max(0, start - pad // 3)
    right = min(len(text), left + width)
    left = max(0, min(left, right - width))
    if left > 0 and _WORD_EDGE.match(text, left - 1) and not HAN.match(text, left):
        space = _SPACE.search(text, left, start)
        left = space.end() if space else left
    if right < len(text) and _WORD_EDGE.match(text, right) and not HAN.match(text, right - 1):
        spaces = [m.start() for m in _SPACE.finditer(text, end, right)]
        right = spaces[-1] if spaces else right
    return left, right


def _tidy(text: str, start: int, end: int) -> str:
    """``text[start:end]`` with whitespace collapsed, and none left between Han characters."""
    out: list[str] = []
    pos = start
    for m in _SPACE.finditer(text, start, end):
        out.append(text[pos : m.start()])
        joined = HAN.match(text, m.start() - 1) and HAN.match(text, m.end())
        if not joined and m.start() > 0:
            out.append(" ")
        pos = m.end()
    out.append(text[pos:end])
    return "".join(out)


def _fragment(
    text: str, start: int, end: int, marks: list[tuple[int, int]]
) -> list[tuple[str, bool]]:
    pieces = [(_tidy(text, a, b), flag) for a, b, flag in _segments(text, start, end, marks)]
    if pieces:
        pieces[0] = (pieces[0][0].lstrip(), pieces[0][1])
        pieces[-1] = (pieces[-1][0].rstrip(), pieces[-1][1])
    return [p for p in pieces if p[0]]


def snippet(
    text: str, node: Node, language: str, *, width: int = 240, fragments: int = 2
) -> Snippet:
    """Up to ``fragments`` passages of ``text``, about ``width`` characters in all, where
    ``node`` matches most densely; the text's opening when nothing matches."""
    matcher = _Matcher(node)
    regions = _scan_matches(text, language, matcher, fragments) if matcher.items and text else []
    windows: list[tuple[int, int]] = []
    share = max(1, width // max(1, fragments))
    left = regions
    while left and len(windows) < fragments:
        picked = _best_window(left, share)
        if picked is None:
            break
        i, j = picked
        windows.append((left[i][0], max(end for _, end, _ in left[i:j])))
        left = left[:i] + left[j:]
    if not windows:
        start, end = _place(text, 0, 0, width)
        windows = [(start, end)]
    elif len(windows) == 1:
        windows = [_place(text, *windows[0], width)]
    else:
        windows = [_place(text, a, b, share) for a, b in windows]
    windows = _merge([(a, b, 0) for a, b in sorted(windows)])
    marks = _merge(regions)
    segments: list[tuple[str, bool]] = []
    for n, (start, end) in enumerate(windows):
        piece = _fragment(text, start, end, marks)
        if not piece:
            continue
        if n == 0 and _TEXT.search(text, 0, start):
            segments.append((ELLIPSIS + " ", False))
        elif n > 0:
            segments.append((" " + ELLIPSIS + " ", False))
        segments.extend(piece)
    if segments and _TEXT.search(text, windows[-1][1]):
        segments.append((" " + ELLIPSIS, False))
    return Snippet(tuple(segments))


__all__ = ["ELLIPSIS", "SCAN_LIMIT", "Snippet", "highlight", "query_terms", "snippet"]
