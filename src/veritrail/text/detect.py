"""The language of a text: one of the six UN languages, or ``"und"`` when unsure.

Chinese, Arabic and Russian are told apart by their scripts alone: counting
letters is exact and fast. Text in Latin letters is cut into chunks of about a
thousand characters and each chunk is given to lingua, restricted to English,
French and Spanish; chunks too short to judge alone are judged together.
Shares are counted in letters (a Han character counts as one letter), so a
Chinese document quoting web addresses stays Chinese.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")
UNDETERMINED = "und"

# Fewer letters than this in the leading language and the text is "und".
MIN_LETTERS = {"zh": 2, "ar": 4, "ru": 4, "latin": 16}
_CHUNK_CHARS = 1_000
_CHUNK_MIN_LATIN = 40  # a chunk with fewer Latin letters is judged with the others like it
_MAX_CHUNKS = 32  # longer texts are sampled evenly: the shares barely move after that

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_ARABIC = re.compile(
    r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06fc\u0750-\u077f\ufb50-\ufdfb\ufe70-\ufefc]"
)
_CYRILLIC = re.compile(r"[\u0400-\u0481\u048a-\u052f]")
_LATIN = re.compile(r"[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_LATIN_WORDS = re.compile(
    r"[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]+(?:['\u2019-]"
    r"[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]+)*"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u3000]*\n")
_LETTER = re.compile(r"[^\W\d_]")
# Web and e-mail addresses are in no language.
_ADDRESSES = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff01-\uff5e]+|[\w.+-]+@[\w-]+\.[\w.-]+"
)
_SHORT_LATIN = 80
# Function words of one of the three languages and neither of the others.
_FUNCTION_WORDS = {
    "en": frozenset(
        "the of and to is was for with by from that this are be at it as has have".split()
    ),
    "fr": frozenset("le les des du et est une pour dans par au aux sur qui sont été l d".split()),
    "es": frozenset("el los las del y una para por con al sido lo".split()),
}
_LINGUA = {Language.ENGLISH: "en", Language.FRENCH: "fr", Language.SPANISH: "es"}


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Low accuracy mode keeps only the trigram models: loaded in milliseconds, and as
    # accurate as the full models on anything of a paragraph or more.
    return (
        LanguageDetectorBuilder.from_languages(*_LINGUA)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(text) - len(pattern.sub("", text))


def _by_function_words(words: list[str]) -> str | None:
    hits = dict.fromkeys(_FUNCTION_WORDS, 0)
    for word in words:
        for part in re.split("['\u2019]", word.casefold()):
            for language, vocabulary in _FUNCTION_WORDS.items():
                hits[language] += part in vocabulary
    best = max(hits.values())
    winners = [language for language, n in hits.items() if n == best]
    return winners[0] if best and len(winners) == 1 else None


def _latin_language(text: str) -> str | None:
    # Only the Latin words: lingua's time grows with every character it is given.
    words = _LATIN_WORDS.findall(text)
    if sum(map(len, words)) < _SHORT_LATIN:
        # Trigrams alone misjudge headings ("General and complete disarmament" reads as
        # Spanish); words found only in one of the three languages settle them.
        found_by_words = _by_function_words(words)
        if found_by_words:
            return found_by_words
    found = _detector().detect_language_of(" ".join(words))
    return _LINGUA.get(found) if found is not None else None


def _chunks(text: str) -> list[str]:
    """``text`` cut into paragraphs, and long paragraphs into pieces of about a thousand characters.

    Languages change between paragraphs, so paragraphs are never joined; a long one
    (a PDF page is one paragraph) is cut at line ends, or at spaces within a long line.
    """
    chunks: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        current: list[str] = []
        size = 0
        for line in paragraph.splitlines():
            while len(line) > 2 * _CHUNK_CHARS:
                cut = line.rfind(" ", _CHUNK_CHARS // 2, _CHUNK_CHARS)
                cut = cut if cut > 0 else _CHUNK_CHARS
                chunks.append(line[:cut])
                line = line[cut:]
            current.append(line)
            size += len(line) + 1
            if size >= _CHUNK_CHARS:
                chunks.append("\n".join(current))
                current, size = [], 0
        if current:
            chunks.append("\n".join(current))
    return chunks


def _latin_counts(text: str, latin: int) -> dict[str, float]:
    """``latin`` letters shared among en, fr and es by judging chunks of ``text``."""
    judged: dict[str, float] = {}
    pooled: list[str] = []
    pooled_letters = 0
    chunks = [(c, _count(_LATIN, c)) for c in _chunks(text)]
    long_chunks = [(c, n) for c, n in chunks if n >= _CHUNK_MIN_LATIN]
    for chunk, n in chunks:
        if n and n < _CHUNK_MIN_LATIN:
            pooled.append(chunk)
            pooled_letters += n
    if len(long_chunks) > _MAX_CHUNKS:
        step = len(long_chunks) / _MAX_CHUNKS
        long_chunks = [long_chunks[int(i * step)] for i in range(_MAX_CHUNKS)]
    for chunk, n in long_chunks:
        language = _latin_language(chunk)
        if language:
            judged[language] = judged.get(language, 0) + n
    if pooled_letters >= MIN_LETTERS["latin"]:
        language = _latin_language("\n".join(pooled))
        if language:
            judged[language] = judged.get(language, 0) + pooled_letters
    total = sum(judged.values())
    if not total:
        return {}
    # The sample stands for all the Latin letters of the text.
    return {language: latin * n / total for language, n in judged.items()}


def _script_counts(text: str) -> tuple[dict[str, float], int, int]:
    """Letters of Chinese, Arabic and Russian; Latin letters; and letters of any script."""
    letters = _count(_LETTER, text)
    counts: dict[str, float] = {}
    for language, pattern in (("zh", _HAN), ("ar", _ARABIC), ("ru", _CYRILLIC)):
        n = _count(pattern, text) if letters else 0
        if n:
            counts[language] = n
    return counts, (_count(_LATIN, text) if letters else 0), letters


def languages_by_share(text: str) -> list[tuple[str, float]]:
    """Each of the six languages found in ``text`` with its share of the letters, largest first.

    Shares are fractions of every letter in the text, so they add up to less than
    one when some letters belong to no language Veritrail detects.
    """
    text = _ADDRESSES.sub(" ", text)
    counts, latin, letters = _script_counts(text)
    if latin >= MIN_LETTERS["latin"]:
        counts.update(_latin_counts(text, latin))
    shares = [(language, n / letters) for language, n in counts.items() if n > 0]
    return sorted(shares, key=lambda pair: (-pair[1], pair[0]))


def detect_language(text: str) -> str:
    """The main language of ``text``: ar, en, es, fr, ru or zh; "und" when it cannot tell."""
    text = _ADDRESSES.sub(" ", text)
    counts, latin, letters = _script_counts(text)
    unknown = letters - sum(counts.values()) - latin
    if latin >= MIN_LETTERS["latin"] and latin > max(counts.values(), default=0):
        # Only when Latin letters could lead is it worth asking which language they are.
        judged = _latin_counts(text, latin)
        counts.update(judged)
        unknown += latin - round(sum(judged.values()))
    if not counts:
        return UNDETERMINED
    language, n = max(counts.items(), key=lambda pair: (pair[1], pair[0]))
    if n < MIN_LETTERS.get(language, MIN_LETTERS["latin"]) or n < unknown:
        return UNDETERMINED
    return language


__all__ = ["LANGUAGES", "UNDETERMINED", "detect_language", "languages_by_share"]
