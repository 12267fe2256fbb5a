"""Text normalisation for matching: the same folding at ingestion, indexing and query time.

``fold`` is what search compares: Unicode NFKC (full-width digits, letters and
punctuation become their ordinary forms), case folding, traditional Chinese
characters folded to simplified ones, and Arabic normalised (diacritics and
tatweel dropped, the alef forms, alef maqsura and teh marbuta unified). Folding
may change a text's length, so code that needs offsets into the original (the
highlighter) splits the original into words first and folds each word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Arabic harakat, Quranic marks, superscript alef and tatweel: not letters for search.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {
        "\u0622": "\u0627",  # alef with madda above -> alef
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0649": "\u064a",  # alef maqsura -> yeh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06cc": "\u064a",  # Farsi yeh -> yeh
        "\u06a9": "\u0643",  # keheh -> kaf
    }
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters folded to simplified ones; other text unchanged."""
    if not _HAN.search(text):
        return text
    return str(_t2s().convert(text))


def normalize_arabic(text: str) -> str:
    """Arabic without diacritics or tatweel, with its letter variants unified."""
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)


def fold(text: str) -> str:
    """The form search compares: NFKC, case-folded, simplified Chinese, normalised Arabic."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return normalize_arabic(to_simplified(folded))


def nfkc(text: str) -> str:
    """Unicode NFKC alone: full-width digits and punctuation made ordinary, case kept."""
    return unicodedata.normalize("NFKC", text)


__all__ = ["fold", "nfkc", "normalize_arabic", "to_simplified"]
