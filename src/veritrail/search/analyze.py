"""Text to index terms: the one analyser every search backend indexes and queries with.

Text is split into runs. A Han run (CJK ideographs, with any whitespace between
two of them ignored, since extracted PDF text breaks lines inside words) gives
each character and the overlapping bigrams between them, interleaved (安, 安全,
全, 全理, 理 …), so that a two-character word is a phrase of three terms and a
one-character query (核) finds the character wherever it stands (decision 8).
A word run (letters, digits and the marks inside them) gives one term: folded
(``text.normalize.fold``), accents stripped from Latin letters, then stemmed by
script: Latin words with the document language's Snowball stemmer (English,
French, Spanish; English for any other language), Cyrillic words with the
Russian one, Arabic words with a light stemmer. Digits are kept as they are.

A term's position is its index in the list, so phrases match consecutive terms.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate, chain
from operator import add
from typing import NamedTuple

import Stemmer

from veritrail.text.normalize import fold, to_simplified

MAX_TERM = 64  # longer terms are dropped: no one searches for them

# Han ideographs: Kangxi radicals (PDF extraction emits them; NFKC maps them to
# ideographs), ideographic zero, extension A, unified, compatibility, extensions B+.
_HAN_CHARS = "\u2f00-\u2fd5\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Characters that NFKC changes among them: only these need it before t2s.
_HAN_COMPAT = re.compile("[\u2f00-\u2fd5\uf900-\ufaff\U0002f800-\U0002fa1f]")
# Soft hyphen, zero-width (non-)joiner, word joiner: inside a word, not breaks.
_JOINERS = "\u00ad\u200c\u200d\u2060"


def _marks() -> str:
    """Combining marks of the Basic Multilingual Plane as a character-class body."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


_MARKS = _marks() + _JOINERS
_LETTER = rf"[^\W_{_HAN_CHARS}]"  # a letter or digit that is not Han
_HAN_RUN = rf"[{_HAN_CHARS}](?:\s*[{_HAN_CHARS}])*"
_WORD_RUN = rf"{_LETTER}+(?:[{_MARKS}]+{_LETTER}*)*"
_RUN = re.compile(rf"({_HAN_RUN})|({_WORD_RUN})")
HAN = re.compile(f"[{_HAN_CHARS}]")  # one Han character
_ASCII_WORD = re.compile("[A-Za-z0-9]+")  # _RUN on ASCII text, twice as fast
_ASCII_SPLIT = re.compile("([A-Za-z0-9]+)")
_SPACE = re.compile(r"\s+")
_SINGLE_WORD = re.compile(rf"{_LETTER}+")

_CYRILLIC = re.compile("[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff]")
_LATIN = re.compile("[a-z\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f]")
_DROP = str.maketrans(dict.fromkeys(map(ord, _JOINERS)))
# Arabic-Indic and extended (Persian) digits, which NFKC leaves alone.
_DIGITS = str.maketrans(
    {**{0x660 + i: str(i) for i in range(10)}, **{0x6F0 + i: str(i) for i in range(10)}}
)
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})

_STEMMERS = {"en": "english", "fr": "french", "es": "spanish"}
_LATIN_STEMMERS = ("english", "french", "spanish")
_local = threading.local()  # Snowball stemmers are not thread-safe: one set per thread


class Token(NamedTuple):
    """One index term and the span ``text[start:end]`` of the original it comes from."""

    term: str
    start: int
    end: int


def _stem(algorithm: str, word: str) -> str:
    stemmers: dict[str, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    stemmer = stemmers.get(algorithm)
    if stemmer is None:
        stemmer = stemmers[algorithm] = Stemmer.Stemmer(algorithm)
    return str(stemmer.stemWord(word))


# -- Arabic light stemming (Larkey's light10, as Lucene's ArabicStemmer) --------------------

# After ``fold``: alef forms are bare alef and teh marbuta is heh, so "ية" is "يه".
_AR_PREFIXES = ("ال", "وال", "بال", "كال", "فال", "لل", "و")
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def arabic_stem(word: str) -> str:
    """Light stem of a folded Arabic word: one prefix, then suffixes, keeping two letters."""
    for prefix in _AR_PREFIXES:
        minimum = 4 if len(prefix) == 1 else len(prefix) + 2
        if word.startswith(prefix) and len(word) >= minimum:
            word = word[len(prefix) :]
            break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) >= len(suffix) + 2:
            word = word[: -len(suffix)]
    return word


# -- words --------------------------------------------------------------------------------


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _word_alternatives(word: str, latin: tuple[str, ...]) -> tuple[str, ...]:
    """Terms one folded word may give: one per Latin stemmer in ``latin``, else one."""
    if word.isdecimal():
        return (word,)
    if word.isascii():
        return tuple(dict.fromkeys(_stem(a, word) for a in latin))
    if _CYRILLIC.search(word):
        return (_stem("russian", word),)
    if _ARABIC.search(word):
        return (arabic_stem(word),)
    if _LATIN.search(word):
        plain = _strip_accents(word)
        return tuple(dict.fromkeys(_stem(a, plain) for a in latin))
    return (word,)


def _fold_word(run: str) -> list[tuple[str, bool]]:
    """A word run folded, as the words it becomes, each with whether it is a Han term.

    Folding rarely turns one word into several ("½" is "1⁄2"), or into Han text.
    """
    if run.isascii():
        return [(run.lower(), False)]
    folded = fold(run).translate(_DROP).translate(_DIGITS)
    if _SINGLE_WORD.fullmatch(folded):
        return [(folded, False)]
    words: list[tuple[str, bool]] = []
    for han, word in _RUN.findall(folded):
        if han:
            words.extend((b, True) for b in _bigrams(_SPACE.sub("", han)))
        else:
            words.append((word.translate(_DROP), False))
    return words


class _WordCache:
    """Terms of a word run in documents of one stemming language, remembered."""

    __slots__ = ("algorithm", "terms")
    LIMIT = 200_000

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.terms: dict[str, tuple[str, ...]] = {}

    def get(self, run: str) -> tuple[str, ...]:
        terms = self.terms.get(run)
        if terms is None:
            terms = self._analyse(run)
            if len(self.terms) >= self.LIMIT:
                self.terms.clear()
            self.terms[run] = terms
        return terms

    def _analyse(self, run: str) -> tuple[str, ...]:
        out: list[str] = []
        for word, han in _fold_word(run):
            if han:
                out.append(word)
                continue
            term = _word_alternatives(word, (self.algorithm,))[0]
            if 0 < len(term) <= MAX_TERM:
                out.append(term)
        return tuple(out)


_caches: dict[str, _WordCache] = {}


def _cache(language: str) -> _WordCache:
    algorithm = _STEMMERS.get(language[:2].lower(), "english")
    cache = _caches.get(algorithm)
    if cache is None:
        cache = _caches.setdefault(algorithm, _WordCache(algorithm))
    return cache


# -- Han runs -----------------------------------------------------------------------------


def _fold_han(text: str) -> str:
    """``fold`` for Han-only text (no case, no Arabic: NFKC only where it changes something)."""
    if _HAN_COMPAT.search(text):
        text = unicodedata.normalize("NFKC", text)
    return to_simplified(text)


def _han_terms(runs: list[str]) -> list[list[str]]:
    """The bigrams of each Han run, the runs folded in one call (each keeps its length)."""
    joined = _SPACE.sub("", "|".join(runs))
    folded = _fold_han(joined)
    lengths = list(map(len, joined.split("|")))
    if list(map(len, folded.split("|"))) != lengths:
        # A conversion that changed a run's length: fold character by character, so
        # that each term still maps to its characters in the original.
        folded = "".join(_fold_han(c)[:1] if c != "|" else c for c in joined)
    pairs = list(map(add, folded, folded[1:]))  # across the separators too, skipped below
    starts = accumulate((n + 1 for n in lengths), initial=0)
    return [
        _interleave(folded[i : i + n], pairs[i : i + n - 1])
        for i, n in zip(starts, lengths, strict=False)  # starts has one more, unused
    ]


def _interleave(chars: str, pairs: Sequence[str]) -> list[str]:
    """c0, c0c1, c1, c1c2, c2 …: each character and the bigram to the next one."""
    terms = [""] * (2 * len(chars) - 1)
    terms[0::2] = chars
    terms[1::2] = pairs
    return terms


def _bigrams(han: str) -> list[str]:
    """The terms of one folded Han run (see :func:`_interleave`)."""
    return _interleave(han, [han[i : i + 2] for i in range(len(han) - 1)]) if han else []


# -- public -------------------------------------------------------------------------------


def analyze(text: str, language: str) -> tuple[str, ...]:
    """The index terms of ``text`` in a document of ``language`` (ISO 639-1, or "und")."""
    cache = _cache(language)
    out: list[str] = []
    if text.isascii():
        for word in _ASCII_WORD.findall(text):
            out.extend(cache.get(word))
        return tuple(out)
    runs = _RUN.findall(text)
    hans = [han for han, _ in runs if han]
    bigrams = iter(_han_terms(hans) if hans else ())
    for _, word in runs:
        out.extend(cache.get(word) if word else next(bigrams))
    return tuple(out)


class Scan:
    """The terms of one text, as ``analyze`` gives them, and where each comes from.

    Built a stretch at a time (``add``), so that a caller can stop once it has
    seen enough; a term's span is worked out only when asked for.
    """

    __slots__ = ("terms", "_text", "_language", "_firsts", "_bounds", "_han", "_where")

    def __init__(self, text: str, language: str) -> None:
        self.terms: list[str] = []
        self._text = text
        self._language = language
        self._firsts = [0]  # run r gives terms[_firsts[r]:_firsts[r + 1]]
        self._bounds: list[int] = []  # run r is text[_bounds[2r]:_bounds[2r + 1]]
        self._han: set[int] = set()  # runs of Han characters
        self._where: dict[int, Sequence[int]] = {}  # their characters' offsets

    def add(self, start: int = 0, stop: int | None = None) -> None:
        """Analyse ``text[start:stop]``, which must not cut a run (see ``boundary``)."""
        text = self._text[start:stop]
        cache = _cache(self._language)
        get, analyse = cache.terms.get, cache.get
        runs = len(self._firsts) - 1
        if text.isascii():
            parts = _ASCII_SPLIT.split(text)
            found: list[Sequence[str]] = [get(w) or analyse(w) for w in parts[1::2]]
            lengths: Iterable[int] = map(len, parts)
        else:
            parts = _RUN.split(text)
            hans, words = parts[1::3], parts[2::3]
            raw = [h for h in hans if h]
            bigrams = iter(_han_terms(raw) if raw else ())
            found = [get(w) or analyse(w) if w else next(bigrams) for w in words]
            self._han.update(runs + i for i, h in enumerate(hans) if h)
            run_lengths = (len(h or w) for h, w in zip(hans, words, strict=True))
            # separators and runs alternate; the separator after the last run is not needed
            lengths = chain.from_iterable(zip(map(len, parts[0::3]), run_lengths, strict=False))
        offsets = list(accumulate(lengths, initial=start))
        self._bounds.extend(offsets[1 : 2 * len(found) + 1])
        self._firsts.extend(accumulate(map(len, found), initial=len(self.terms)))
        del self._firsts[runs]  # the total before this stretch, already there
        self.terms.extend(chain.from_iterable(found))

    def span(self, index: int) -> tuple[int, int]:
        """Where term ``index`` comes from: ``text[start:end]`` of the original."""
        run = bisect_right(self._firsts, index) - 1
        begin, end = self._bounds[2 * run], self._bounds[2 * run + 1]
        if run not in self._han or end - begin == 1:
            return begin, end
        where = self._where.get(run)
        if where is None:
            where = range(begin, end)
            if _SPACE.search(self._text, begin, end):  # a line broken inside the run
                where = [begin + i for i, c in enumerate(self._text[begin:end]) if not c.isspace()]
            self._where[run] = where
        k = index - self._firsts[run]
        if k % 2 == 0:  # a character
            return where[k // 2], where[k // 2] + 1
        return where[k // 2], where[k // 2 + 1] + 1  # the bigram from character k // 2

    def tokens(self) -> list[Token]:
        return [Token(term, *self.span(i)) for i, term in enumerate(self.terms)]


_BREAK = re.compile(rf"[^\w\s{_MARKS}]|(?<![\s{_HAN_CHARS}])\s")


def boundary(text: str, at: int, within: int = 4096) -> int:
    """The first offset from ``at`` on that no run of ``text`` crosses.

    Looks ``within`` characters ahead; text with no break that far is cut there.
    """
    if at <= 0:
        return 0
    m = _BREAK.search(text, at, at + within)
    return min(len(text), at + within) if m is None else m.start()


def boundary_before(text: str, at: int, within: int = 4096) -> int:
    """The last offset at or before ``at`` that no run of ``text`` crosses (0 if none near)."""
    if at <= 0:
        return 0
    starts = [m.start() for m in _BREAK.finditer(text, max(0, at - within), at + 1)]
    return starts[-1] if starts else 0


def first_mention(
    text: str, language: str, terms: frozenset[str], start: int = 0, stop: int | None = None
) -> int | None:
    """An offset in ``text[start:stop]`` at or before the first run that gives one of
    ``terms``, or None when no run there does (a lone Han character: when none is there).

    Faster than analysing the text, since each distinct word is looked at once.
    """
    part = text[start:stop]
    cache = _cache(language)
    hans: list[str] = []
    if part.isascii():
        words = set(_ASCII_WORD.findall(part))
    else:
        runs = _RUN.findall(part)
        words = {w for _, w in runs if w}
        hans = [h for h, _ in runs if h]
    # The first place a word is found is at or before its first whole occurrence.
    found = [part.find(w) for w in words if not terms.isdisjoint(cache.get(w))]
    if hans:
        folded = _fold_han(_SPACE.sub("", "|".join(hans)))
        for term in terms:
            at = folded.find(term) if len(term) <= 2 and HAN.match(term) else -1
            if at >= 0:
                found.append(part.find(hans[folded.count("|", 0, at)]))
    return start + min(found) if found else None


def tokens(text: str, language: str) -> list[Token]:
    """The terms of ``analyze`` with the span of the original text each comes from."""
    scan = Scan(text, language)
    scan.add()
    return scan.tokens()


def query_positions(text: str) -> tuple[tuple[str, ...], ...]:
    """The terms a query word or phrase must match at consecutive positions.

    The document's language is unknown, so a Latin word may match the stem of any
    of the Latin stemmers: each position holds all the terms it could have given.
    """
    runs = _RUN.findall(text)
    if len(runs) == 1 and runs[0][0]:
        han = _fold_han(_SPACE.sub("", runs[0][0]))
        if len(han) == 2:
            # A two-character word alone: its bigram stands exactly where the phrase of
            # character, bigram, character would, and is far cheaper to look up.
            return ((han,),)
    positions: list[tuple[str, ...]] = []
    for han, run in runs:
        if han:
            positions.extend((b,) for b in _bigrams(_fold_han(_SPACE.sub("", han))))
            continue
        for word, is_han in _fold_word(run):
            if is_han:
                positions.append((word,))
                continue
            alternatives = _word_alternatives(word, _LATIN_STEMMERS)
            terms = tuple(t for t in alternatives if 0 < len(t) <= MAX_TERM)
            if terms:
                positions.append(terms)
    return tuple(positions)


def query_alternatives(word: str) -> tuple[str, ...]:
    """The distinct index terms one query word could have produced in any document.

    ``word`` is one run of letters or digits (or one Han character); text that
    gives several positions has no single set of alternatives, and gives ().
    """
    positions = query_positions(word)
    return positions[0] if len(positions) == 1 else ()


__all__ = [
    "HAN",
    "MAX_TERM",
    "Scan",
    "Token",
    "analyze",
    "arabic_stem",
    "boundary",
    "boundary_before",
    "first_mention",
    "query_alternatives",
    "query_positions",
    "tokens",
]
