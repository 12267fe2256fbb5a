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
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

from veritrail.reference.states import all_states
from veritrail.regimes import registry
from veritrail.text.normalize import nfkc, normalize_arabic


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


# -- folding -------------------------------------------------------------------------------


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


def _starts_word(text: str, start: int, joiners: str = "_-") -> bool:
    """Whether a match at ``start`` begins a word: no letter, digit or joiner just before it."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in joiners)


# -- states --------------------------------------------------------------------------------

# UN names a state goes by that the reference data (short CLDR names) does not contain.
_STATE_NAMES: dict[str, tuple[str, ...]] = {
    "RUS": (
        "Russian Federation",
        "Fédération de Russie",
        "Federación de Rusia",
        "Российская Федерация",
        "الاتحاد الروسي",
        "俄罗斯联邦",
    ),
    "USA": (
        "United States of America",
        "USA",
        "États-Unis d'Amérique",
        "Estados Unidos de América",
        "Соединенные Штаты Америки",
        "США",
        "الولايات المتحدة الأمريكية",
        "美利坚合众国",
    ),
    "GBR": (
        "United Kingdom of Great Britain and Northern Ireland",
        "Great Britain",
        "Royaume-Uni de Grande-Bretagne et d'Irlande du Nord",
        "Reino Unido de Gran Bretaña e Irlanda del Norte",
        "Соединенное Королевство Великобритании и Северной Ирландии",
        "Соединенное Королевство",
        "المملكة المتحدة لبريطانيا العظمى وأيرلندا الشمالية",
        "大不列颠及北爱尔兰联合王国",
        "联合王国",
    ),
    "CHN": (
        "People's Republic of China",
        "République populaire de Chine",
        "República Popular China",
        "Китайская Народная Республика",
        "КНР",
        "جمهورية الصين الشعبية",
        "中华人民共和国",
    ),
    "FRA": (
        "République française",
        "Французская Республика",
        "الجمهورية الفرنسية",
        "法兰西共和国",
    ),
    "DEU": (
        "Federal Republic of Germany",
        "République fédérale d'Allemagne",
        "República Federal de Alemania",
        "Федеративная Республика Германия",
        "جمهورية ألمانيا الاتحادية",
        "德意志联邦共和国",
    ),
    "SYR": (
        "République arabe syrienne",
        "República Árabe Siria",
        "Сирийская Арабская Республика",
        "الجمهورية العربية السورية",
        "سورية",
        "阿拉伯叙利亚共和国",
    ),
    "PRK": (
        "Democratic People's Republic of Korea",
        "DPRK",
        "République populaire démocratique de Corée",
        "República Popular Democrática de Corea",
        "Корейская Народно-Демократическая Республика",
        "جمهورية كوريا الشعبية الديمقراطية",
        "朝鲜民主主义人民共和国",
    ),
    "KOR": (
        "Republic of Korea",
        "République de Corée",
        "República de Corea",
        "جمهورية كوريا",
        "大韩民国",
    ),
    "LAO": (
        "République démocratique populaire lao",
        "República Democrática Popular Lao",
        "Лаосская Народно-Демократическая Республика",
        "جمهورية لاو الديمقراطية الشعبية",
    ),
    "COD": (
        "Democratic Republic of the Congo",
        "République démocratique du Congo",
        "Демократическая Республика Конго",
        "جمهورية الكونغو الديمقراطية",
        "刚果民主共和国",
    ),
    "COG": (
        "Congo",
        "Republic of the Congo",
        "République du Congo",
        "República del Congo",
        "Конго",
        "Республика Конго",
        "الكونغو",
        "刚果",
        "刚果共和国",
    ),
    "CZE": (
        "Czech Republic",
        "République tchèque",
        "República Checa",
        "Чешская Республика",
        "الجمهورية التشيكية",
        "تشيكيا",
    ),
    "PSE": (
        "State of Palestine",
        "Palestine",
        "État de Palestine",
        "Estado de Palestina",
        "Palestina",
        "Государство Палестина",
        "Палестина",
        "دولة فلسطين",
        "فلسطين",
        "巴勒斯坦国",
        "巴勒斯坦",
    ),
    "VAT": ("Holy See", "Saint-Siège", "Santa Sede", "Святой Престол", "الكرسي الرسولي", "教廷"),
    "TLS": ("East Timor", "Тимор-Лешти", "تيمور-ليشتي", "تيمور ليشتي"),
    "VNM": ("فييت نام",),
    "CPV": ("كابو فيردي",),
    "CIV": ("كوت ديفوار",),
    "SWZ": ("Swaziland",),
    "TUR": ("Turkey",),
    "KGZ": ("Kirghizistan", "Кыргызстан", "Kyrgyz Republic"),
    "BHR": ("Bahrein",),
    "SAU": ("Arabia Saudita",),
    "KAZ": ("Kazajstán",),
    "KNA": ("Saint-Kitts-et-Nevis",),
    "ARE": ("Объединенные Арабские Эмираты",),
    "MHL": ("Маршалловы Острова",),
    "SLB": ("Соломоновы Острова",),
    "SYC": ("Сейшельские Острова",),
    "ZAF": ("Южная Африка",),
    "FSM": ("Микронезия",),
    "PNG": ("Папуа-Новая Гвинея",),
}
# Phrases that hold a state's name without naming the state; matched and dropped.
_NOT_STATES = (
    "发展中国家",
    "中国家",
    "中国际",
    "美国家",
    "法国家",
    "印度洋",
    "印度支那",
    "内蒙古",
    "北爱尔兰",
    "马里兰",
    "马里奥",
    "努尔苏丹",
    "海地区",
    "沿海地",
    "几内亚湾",
    "古巴比伦",
    "约旦河",
    "加纳利",
    "阿曼达",
    "Northern Ireland",
    "New Guinea",
    "Gulf of Guinea",
    "Niger Delta",
    "New Mexico",
    "Irlande du Nord",
    "Nouvelle-Guinée",
    "Golfe de Guinée",
    "Nouveau-Mexique",
    "Irlanda del Norte",
    "Nueva Guinea",
    "Golfo de Guinea",
    "Nuevo México",
    "Северная Ирландия",
    "Новая Гвинея",
    "Гвинейский залив",
    "Нью-Мексико",
    "أيرلندا الشمالية",
    "غينيا الجديدة",
    "خليج غينيا",
    "نيو مكسيكو",
)
# Reference names that are also everyday words: "مالي" is "financial", "Grenade" a grenade.
_AMBIGUOUS = frozenset({"مالي", "Grenade"})
_AND = ("and", "et", "y", "и")
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)\s*$")  # "Myanmar (Burma)", "Sarin (GB)"
_HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]")

# Russian endings by case (nominative, genitive, dative, accusative, instrumental,
# prepositional); alternatives are separated by "|". Longest endings first.
_RU_ADJECTIVES = (
    ("овы", ("овы", "овых", "овым", "овы", "овыми", "овых")),
    ("ая", ("ая", "ой", "ой", "ую", "ой", "ой")),
    ("яя", ("яя", "ей", "ей", "юю", "ей", "ей")),
    ("ое", ("ое", "ого", "ому", "ое", "ым", "ом")),
    ("ые", ("ые", "ых", "ым", "ые", "ыми", "ых")),
    ("ие", ("ие", "их", "им", "ие", "ими", "их")),
    ("ый", ("ый", "ого", "ому", "ый", "ым", "ом")),
    ("ий", ("ий", "ого", "ому", "ий", "им", "ом")),
)
_RU_NOUNS = (
    ("ство", ("ство", "ства", "ству", "ство", "ством", "стве")),
    ("ия", ("ия", "ии", "ии", "ию", "ией", "ии")),
    ("уа", ("уа",) * 6),  # Антигуа, Никарагуа, Папуа: not declined
    ("ка", ("ка", "ки", "ке", "ку", "кой", "ке")),
    ("га", ("га", "ги", "ге", "гу", "гой", "ге")),
    ("ха", ("ха", "хи", "хе", "ху", "хой", "хе")),
    ("ша", ("ша", "ши", "ше", "шу", "шей|шой", "ше")),
    ("жа", ("жа", "жи", "же", "жу", "жей|жой", "же")),
    ("ча", ("ча", "чи", "че", "чу", "чей|чой", "че")),
    ("а", ("а", "ы", "е", "у", "ой", "е")),
    ("я", ("я", "и", "е", "ю", "ей", "е")),
    ("й", ("й", "я", "ю", "й", "ем", "е")),
    ("ь", ("ь", "я|и", "ю|и", "ь", "ем|ью", "е|и")),
    ("ы", ("ы", "ов|", "ам", "ы", "ами", "ах")),
)
_RU_VOWELS = "оеиуюэ"
_RU_IRREGULAR = {
    "Острова": ("Острова", "Островов", "Островам", "Острова", "Островами", "Островах"),
    "Египет": ("Египет", "Египта", "Египту", "Египет", "Египтом", "Египте"),
}


def _decline_word(word: str, case: int) -> tuple[list[str], bool]:
    """The forms of one Russian word in ``case``, and whether it was a noun (a head)."""
    if word in _RU_IRREGULAR:
        return [_RU_IRREGULAR[word][case]], True
    if "-" in word:
        first, _, last = word.rpartition("-")
        if last and last[-1] in _RU_VOWELS:  # Гвинея-Бисау: the first part is declined
            heads, noun = _decline_word(first, case)
            return [f"{head}-{last}" for head in heads], noun
        forms, noun = _decline_word(last, case)
        return [f"{first}-{form}" for form in forms], noun
    for ending, endings in _RU_ADJECTIVES:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            return [word[: -len(ending)] + e for e in endings[case].split("|")], False
    if word.endswith("ство"):  # Королевство, Государство
        return [word[:-1] + ("о", "а", "у", "о", "ом", "е")[case]], True
    if not word or word[-1] in _RU_VOWELS or not word[-1].isalpha():
        return [word], True  # foreign names in a vowel are not declined: Мали, Перу, Того
    for ending, endings in _RU_NOUNS:
        if word.endswith(ending):
            return [word[: -len(ending)] + e for e in endings[case].split("|")], True
    consonant = ("", "а", "у", "", "ом", "е")[case]  # Иран, Ирана, Ирану…
    return [word + consonant], True


def _russian_forms(name: str) -> set[str]:
    """``name`` in the six cases: adjectives agree with their noun; what follows stays.

    After "и" the next noun is declined too when the one before it was (Боснии и
    Герцеговины), not when it was a complement (Великобритании и Северной Ирландии).
    """
    forms = {name}
    for case in range(6):
        variants = [""]
        declining = last_declined = True
        for word in name.split(" "):
            if word in _AND or word in ("—", "–"):
                declining = last_declined
                options = [word]
            elif declining and _CYRILLIC_WORD.search(word):
                options, noun = _decline_word(word, case)
                declining, last_declined = not noun, True
            else:
                options, last_declined = [word], False
            variants = [f"{v} {o}".strip() for v in variants for o in options]
        forms.update(variants)
    return forms


def _arabic_forms(name: str) -> set[str]:
    """``name`` with the prefixes Arabic joins to it: و ف (and), ب ل ك (in, to, as)."""
    forms = set()
    for conjunction in ("", "و", "ف"):
        for preposition in ("", "ب", "ل", "ك"):
            if preposition == "ل" and name.startswith("ال"):
                forms.add(conjunction + "ل" + name[1:])  # ل + الصين = للصين
            else:
                forms.add(conjunction + preposition + name)
    return forms


def _variants(name: str) -> set[str]:
    """Spellings of one name as texts write it."""
    names = {name}
    inside = _PARENTHESIS.search(name)
    if inside:  # "Myanmar (Burma)": both names
        names = {_PARENTHESIS.sub(" ", name).strip(), inside.group(1).strip()}
    for conjunction in _AND:
        names |= {n.replace(" & ", f" {conjunction} ") for n in names if " & " in n}
    names |= {n.replace("St. ", "Saint ") for n in names if n.startswith("St. ")}
    names = {fold_for_matching(n) for n in names if n and "&" not in n and " - " not in n}
    forms: set[str] = set()
    for n in names:
        forms.add(n)
        if _CYRILLIC_WORD.search(n):
            forms |= _russian_forms(n)
        if re.search("[\u0621-\u064a]", n):
            forms |= _arabic_forms(n)
    return forms


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str]
    names: dict[str, str | None]  # lower-case form -> alpha-3 (None: not a state)
    whole_words: bool


@lru_cache(maxsize=1)
def _state_matchers() -> tuple[_Matcher, _Matcher]:
    """One matcher for Chinese names, one for the alphabetic scripts."""
    by_name: dict[str, str | None] = {}

    def add(name: str, code: str | None) -> None:
        if name in _AMBIGUOUS:
            return
        for form in _variants(name):
            by_name.setdefault(form.lower(), code)

    for blocker in _NOT_STATES:
        add(blocker, None)
    for code, extra in _STATE_NAMES.items():
        for name in extra:
            add(name, code)
    for state in all_states():
        for name in (*state.names.values(), state.iso_name):
            if "," not in name:
                add(name, state.alpha3)
    chinese = {n: c for n, c in by_name.items() if _HAN_CHAR.search(n)}
    other = {n: c for n, c in by_name.items() if n not in chinese}
    # Whole words only: the end is checked here, the start after matching (an assertion
    # before the first letter would keep the engine from skipping ahead).
    alphabetic = capitalised_pattern(other, cased_first=True) + r"(?![^\W\d_])"
    return (
        _Matcher(re.compile(trie_pattern(chinese)), chinese, whole_words=False),
        _Matcher(re.compile(alphabetic), other, whole_words=True),
    )


def _states(folded: str) -> set[str]:
    found: set[str] = set()
    for matcher in _state_matchers():
        for match in matcher.pattern.finditer(folded):
            # "Russia-Ukraine": a hyphen before a state's name does not join it to a word.
            if matcher.whole_words and not _starts_word(folded, match.start(), joiners="_"):
                continue
            code = matcher.names.get(match.group().lower())
            if code:
                found.add(code)
    return found


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
        if not _starts_word(folded, start):
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
        inner = _PARENTHESIS.search(part)
        bare = _PARENTHESIS.sub("", part).strip()
        candidates = {part, bare} | ({inner.group(1).strip()} if inner else set())
        for candidate in candidates:
            han = bool(_HAN_CHAR.search(candidate))
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
                if not _HAN_CHAR.match(name) and not _starts_word(lowered, start):
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
    states = _states(folded)
    if compact != folded:
        states |= _states(compact)
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
