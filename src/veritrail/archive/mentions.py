"""What a document mentions: UN document symbols, resolutions, dates, states and chemicals.

The text is matched in a folded form: NFKC (full-width digits and brackets
become ASCII), Latin letters without accents, ``ё`` as ``е``, Arabic-Indic
digits as ASCII ones and Arabic without diacritics or letter variants. State
and chemical names are matched through one regular expression each, built
once as a trie of every name so that a 100 KB document is scanned in one pass.
Names in alphabetic scripts must stand as whole words and begin with a capital
(``Oman`` is not found in ``Romania``, nor ``Chad`` in ``chad``); Chinese names
are matched inside the text, the longest first, with a short list of phrases
that contain a state's name without naming it (发展中国家 is not China).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from veritrail.archive.folding import (
    capitalised_pattern,
    fold_for_matching,
    starts_word,
    trie_pattern,
)
from veritrail.archive.state_names import HAN_CHAR, PARENTHESIS, find_states
from veritrail.regimes import registry


@dataclass(frozen=True, slots=True)
class Resolution:
    """A Security Council (``S``) or General Assembly (``A``) resolution.

    Security Council resolutions are numbered with their year: 1540 (2004).
    General Assembly resolutions are numbered within a session: 59/60 is
    resolution 60 of the fifty-ninth session, ``session=59``.
    """

    body: str | None  # "S", "A", or None when the text does not say
    number: int
    year: int | None = None
    session: int | None = None

    @property
    def symbol(self) -> str | None:
        """The resolution's document symbol, when the mention gives enough to write it."""
        if self.body == "S" and self.year:
            return f"S/RES/{self.number}({self.year})"
        if self.body == "A" and self.session:
            return f"A/RES/{self.session}/{self.number}"
        return None


@dataclass(frozen=True, slots=True)
class Chemical:
    cas: str | None  # CAS registry number, check digit verified
    name: str | None  # the English name in the regime pack's list
    schedule: str | None  # the list's schedule ("1A", "2B"…), when it has one


@dataclass(frozen=True, slots=True)
class Mentions:
    symbols: tuple[str, ...]
    resolutions: tuple[Resolution, ...]
    dates: tuple[datetime.date, ...]
    states: tuple[str, ...]  # ISO 3166-1 alpha-3
    chemicals: tuple[Chemical, ...]


# -- document symbols ----------------------------------------------------------------------

_BODIES = "A|S|E|T|ST|CD|NPT|CCW|BWC|APLC|ATT|TPNW|INFCIRC|GOV|CTBT"
# One part of a symbol: "75", "RES", "PV.8160", "C.1", "L.4", "ES-10", "Add.1". A hyphen
# followed by another symbol ("A/75/649-S/2020/1197") ends the part.
_PART = rf"[A-Za-z0-9]{{1,12}}(?:(?:\.|-(?!(?:{_BODIES}) ?/))[A-Za-z0-9]{{1,8}}){{0,3}}"
_SYMBOL = re.compile(
    rf"(?<![A-Za-z0-9/.\-])(?P<body>{_BODIES})(?P<parts>(?: ?/ ?{_PART})+)"
    r"(?: ?\((?P<year>(?:19|20)\d\d)\))?(?![A-Za-z0-9])"
)
# A web address of the Official Document System names a symbol after the language.
_ODS_ADDRESS = re.compile(r"undocs\.org/(?:(?:ar|ch|zh|en|es|fr|ru)/)?", re.IGNORECASE)


def _symbols(folded: str) -> Iterator[tuple[str, Resolution | None]]:
    text = _ODS_ADDRESS.sub(" ", folded)
    for match in _SYMBOL.finditer(text):
        parts = [p.strip().upper() for p in match.group("parts").split("/") if p.strip()]
        if not any(c.isdigit() for part in parts for c in part):
            continue
        if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) < 3:
            continue  # "S/25": too likely a ratio or a page
        body = match.group("body")
        year = match.group("year") if "RES" in parts else None
        symbol = "/".join([body, *parts]) + (f"({year})" if year else "")
        resolution = None
        if parts[0] == "RES" and len(parts) >= 2 and parts[-1].isdigit():
            if body == "S" and len(parts) == 2:
                resolution = Resolution("S", int(parts[1]), int(year) if year else None)
            elif body == "A" and len(parts) == 3 and parts[1].isdigit():
                resolution = Resolution("A", int(parts[2]), session=int(parts[1]))
        yield symbol, resolution


# -- resolutions ---------------------------------------------------------------------------

_SC_ITEM = r"(?P<sc>\d{1,4}) ?\( ?(?P<year>(?:19|20)\d\d) ?\)"
_GA_ITEM = r"(?P<session>\d{1,2}) ?/ ?(?P<ga>\d{1,3})(?: ?[A-Z](?![A-Za-z]))?"
_OLD_GA_ITEM = r"(?P<old>\d{2,4}) ?\( ?(?P<roman>[IVXL]{1,7}) ?\)"  # 2373 (XXII), before 1976
_BARE_ITEM = r"(?P<bare>\d{1,4})(?![\d/(])"
_ITEM = re.compile(rf"{_SC_ITEM}|{_GA_ITEM}|{_OLD_GA_ITEM}|{_BARE_ITEM}")
_ITEMS = "(?:" + re.sub(r"\(\?P<\w+>", "(?:", _ITEM.pattern) + ")"  # the same, unnamed
_LIST_JOIN = r"\s*(?i:,|;|and|et|y|e|и|و)\s*"
# The first letter outside any case-insensitive group lets the engine skip ahead to it.
_KEYWORD = re.compile(
    r"(?:[Rr](?i:esolutions?|esolucion(?:es)?)|[Рр](?i:езолюци[а-я]{0,3})"
    r"|[وبل]?(?:ال)?قرار(?:ات|ين|ي)?)"
    r"(?P<gap>(?:\s+[\u0621-\u064a]+){0,3}?)"
    r"\s+(?i:(?:no|n°|nº|№)\.?\s*)?"
    rf"(?P<list>{_ITEMS}(?:{_LIST_JOIN}{_ITEMS})*)"
)
_ZH_ITEMS = _ITEMS.replace(" ?", r"\s*")
_ZH_RUN = re.compile(
    rf"第\s*{_ZH_ITEMS}(?:\s*[号號]?\s*(?:[、,]|和|及|与|與|以及)\s*(?:第\s*)?{_ZH_ITEMS})*"
    r"\s*[号號]\s*(?:决议|決議)"
)
_ZH_ITEM = re.compile(_ITEM.pattern.replace(" ?", r"\s*"))
_SC_WORDS = re.compile(
    r"security council|conseil de securite|consejo de seguridad|совет\w* безопасности"
    r"|مجلس الامن|安全理事会|安理会",
    re.IGNORECASE,
)
_GA_WORDS = re.compile(
    r"general assembly|assemblee generale|asamblea general|генеральн\w* ассамбле\w*"
    r"|الجمعيه العامه|大会",
    re.IGNORECASE,
)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman(numeral: str) -> int:
    values = [_ROMAN[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _body_in(context: str) -> str | None:
    """The body named last in ``context`` (the words before a bare resolution number)."""
    council = [m.end() for m in _SC_WORDS.finditer(context)]
    assembly = [m.end() for m in _GA_WORDS.finditer(context)]
    if not council and not assembly:
        return None
    return "S" if max(council, default=-1) > max(assembly, default=-1) else "A"


def _items(found: Iterable[re.Match[str]], context: Callable[[], str]) -> Iterator[Resolution]:
    for item in found:
        if item.group("sc"):
            yield Resolution("S", int(item.group("sc")), int(item.group("year")))
        elif item.group("ga"):
            yield Resolution("A", int(item.group("ga")), session=int(item.group("session")))
        elif item.group("old"):
            yield Resolution("A", int(item.group("old")), session=_roman(item.group("roman")))
        elif item.group("bare"):
            yield Resolution(_body_in(context()), int(item.group("bare")))


def _resolutions(folded: str, compact: str) -> Iterator[Resolution]:
    for match in _KEYWORD.finditer(folded):
        start = match.start()
        if not starts_word(folded, start):
            continue

        def context(start: int = start, gap: str = match.group("gap")) -> str:
            return folded[max(0, start - 60) : start] + gap

        yield from _items(_ITEM.finditer(match.group("list")), context)
    for run in _ZH_RUN.finditer(compact):

        def before(start: int = run.start()) -> str:
            return compact[max(0, start - 12) : start]

        yield from _items(_ZH_ITEM.finditer(run.group()), before)


# -- dates ---------------------------------------------------------------------------------

_MONTHS = {
    "en": "january february march april may june july august september october november december",
    "fr": "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    # Egyptian names, and the Levantine names UN documents write before them: "كانون الأول/ديسمبر".
    "ar": "يناير فبراير مارس ابريل مايو يونيو يوليه اغسطس سبتمبر اكتوبر نوفمبر ديسمبر",
    "ar-levant": "كانون_الثاني شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين_الاول "
    "تشرين_الثاني كانون_الاول",
}
_MONTH_NUMBER: dict[str, int] = {}
for _names in _MONTHS.values():
    for _number, _name in enumerate(_names.split(), 1):
        _MONTH_NUMBER[_name.replace("_", " ")] = _number
_MONTH_NUMBER.update({"setiembre": 9, "يوليو": 7, "sept": 9})
_MONTH = capitalised_pattern(_MONTH_NUMBER, cased_first=False)
_YEAR = r"(?P<y>(?:19|20)\d\d)(?!\d)"
_DAY = r"(?P<d>[0-3]?\d)(?i:st|nd|rd|th|er)?"
# Each begins with a digit or a month's first letter, so that the engine skips ahead to
# them; that no digit comes just before is checked after matching.
_DATES = (
    re.compile(r"(?P<y>(?:19|20)\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)"),
    re.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>[01]?\d)\s*月\s*(?P<d>[0-3]?\d)\s*日"),
    re.compile(
        rf"{_DAY}\s+(?i:de\s+)?(?:{_MONTH}\s*/\s*)?(?P<mn>{_MONTH})\.?,?\s+(?i:del?\s+)?{_YEAR}"
    ),
    # "December 11, 2020": English, so the month is written with a capital.
    re.compile(
        rf"(?P<mn>{capitalised_pattern(_MONTH_NUMBER, cased_first=True)})\s+{_DAY}\s*,\s*{_YEAR}"
    ),
)


def _dates(folded: str) -> Iterator[datetime.date]:
    for pattern in _DATES:
        for match in pattern.finditer(folded):
            before = folded[match.start() - 1] if match.start() else " "
            if before.isdigit() or (match.group("d") is None and before.isalpha()):
                continue
            parts = match.groupdict()
            month = int(parts["m"]) if parts.get("m") else _MONTH_NUMBER[parts["mn"].lower()]
            try:
                yield datetime.date(int(parts["y"]), month, int(parts["d"]))
            except ValueError:
                continue  # 31 February


# -- chemicals -----------------------------------------------------------------------------

_CAS = re.compile(r"(?<![\d-])(\d{2,7})-(\d{2})-(\d)(?![\d-])")


def cas_is_valid(cas: str) -> bool:
    """Whether a CAS registry number's last digit is its check digit."""
    digits = cas.replace("-", "")
    if not digits.isdigit() or len(digits) < 5:
        return False
    body, check = digits[:-1], int(digits[-1])
    return sum(i * int(d) for i, d in enumerate(reversed(body), 1)) % 10 == check


def _chemical_names(name: str) -> Iterator[tuple[str, bool]]:
    """The ways a listed name is written, each with whether it is a code ("VX", "DMMP").

    "Sarin (GB): O-Isopropyl methylphosphonofluoridate" gives "Sarin (GB)", "Sarin"
    and the systematic name; codes of one letter or two ("GB", "H") are too ambiguous
    to look for, except where they are the chemical's only short name (VX).
    """
    for part in fold_for_matching(name).split(":"):
        part = part.strip()
        inner = PARENTHESIS.search(part)
        bare = PARENTHESIS.sub("", part).strip()
        candidates = {part, bare} | ({inner.group(1).strip()} if inner else set())
        for candidate in candidates:
            han = bool(HAN_CHAR.search(candidate))
            code = not han and not any(c.islower() for c in candidate) and len(candidate) <= 6
            if han or len(candidate) >= (2 if code and candidate is bare else 3 if code else 4):
                yield candidate, code


@dataclass(frozen=True, slots=True)
class _ChemicalList:
    by_cas: dict[str, Chemical]
    by_name: dict[str, str]  # lower-case name -> CAS
    codes: frozenset[str]  # lower-case names that are codes, found only in capitals
    pattern: re.Pattern[str] | None


@lru_cache(maxsize=1)
def _chemical_list() -> _ChemicalList:
    """Every code list of CAS numbers in the regime packs, with the names they give."""
    by_cas: dict[str, Chemical] = {}
    by_name: dict[str, str] = {}
    codes: set[str] = set()
    for pack in registry().packs.values():
        for code_list in pack.lists.values():
            if code_list.format != "cas":
                continue
            for entry in code_list.entries:
                schedule = code_list.attribute(entry, "schedule")
                known = by_cas.get(entry.code)
                if known is None or (known.schedule is None and schedule):
                    by_cas[entry.code] = Chemical(
                        entry.code, entry.name.en, str(schedule) if schedule else None
                    )
                for label in (entry.name.en, entry.name.zh):
                    for name, code in _chemical_names(label or ""):
                        by_name.setdefault(name.lower(), entry.code)
                        if code:
                            codes.add(name.lower())
    if not by_name:
        return _ChemicalList(by_cas, by_name, frozenset(codes), None)
    # Matched in lower-cased text: a case-insensitive trie is four times slower.
    pattern = "(?:" + trie_pattern(by_name) + r")(?![\w])"
    return _ChemicalList(by_cas, by_name, frozenset(codes), re.compile(pattern))


def _chemicals(folded: str, compact: str) -> set[Chemical]:
    listed = _chemical_list()
    found: set[Chemical] = set()
    for match in _CAS.finditer(folded):
        cas = match.group()
        if cas_is_valid(cas):
            found.add(listed.by_cas.get(cas) or Chemical(cas, None, None))
    if listed.pattern is not None:
        for text in {folded, compact}:
            lowered = text.lower()
            for match in listed.pattern.finditer(lowered):
                name, start = match.group(), match.start()
                if not HAN_CHAR.match(name) and not starts_word(lowered, start):
                    continue
                if name in listed.codes and not text[start : match.end()].isupper():
                    continue
                listed_cas = listed.by_name.get(name)
                if listed_cas:
                    found.add(listed.by_cas[listed_cas])
    return found


# -- all together --------------------------------------------------------------------------

_CJK_GAP = re.compile(
    r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef(])"
)


def find_mentions(text: str) -> Mentions:
    """Symbols, resolutions, dates, states and chemicals named in ``text``, sorted, once each."""
    folded = fold_for_matching(text)
    # Chinese lines break anywhere, even inside a name: 安全理事会 may be 安\n全理事会.
    compact = _CJK_GAP.sub("", folded)
    symbols: set[str] = set()
    resolutions: set[Resolution] = set()
    for symbol, resolution in _symbols(folded):
        symbols.add(symbol)
        if resolution:
            resolutions.add(resolution)
    resolutions.update(_resolutions(folded, compact))
    # A resolution named once with its body and once without is one resolution.
    known = {(r.number, r.year) for r in resolutions if r.body}
    resolutions = {r for r in resolutions if r.body or (r.number, r.year) not in known}
    states = find_states(folded)
    if compact != folded:
        states |= find_states(compact)
    return Mentions(
        symbols=tuple(sorted(symbols)),
        resolutions=tuple(
            sorted(resolutions, key=lambda r: (r.body or "", r.session or 0, r.number, r.year or 0))
        ),
        dates=tuple(sorted(set(_dates(compact)))),
        states=tuple(sorted(states)),
        chemicals=tuple(
            sorted(_chemicals(folded, compact), key=lambda c: (c.cas or "", c.name or ""))
        ),
    )


__all__ = [
    "Chemical",
    "Mentions",
    "Resolution",
    "cas_is_valid",
    "find_mentions",
    "fold_for_matching",
    "trie_pattern",
]
