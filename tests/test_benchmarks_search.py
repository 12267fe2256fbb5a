"""The search benchmark and its synthetic archive, run small: they work, and measure alike.

Timing is the benchmark's business; these tests only check that the archive is
what its docstring promises and that the script runs end to end, with Tantivy
and its FTS5 baseline agreeing on every total and facet count.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from veritrail.reference import all_states
from veritrail.search.analyze import analyze
from veritrail.search.model import RecordType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def corpus() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import search_corpus

        yield search_corpus
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_archive_is_seeded_and_does_not_depend_on_its_size(corpus: ModuleType) -> None:
    small = list(corpus.generate(120, seed=5))
    large = list(itertools.islice(corpus.generate(1_700, seed=5), 120))
    assert small == large
    other = list(corpus.generate(120, seed=6))
    assert [d.text for d in other] != [d.text for d in small]


def test_records_are_indexed_as_the_indexer_analyses_them(corpus: ModuleType) -> None:
    for record in corpus.records(300, seed=1):
        doc = corpus.entry(record)
        assert doc.body_tokens == analyze(record.text, record.language)
        assert doc.title_tokens == analyze(record.indexed_title, record.language)
        assert doc.key == f"{record.record_type.value}:{record.record_id}"


def test_the_archive_mixes_languages_owners_and_classifications(corpus: ModuleType) -> None:
    docs = list(corpus.generate(3_000, seed=1))
    languages = Counter(d.language for d in docs)
    assert set(languages) == {"ar", "en", "es", "fr", "ru", "zh", "und"}
    declarations = [d for d in docs if d.record_type is RecordType.DECLARATION]
    assert 0.07 < len(declarations) / len(docs) < 0.13
    assert all(d.language == "und" and d.owner_state for d in declarations)
    assert {d.classification for d in docs} == {
        "public",
        "restricted",
        "protected",
        "highly_protected",
    }
    assert all((d.group_id is not None) == (d.classification == "highly_protected") for d in docs)
    known = {s.alpha3 for s in all_states()}
    owners = {d.owner_state for d in docs}
    assert None in owners and len(owners - {None}) > 50 and owners - {None} <= known
    assert {r for d in docs for r in d.regimes} == {"cwc", "bwc", "att", "unscr1540"}
    assert all(2000 <= (d.year or 0) <= 2025 for d in docs)
    lengths = [len(d.text.split()) for d in docs if d.language in ("en", "fr", "es")]
    assert 80 <= min(lengths) and max(lengths) <= 300


def test_words_come_from_real_text(corpus: ModuleType) -> None:
    chinese = "".join(
        re.sub(r"\s+", "", p.read_text(encoding="utf-8"))
        for p in sorted(corpus.ZH_CORPUS.glob("*.txt"))
    )
    zh = corpus.vocabulary("zh")
    assert all(word in chinese for word in zh.words[:500])
    assert "france" in corpus.vocabulary("fr").words  # CLDR's and states.yaml's name
    assert "франция" in corpus.vocabulary("ru").words
    for language in ("ar", "en", "es", "fr", "ru", "zh"):
        vocab = corpus.vocabulary(language)
        assert len(vocab.words) > 2_000
        # Zipf: a few words make up much of the text, most words are rare.
        assert vocab.rank_of(0.5) < len(vocab.words) // 10


def run(workdir: Path, *extra: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "search.py"),
            "--docs",
            "2000",
            "--queries",
            "13",
            "--rounds",
            "1",
            "--workdir",
            str(workdir),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_benchmark_runs_and_both_engines_agree(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert "indexing 2,000 records (tantivy, then FTS5)" in out
    for figure in ("indexing: ", "queries: p50 ", "memory: peak RSS "):
        assert figure in out.split("== summary")[1]
    assert re.search(r"FTS5 [\d,]+ docs/s; ratio [\d.]+x", out)
    assert re.search(r"FTS5 p50 .*; ratio [\d.]+x", out)
    assert "both engines agree on 26 of 26 searches" in out
    assert "DISAGREE" not in out

    again = run(tmp_path, "--only", "query")
    assert "indexing" not in again and "both engines agree on 26 of 26 searches" in again

    reused = run(tmp_path, "--only", "memory")
    assert "memory: peak RSS" in reused

    rerun = run(tmp_path)
    assert "reusing the 2,000-record index" in rerun
