"""A synthetic archive for the search benchmark: documents in the six languages, and declarations.

Every record is an :class:`~veritrail.search.model.IndexDoc` built as the indexer
builds one (``search.indexer.document_entry``): the text is analysed with
``search.analyze``, the title together with the source file's name.

Where the words come from (all of it real text, none of it invented, except the
short lists in ``DOMAIN``):

* Chinese: the five United Nations documents in Chinese of the shared corpus
  (``../shared/corpus/un-zh/*.txt``). Their Han runs, split at punctuation, are
  cut into pieces of two to four characters (seeded); the pieces are the words.
* Arabic, English, French, Russian and Spanish: the Unicode CLDR locale data
  shipped with Babel (``babel/locale-data/<language>.dat``: names of languages,
  territories, scripts, currencies, units and time zones, months, days and
  relative-time phrases); the state names of ``reference/data/states.yaml``
  (CLDR too); the regime packs' labels and descriptions in that language
  (``regimes/packs/**/*.yaml``); Veritrail's interface translations
  (``locale/<language>/LC_MESSAGES/messages.po``); and ``DOMAIN`` below, a few
  dozen words of treaty verification per language written for this benchmark.
  That gives 2,500 to 4,000 distinct words per language, fewer than a real
  archive holds: common words are more common here, which makes queries slower
  (longer posting lists), not faster.

Word frequencies follow Zipf's law (Zipf-Mandelbrot, ``s = 1``) over the words
ranked by how often they occur in those sources (``DOMAIN`` words ranked among
the common ones). A record's text is 80 to 300 words in sentences; its title 4 to
12 words. Declarations (10%) are indexed as the indexer indexes them: language
``und``, a title in the six languages, a text of the values of the form
(numbers, chemical registry numbers, state codes and names, words).

Everything is seeded: ``generate(n, seed)`` yields the same records on every
machine, and record ``i`` is the same whatever ``n`` is.

Usage: ``.venv/bin/python benchmarks/search_corpus.py [--docs 5] [--seed 1] [--vocabulary]``
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from random import Random
from typing import Any

import yaml
from babel.localedata import load as load_locale
from shared_corpus import un_zh

import veritrail
from veritrail.reference import all_states
from veritrail.regimes import registry
from veritrail.search.analyze import analyze
from veritrail.search.model import IndexDoc, RecordType

SOURCE = Path(veritrail.__file__).resolve().parent
ZH_CORPUS = un_zh()
LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")

# Shares of the archive's documents by language (declarations come on top, as "und").
LANGUAGE_SHARES = {"en": 0.40, "fr": 0.16, "es": 0.12, "ru": 0.11, "ar": 0.11, "zh": 0.10}
DECLARATION_SHARE = 0.10
CLASSIFICATIONS = {"public": 0.55, "restricted": 0.25, "protected": 0.15, "highly_protected": 0.05}
GROUPS = ("g-cwc-1", "g-cwc-2", "g-bwc-1", "g-att-1", "g-1540-1", "g-inv-1")
REGIMES = {"cwc": 0.40, "bwc": 0.20, "att": 0.25, "unscr1540": 0.15}
SECRETARIAT_SHARE = 0.25  # documents of the secretariat: no owner state
YEARS = (2000, 2025)
BODY_WORDS = (80, 300)
TITLE_WORDS = (4, 12)
CHUNK = 500  # records per seeded chunk: the unit of work of a process

# Words of treaty verification, by language: the only words not taken from real text.
DOMAIN: dict[str, str] = {
    "en": (
        "verification inspection declaration convention treaty article annex schedule "
        "chemical biological weapons munitions facility facilities plant site production "
        "destruction stockpile precursor toxic agent laboratory research transfer export "
        "import national authority states parties secretariat council resolution committee "
        "implementation compliance report annual confidence measures inspectors challenge "
        "sampling analysis quantity tonnes kilograms declared undeclared activities "
        "conventional arms register small light"
    ),
    "fr": (
        "vérification inspection déclaration convention traité article annexe tableau "
        "chimiques biologiques armes munitions installation installations usine site "
        "production destruction stocks précurseur toxique agent laboratoire recherche "
        "transfert exportation importation autorité nationale États parties secrétariat "
        "conseil résolution comité application respect rapport annuel mesures confiance "
        "inspecteurs échantillonnage analyse quantité tonnes kilogrammes déclarées activités "
        "classiques registre légères"
    ),
    "es": (
        "verificación inspección declaración convención tratado artículo anexo lista "
        "químicas biológicas armas municiones instalación instalaciones planta complejo "
        "producción destrucción existencias precursor tóxico agente laboratorio "
        "investigación transferencia exportación importación autoridad nacional Estados "
        "partes secretaría consejo resolución comité aplicación cumplimiento informe anual "
        "medidas confianza inspectores muestreo análisis cantidad toneladas kilogramos "
        "declaradas actividades convencionales registro ligeras"
    ),
    "ru": (
        "проверка инспекция объявление конвенция договор статья приложение список "
        "химического биологического оружия боеприпасы объект объекты завод площадка "
        "производство уничтожение запасы прекурсор токсичный агент лаборатория "
        "исследования передача экспорт импорт национальный орган государства участники "
        "секретариат совет резолюция комитет осуществление соблюдение доклад ежегодный меры "
        "доверия инспекторы отбор проб анализ количество тонн килограммов объявленные "
        "деятельность обычных вооружений регистр"
    ),
    "ar": (
        "التحقق التفتيش الإعلان الاتفاقية المعاهدة المادة المرفق الجدول الكيميائية "
        "البيولوجية الأسلحة الذخائر المرفق المرافق المصنع الموقع الإنتاج التدمير المخزونات "
        "السلائف السامة العامل المختبر البحث النقل التصدير الاستيراد الهيئة الوطنية الدول "
        "الأطراف الأمانة المجلس القرار اللجنة التنفيذ الامتثال التقرير السنوي تدابير بناء "
        "الثقة المفتشون أخذ العينات التحليل الكمية طن كيلوغرام المعلنة الأنشطة التقليدية "
        "السجل الخفيفة"
    ),
}

_CLDR_IDENTIFIERS = frozenset({"none", "alias", "latn", "root", "nan", "other"})
_LATIN_VOWELS = set("aeiouyàáâäãåæèéêëìíîïòóôöõœùúûüý")
_WORD = re.compile(r"[^\W\d_]{2,}")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_SCRIPTS = {
    "ar": re.compile("[\u0600-\u06ff]"),
    "ru": re.compile("[\u0400-\u04ff]"),
}


# -- vocabularies -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words of one language, most frequent first, with a sampling table."""

    language: str
    words: tuple[str, ...]  # by rank
    weights: tuple[float, ...]  # Zipf-Mandelbrot probabilities, by rank
    table: tuple[str, ...]  # each word repeated in proportion to its weight
    joiner: str  # between words: " ", or "" for Chinese

    def sample(self, rng: Random, k: int) -> list[str]:
        table = self.table
        size = len(table)
        rand = rng.random
        return [table[int(rand() * size)] for _ in range(k)]

    def rank_of(self, share: float) -> int:
        """The rank below which words make up ``share`` of running text."""
        total = 0.0
        for rank, weight in enumerate(self.weights):
            total += weight
            if total >= share:
                return rank
        return len(self.words) - 1


def _strings(value: Any, out: list[str], want: str | None = None, key: object = None) -> None:
    """Every string value in ``value``; with ``want``, only those under a ``want`` key."""
    if isinstance(value, str):
        if want is None or key == want:
            out.append(value)
    elif isinstance(value, dict) or hasattr(value, "items"):
        for k, v in value.items():
            _strings(v, out, want, k)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _strings(v, out, want, key)


def _plausible(word: str, language: str) -> bool:
    """A word of ``language``'s script; not a CLDR date pattern ("MMM", "dd") or a unit."""
    script = _SCRIPTS.get(language)
    if script is not None:
        return bool(script.search(word))
    if not all(
        "a" <= c <= "z" or c in _LATIN_VOWELS or c.isalpha() and ord(c) < 0x250 for c in word
    ):
        return False
    return len(set(word)) > 1 and any(c in _LATIN_VOWELS for c in word)


def _po_strings(language: str) -> list[str]:
    path = SOURCE / "locale" / language / "LC_MESSAGES" / "messages.po"
    found: list[str] = []
    field = "msgid" if language == "en" else "msgstr"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(field + " "):
            found.append(line[len(field) + 1 :].strip('"'))
    return found


@lru_cache(maxsize=1)
def _pack_strings() -> dict[str, list[str]]:
    by_language: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in sorted((SOURCE / "regimes" / "packs").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for lang in LANGUAGES:
            _strings(data, by_language[lang], want=lang)
    return by_language


def _word_counts(language: str) -> Counter[str]:
    texts: list[str] = []
    _strings(dict(load_locale(language)), texts)
    texts += _pack_strings()[language]
    texts += _po_strings(language)
    texts += [s.name(language) for s in all_states()]
    counts: Counter[str] = Counter()
    for text in texts:
        for word in _WORD.findall(unicodedata.normalize("NFC", text)):
            low = word.lower()
            if low not in _CLDR_IDENTIFIERS and _plausible(low, language):
                counts[low] += 1
    return counts


def _han_pieces(seed: int) -> Counter[str]:
    """The Han runs of the Chinese corpus cut into pieces of 2 to 4 characters."""
    rng = Random(seed)
    counts: Counter[str] = Counter()
    for path in sorted(ZH_CORPUS.glob("*.txt")):
        text = re.sub(r"\s+", "", path.read_text(encoding="utf-8"))
        for run in _HAN.findall(text):
            i = 0
            while i < len(run):
                size = rng.randint(2, 4)
                piece = run[i : i + size]
                i += size
                if len(piece) >= 2:
                    counts[piece] += 1
    return counts


def _zipf(words: list[str], language: str, joiner: str) -> Vocabulary:
    weights = [1.0 / (rank + 2.7) for rank in range(len(words))]
    total = sum(weights)
    probabilities = tuple(w / total for w in weights)
    size = 1 << 20
    table: list[str] = []
    for word, p in zip(words, probabilities, strict=True):
        table.extend([word] * max(1, round(p * size)))
    return Vocabulary(language, tuple(words), probabilities, tuple(table), joiner)


@cache
def vocabulary(language: str, seed: int = 1) -> Vocabulary:
    """The words of ``language`` (one of ``LANGUAGES``) ranked by frequency."""
    if language == "zh":
        counts = _han_pieces(seed)
        joiner = ""
    else:
        counts = _word_counts(language)
        for word in DOMAIN[language].split():
            counts[word.lower()] += 40  # among the common words, as in the archive
        joiner = " "
    order = list(counts)
    Random(seed).shuffle(order)  # ties in a seeded order, not the sources' order
    order.sort(key=lambda w: -counts[w])
    if not order:
        raise RuntimeError(f"no words found for {language!r}")
    return _zipf(order, language, joiner)


# -- records ------------------------------------------------------------------------------


def _cumulative(shares: dict[str, float]) -> tuple[list[str], list[float]]:
    keys = list(shares)
    return keys, list(itertools.accumulate(shares[k] for k in keys))


@dataclass(frozen=True, slots=True)
class _Setting:
    states: tuple[str, ...]
    state_weights: list[float]  # cumulative: a few states write much of the archive
    names: dict[str, dict[str, str]]  # alpha-3 -> language -> name
    # regime -> its forms -> (language, "<regime> <form>") in each language that has both
    declaration_titles: dict[str, list[list[tuple[str, str]]]]


@lru_cache(maxsize=1)
def _setting() -> _Setting:
    states = [s.alpha3 for s in all_states()]
    Random(7).shuffle(states)
    weights = list(itertools.accumulate(1.0 / (r + 5) for r in range(len(states))))
    names = {s.alpha3: {lang: s.name(lang) for lang in LANGUAGES} for s in all_states()}
    titles: dict[str, list[list[tuple[str, str]]]] = {}
    packs = registry().packs
    for regime in REGIMES:
        pack = packs[regime]
        titles[regime] = [
            [
                (lang, f"{pack.regime.short_name.get(lang)} {dtype.title.get(lang)}")
                for lang in LANGUAGES
                if pack.regime.short_name.get(lang) and dtype.title.get(lang)
            ]
            for dtype in pack.types.values()
        ]
    return _Setting(tuple(states), weights, names, titles)


def submitters() -> tuple[str, ...]:
    """Alpha-3 codes of the states that own records, those owning the most first."""
    return _setting().states


def _pick(rng: Random, keys: list[str], cumulative: list[float]) -> str:
    return keys[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


_LANG_KEYS, _LANG_CUM = _cumulative(LANGUAGE_SHARES)
_CLASS_KEYS, _CLASS_CUM = _cumulative(CLASSIFICATIONS)
_REGIME_KEYS, _REGIME_CUM = _cumulative(REGIMES)


def _sentences(vocab: Vocabulary, rng: Random, count: int) -> str:
    words = vocab.sample(rng, count)
    if vocab.joiner:
        i = rng.randint(6, 20)
        while i < count:
            words[i - 1] += "."
            words[i] = words[i].capitalize()
            i += rng.randint(6, 20)
        return " ".join(words)
    i = rng.randint(3, 8)
    while i < count:
        words[i - 1] += "，" if rng.random() < 0.7 else "。"
        i += rng.randint(3, 8)
    return "".join(words) + "。"


def _symbols(rng: Random, year: int) -> tuple[str, ...]:
    if rng.random() >= 0.35:
        return ()
    kind = rng.random()
    if kind < 0.5:
        return (f"S/{year}/{rng.randint(1, 999)}",)
    if kind < 0.8:
        return (f"A/{year - 1945}/{rng.randint(1, 900)}",)
    return (f"C-{year - 1996}/DEC.{rng.randint(1, 20)}",)


def _updated(rng: Random, year: int) -> datetime:
    start = datetime(year, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(365 * 24 * 3600))


def _classification(rng: Random) -> tuple[str, str | None]:
    level = _pick(rng, _CLASS_KEYS, _CLASS_CUM)
    group = rng.choice(GROUPS) if level == "highly_protected" else None
    return level, group


@dataclass(frozen=True, slots=True)
class Record:
    """One synthetic record as the database would hold it: its text not yet analysed."""

    record_type: RecordType
    record_id: str
    title: str
    text: str
    indexed_title: str  # what the indexer analyses as the title
    language: str
    classification: str
    owner_state: str | None
    group_id: str | None
    updated_at: datetime
    states: tuple[str, ...]
    regimes: tuple[str, ...]
    symbols: tuple[str, ...]
    year: int
    source_name: str | None


def _state(rng: Random, setting: _Setting) -> str:
    cumulative = setting.state_weights
    return setting.states[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _document(i: int, rng: Random, setting: _Setting, seed: int) -> Record:
    language = _pick(rng, _LANG_KEYS, _LANG_CUM)
    vocab = vocabulary(language, seed)
    year = rng.randint(*YEARS)
    owner = None if rng.random() < SECRETARIAT_SHARE else _state(rng, setting)
    mentioned = rng.sample(setting.states, rng.randint(0, 3))
    record_id = f"A-{i:016X}"
    title = vocab.joiner.join(vocab.sample(rng, rng.randint(*TITLE_WORDS)))
    if owner is not None:
        title = f"{title} {setting.names[owner][language]}"
    title = title[:1].upper() + title[1:]
    source_name = f"{record_id.lower()}-{language}.pdf"
    level, group = _classification(rng)
    regimes = [_pick(rng, _REGIME_KEYS, _REGIME_CUM)]
    if rng.random() < 0.15:
        regimes.append(_pick(rng, _REGIME_KEYS, _REGIME_CUM))
    return Record(
        record_type=RecordType.DOCUMENT,
        record_id=record_id,
        title=title,
        text=_sentences(vocab, rng, rng.randint(*BODY_WORDS)),
        indexed_title=f"{title} {source_name}",
        language=language,
        classification=level,
        owner_state=owner,
        group_id=group,
        updated_at=_updated(rng, year),
        states=tuple(dict.fromkeys(([owner] if owner else []) + mentioned)),
        regimes=tuple(dict.fromkeys(regimes)),
        symbols=_symbols(rng, year),
        year=year,
        source_name=source_name,
    )


def _declaration(i: int, rng: Random, setting: _Setting, seed: int) -> Record:
    state = _state(rng, setting)
    regime = _pick(rng, _REGIME_KEYS, _REGIME_CUM)
    year = rng.randint(*YEARS)
    form = rng.choice(setting.declaration_titles[regime])
    parts = {lang: f"{title} {year} {setting.names[state][lang]}" for lang, title in form}
    english = vocabulary("en", seed)
    values: list[str] = []
    wanted = rng.randint(*BODY_WORDS) // 2
    while len(values) < wanted:
        roll = rng.random()
        if roll < 0.3:
            values.append(str(rng.randint(1, 250_000)))
        elif roll < 0.45:
            values.append(f"{rng.randint(50, 99999)}-{rng.randint(10, 99)}-{rng.randint(0, 9)}")
        elif roll < 0.6:
            partner = rng.choice(setting.states)
            values += [partner, setting.names[partner]["en"]]
        else:
            values.append(" ".join(english.sample(rng, rng.randint(1, 4))))
    level, group = _classification(rng)
    return Record(
        record_type=RecordType.DECLARATION,
        record_id=f"D-{i:016X}",
        title=parts["en"],
        text="\n".join(values),
        indexed_title=" ".join(dict.fromkeys(parts.values())),
        language="und",
        classification=level,
        owner_state=state,
        group_id=group,
        updated_at=_updated(rng, year),
        states=(state,),
        regimes=(regime,),
        symbols=(),
        year=year,
        source_name=None,
    )


def chunk(seed: int, index: int, count: int = CHUNK) -> list[Record]:
    """Records ``index * CHUNK`` to ``index * CHUNK + count - 1``: the same on every call."""
    rng = Random(seed * 1_000_003 + index)
    setting = _setting()
    out: list[Record] = []
    for i in range(index * CHUNK, index * CHUNK + count):
        make = _declaration if rng.random() < DECLARATION_SHARE else _document
        out.append(make(i, rng, setting, seed))
    return out


def records(n: int, seed: int = 1) -> Iterator[Record]:
    """The first ``n`` records of the archive of ``seed``, not yet analysed."""
    for index in range((n + CHUNK - 1) // CHUNK):
        yield from chunk(seed, index, min(CHUNK, n - index * CHUNK))


def entry(record: Record) -> IndexDoc:
    """``record`` as the index holds it: analysed as ``search.indexer`` analyses records."""
    return IndexDoc(
        key=f"{record.record_type.value}:{record.record_id}",
        record_type=record.record_type,
        record_id=record.record_id,
        title=record.title,
        text=record.text,
        title_tokens=analyze(record.indexed_title, record.language),
        body_tokens=analyze(record.text, record.language),
        language=record.language,
        classification=record.classification,
        owner_state=record.owner_state,
        group_id=record.group_id,
        updated_at=record.updated_at,
        states=record.states,
        regimes=record.regimes,
        symbols=record.symbols,
        year=record.year,
        source_name=record.source_name,
    )


def generate(n: int, seed: int = 1) -> Iterator[IndexDoc]:
    """The first ``n`` records of the archive of ``seed``, analysed, in one process.

    One process on purpose: on a two-core machine Tantivy's indexing threads use
    the second core, and records built in a second process made indexing slower.
    """
    return map(entry, records(n, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5, help="records to print")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--vocabulary", action="store_true", help="print each language's vocabulary size instead"
    )
    args = parser.parse_args()
    if args.vocabulary:
        for language in LANGUAGES:
            vocab = vocabulary(language, args.seed)
            print(
                f"{language}: {len(vocab.words):,} words; half of running text is the top "
                f"{vocab.rank_of(0.5) + 1:,}; most common: {' '.join(vocab.words[:12])}"
            )
        return
    for doc in generate(args.docs, args.seed):
        print(
            f"{doc.key} {doc.language} {doc.classification} owner={doc.owner_state} "
            f"states={','.join(doc.states)} regimes={','.join(doc.regimes)} year={doc.year} "
            f"symbols={','.join(doc.symbols)}\n  {doc.title}\n  {doc.text[:300]}\n"
            f"  {len(doc.body_tokens)} terms: {' '.join(doc.body_tokens[:20])} ...\n"
        )


if __name__ == "__main__":
    main()
