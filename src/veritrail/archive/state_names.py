"""The names of states as documents write them, and the matcher that finds them.

UN long and short forms in the six languages beside the reference data's names,
with Russian names in all six cases and Arabic ones with their prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from veritrail.archive.folding import (
    capitalised_pattern,
    fold_for_matching,
    starts_word,
    trie_pattern,
)
from veritrail.reference.states import all_states

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
PARENTHESIS = re.compile(r"\s*\(([^()]*)\)\s*$")  # "Myanmar (Burma)", "Sarin (GB)"
HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
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
    inside = PARENTHESIS.search(name)
    if inside:  # "Myanmar (Burma)": both names
        names = {PARENTHESIS.sub(" ", name).strip(), inside.group(1).strip()}
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
    chinese = {n: c for n, c in by_name.items() if HAN_CHAR.search(n)}
    other = {n: c for n, c in by_name.items() if n not in chinese}
    # Whole words only: the end is checked here, the start after matching (an assertion
    # before the first letter would keep the engine from skipping ahead).
    alphabetic = capitalised_pattern(other, cased_first=True) + r"(?![^\W\d_])"
    return (
        _Matcher(re.compile(trie_pattern(chinese)), chinese, whole_words=False),
        _Matcher(re.compile(alphabetic), other, whole_words=True),
    )


def find_states(folded: str) -> set[str]:
    """The alpha-3 codes of the states named in ``folded`` (text from ``fold_for_matching``)."""
    found: set[str] = set()
    for matcher in _state_matchers():
        for match in matcher.pattern.finditer(folded):
            # "Russia-Ukraine": a hyphen before a state's name does not join it to a word.
            if matcher.whole_words and not starts_word(folded, match.start(), joiners="_"):
                continue
            code = matcher.names.get(match.group().lower())
            if code:
                found.add(code)
    return found


__all__ = ["HAN_CHAR", "PARENTHESIS", "find_states"]
