"""The reconciliation benchmark, run small: it works, and its three engines count alike.

Timing is the benchmark's business; this test only checks that the script runs
end to end on a few thousand lines and that Veritrail, the pandas baseline and
the DuckDB baseline find exactly the discrepancies planted in the data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "reconcile.py"
DISCREPANCIES = ("quantity_mismatch", "missing_import", "missing_export")


def test_the_benchmark_runs_and_finds_what_was_planted() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--lines", "20000", "--repeat", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)

    assert figures["lines"] == 20_000
    assert figures["states"] > 190 and figures["years"] == 5 and figures["items"] > 50
    assert figures["lines"] / 3 < figures["pairs"] < figures["lines"] / 2  # some sides split

    planted = figures["planted"]
    assert all(planted[kind] > 0 for kind in (*DISCREPANCIES, "below_threshold", "matched"))
    assert sum(planted.values()) == figures["pairs"]
    for engine in ("Veritrail", "pandas", "DuckDB"):
        assert figures["counts"][engine] == planted, engine
    assert figures["engines_agree"] and figures["as_planted"]
    assert figures["findings"] == sum(planted[kind] for kind in DISCREPANCIES)

    for engine in ("Veritrail", "findings", "pandas", "DuckDB"):
        assert len(figures["seconds"][engine]) == 1
    assert figures["ratios"]["veritrail_pandas"] > 0
    assert figures["ratios"]["veritrail_duckdb"] > 0
    assert figures["goal_met"] is None  # judged at 10,000,000 lines only
    assert figures["duckdb_threads"] >= 1 and figures["peak_rss_bytes"] > 0
    assert "agree on every regime, year and kind; as planted" in done.stderr
