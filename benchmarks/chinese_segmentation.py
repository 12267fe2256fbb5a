"""Chinese search terms: characters and bigrams, bigrams alone, and jieba word segmentation.

Runs on the five real United Nations documents in Chinese of the shared corpus
(``../shared/corpus/un-zh``) and a set of analyst queries. A document is
relevant to a query when it truly holds the query string: its folded text,
with the whitespace that PDF extraction leaves between two Han characters
removed, contains the folded query. Each method then answers every
(query, document) pair, and the script prints, per method:

* recall and precision over the (query, document) pairs, the queries whose
  documents it misses, and the share of the query's mentions in the documents
  that it finds (what ranking and highlighting see);
* speed in characters per second over the corpus (folding included), and
  documents per second on 1.5 KB slices of it (the size the index goal is set for);
* terms per character (the index's size);
* what a snippet costs on the largest document, against highlighting all of it.

Methods:

* ``veritrail``: ``search.analyze``, what Veritrail indexes: each character and
  the overlapping bigrams between them, interleaved (c1, c1c2, c2, c2c3, c3); a
  query's Han text is a phrase of the same terms;
* ``bigrams``: plain overlapping bigrams (the same terms without the characters
  spelled out between them); a lone character only where it stands alone;
* ``jieba``: jieba's precise mode for documents and queries; a query is a phrase
  of its jieba words;
* ``jieba-search``: jieba's search mode for documents (long words also give
  their shorter words, so positions no longer line up); a query matches when
  every one of its jieba words is in the document, in any place;

Usage: ``.venv/bin/python benchmarks/chinese_segmentation.py [--corpus DIR] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import logging
import re
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

import jieba
from shared_corpus import un_zh

from veritrail.search.analyze import analyze, query_positions
from veritrail.search.query import parse
from veritrail.search.snippets import highlight, snippet
from veritrail.text.normalize import fold

CORPUS = un_zh()

QUERIES = (
    "化学武器",
    "禁止化学武器组织",
    "大规模毁灭性武器",
    "非国家行为体",
    "核查",
    "安全理事会",
    "1540委员会",
    "裁军谈判会议",
    "建立信任措施",
    "政府专家组",
    "核武器",
    "不扩散",
    "生物武器",
    "阿里亚办法",
    "常驻代表",
    "国际原子能机构",
    "全面彻底裁军",
    "网络安全",
    "人工智能",
    "外层空间",
    "军备控制",
    "恐怖主义",
    "出口管制",
    "核不扩散条约",
    "事实调查团",
    "联合调查机制",
    "致命性自主武器系统",
    "透明度",
    "叙利亚",
    "导弹",
    "安全理事會",  # traditional forms: folded like documents
    "化學武器",
    # parts of longer words, which word segmentation keeps whole
    "化学",
    "武器",
    "扩散",
    "裁军",
    "专家",
    "理事会",
    "调查",
    "信任",
    # single characters
    "核",
    "俄",
)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_GAP = re.compile(rf"(?<=[{_HAN}])\s+|\s+(?=[{_HAN}])")
_WORDLIKE = re.compile(r"\w")
_HAN_CHAR = re.compile(f"[{_HAN}]")

Positions = Sequence[tuple[str, ...]]


def compact(text: str) -> str:
    """Folded text without whitespace next to a Han character ("1540 委员会" holds 1540委员会)."""
    return _HAN_GAP.sub("", fold(text))


def phrase_count(terms: Sequence[str], positions: Positions) -> int:
    """How many times the phrase occurs in ``terms`` (consecutive positions)."""
    if not positions:
        return 0
    first, rest = set(positions[0]), positions[1:]
    last = len(terms) - len(rest)
    return sum(
        1
        for i, term in enumerate(terms)
        if term in first
        and i < last
        and all(terms[i + 1 + k] in alts for k, alts in enumerate(rest))
    )


def jieba_words(text: str, *, search: bool = False) -> list[str]:
    cut = jieba.lcut_for_search if search else jieba.lcut
    return [w for w in cut(compact(text)) if _WORDLIKE.search(w)]


def _han_bigram(term: str) -> bool:
    return len(term) == 2 and all(_HAN_CHAR.match(c) for c in term)


def _han_char(term: str) -> bool:
    return len(term) == 1 and bool(_HAN_CHAR.match(term))


def bigrams_only(terms: Sequence[str]) -> list[str]:
    """The analyser's terms without the characters it spells out between bigrams: plain
    overlapping bigrams, a lone character only where it stands alone."""
    out: list[str] = []
    for i, term in enumerate(terms):
        beside = [terms[j] for j in (i - 1, i + 1) if 0 <= j < len(terms)]
        if _han_char(term) and any(_han_bigram(t) and term in t for t in beside):
            continue
        out.append(term)
    return out


def bigram_positions(query: str) -> Positions:
    positions = query_positions(query)
    kept = bigrams_only([p[0] for p in positions])
    out: list[tuple[str, ...]] = []
    k = 0
    for alternatives in positions:
        if k < len(kept) and alternatives[0] == kept[k]:
            out.append(alternatives)
            k += 1
    return out


class Method:
    def __init__(
        self,
        name: str,
        index: Callable[[str], Sequence[str]],
        count: Callable[[Sequence[str], str], int] | None,
        matches: Callable[[Sequence[str], str], bool] | None = None,
    ) -> None:
        self.name, self.index, self.count = name, index, count
        self.matches = matches or (lambda terms, query: bool(count and count(terms, query)))


METHODS = (
    Method(
        "veritrail",
        lambda text: analyze(text, "zh"),
        lambda terms, query: phrase_count(terms, query_positions(query)),
    ),
    Method(
        "bigrams",
        lambda text: bigrams_only(analyze(text, "zh")),
        lambda terms, query: phrase_count(terms, bigram_positions(query)),
    ),
    Method(
        "jieba",
        jieba_words,
        lambda terms, query: phrase_count(terms, [(w,) for w in jieba_words(query)]),
    ),
    Method(
        "jieba-search",
        lambda text: jieba_words(text, search=True),
        None,
        lambda terms, query: set(jieba_words(query)) <= set(terms),
    ),
)


def judge(docs: dict[str, str]) -> dict[tuple[str, str], int]:
    """Occurrences of each query in each document's folded, compacted text."""
    folded = {name: compact(text) for name, text in docs.items()}
    return {
        (q, name): len(re.findall(f"(?={re.escape(fold(q))})", folded[name]))
        for q in QUERIES
        for name in docs
    }


def quality(
    method: Method,
    index: dict[str, Sequence[str]],
    truth: dict[tuple[str, str], int],
) -> None:
    tp = fp = fn = 0
    held = seen = 0
    missed: set[str] = set()
    for (query, name), occurrences in truth.items():
        found = method.matches(index[name], query)
        relevant = occurrences > 0
        tp += found and relevant
        fp += found and not relevant
        fn += relevant and not found
        if relevant and not found:
            missed.add(query)
        if method.count is not None:
            held += occurrences
            seen += min(occurrences, method.count(index[name], query))
    recall = tp / (tp + fn) if tp + fn else 1.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    mentions = f"{seen / held:6.1%}" if held else "   n/a"
    print(
        f"  {method.name:13} recall {recall:6.1%}  precision {precision:6.1%}  "
        f"mentions found {mentions}   ({tp} found, {fn} missed, {fp} wrong)"
    )
    if missed:
        print(f"  {'':13} documents missed for: {' '.join(sorted(missed))}")


def speed(method: Method, texts: Sequence[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            method.index(text)
        best = min(best, time.perf_counter() - start)
    return best


def slices(texts: Sequence[str], size: int = 1500) -> list[str]:
    """Slices of about ``size`` bytes of UTF-8 (Han characters take three)."""
    out: list[str] = []
    for text in texts:
        step = size // 3
        out.extend(text[i : i + step] for i in range(0, len(text) - step, step))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.txt"))}
    chars = sum(map(len, docs.values()))
    print(f"corpus: {len(docs)} documents, {chars:,} characters; {len(QUERIES)} queries")

    jieba.setLogLevel(logging.WARNING)
    start = time.perf_counter()
    jieba.initialize()
    print(f"jieba dictionary load: {time.perf_counter() - start:.2f} s (once per process)")

    truth = judge(docs)
    relevant = sum(1 for n in truth.values() if n)
    print(f"relevant pairs: {relevant} of {len(truth)}, {sum(truth.values()):,} mentions\n")
    indexes = {m.name: {name: m.index(text) for name, text in docs.items()} for m in METHODS}
    groups = {
        "queries of two characters or more": lambda q: len(q) > 1,
        "single characters": lambda q: len(q) == 1,
    }
    for title, wanted in groups.items():
        part = {k: v for k, v in truth.items() if wanted(k[0])}
        print(f"{title} ({len({q for q, _ in part})}):")
        for method in METHODS:
            quality(method, indexes[method.name], part)
    print("index size:")
    for method in METHODS:
        terms = sum(map(len, indexes[method.name].values())) / chars
        print(f"  {method.name:13} {terms:.2f} terms per character")

    print("\nspeed (best of rounds; folding included)")
    texts = list(docs.values())
    pieces = slices(texts)
    baseline: dict[str, float] = {}
    for method in (m for m in METHODS if m.name in ("veritrail", "jieba")):
        whole = speed(method, texts, args.rounds)
        small = speed(method, pieces, args.rounds)
        baseline[method.name] = whole
        print(
            f"{method.name:13} {chars / whole / 1e6:6.2f} M chars/s   "
            f"{len(pieces) / small:8,.0f} docs/s of 1.5 KB"
        )
    ratio = baseline["jieba"] / baseline["veritrail"]
    print(f"Veritrail's analyser is {ratio:.1f}x as fast as jieba")
    snippets(max(texts, key=len), args.rounds)


def snippets(text: str, rounds: int) -> None:
    """What a result's snippet costs on the largest document (about 100 KB of UTF-8)."""
    size = len(text.encode()) / 1000
    print(f"\nsnippet of the largest document ({size:.0f} KB), best of rounds, against highlight")
    cases = {
        "many matches (安全理事会)": (text, "安全理事会"),
        "one match, at the very end": (text + "\n东京都", "东京都"),
        "no match in the text": (text, "东京都"),
    }
    whole = min(
        timeit.repeat(lambda: highlight(text, parse("安全理事会"), "zh"), number=1, repeat=rounds)
    )
    for name, (body, query) in cases.items():
        node = parse(query)
        best = min(timeit.repeat(lambda: snippet(body, node, "zh"), number=1, repeat=rounds))  # noqa: B023
        print(f"  {name:28} {best * 1000:6.2f} ms")
    print(f"  {'highlight (whole text)':28} {whole * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
