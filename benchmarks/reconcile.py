"""Transfer reconciliation of 10,000,000 lines, against pandas and DuckDB in the same run.

An analyst who reconciles a regime's transfers asks Veritrail to set every
exporter's declared transfers against the importer's, for all states and
several years at once. Goal: 10,000,000 transfer lines (all states, five years,
about 100 items) reconciled in at most 15 s on this machine.

The lines are made up here, seeded, from the regime packs: the CWC Schedule 2
and 3 chemicals the ADND form accepts (in kg) and the ATT categories as the
reconciliation groups them (in items), so two regimes and about 60 items, with
every state of ``veritrail.reference`` trading with every other over five
years. Each pair (regime, year, exporter, importer, item) is declared by the
exporter and, mostly, by the importer; some sides are split over several lines
that must be summed. Planted in the pairs: about 3% missing imports, 1%
missing exports, 3% quantities differing by more than the item's threshold, 3%
differing by less (matched), and 1% declared by one side only below the
threshold. Making the data up is timed on its own and is not part of any figure.

Measured, best of ``--repeat`` rounds with each round's time (the engines take
turns going first):

* Veritrail: ``item_limits`` + ``reconcile`` + ``counts()``, what the analysis
  page's discrepancy chart and the API's counts rest on; then, as its own
  figure, ``findings()``: every discrepancy as a Python object with its sources,
  as the analysis page, the API and ``run_checks`` ask for them.
* pandas: a straightforward version of the same reconciliation on a DataFrame
  of the same columns: ``groupby(...).sum()`` per side, an outer ``merge``, the
  threshold as max(item limit, relative tolerance x larger side), the kind by
  ``numpy.select``, counted per regime, year and kind.
* DuckDB: the same as one hand-written SQL query over the same DataFrame
  (``GROUP BY`` per side, ``FULL OUTER JOIN``, ``CASE``), with its default
  threads, in a connection opened for the run (not timed) and closed after it.

The three must agree on the number of pairs of each kind in every regime and
year, and find exactly what was planted; otherwise the script says so and exits
with status 1. Peak resident memory is reported for the whole run and, on Linux,
for Veritrail's first round alone, which runs before the baselines' DataFrame
exists.

Usage: ``.venv/bin/python benchmarks/reconcile.py [--lines 10000000] [--repeat 3]
[--seed 1] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import duckdb
import numpy as np
import pandas as pd

from veritrail.analysis.findings import Source
from veritrail.analysis.reconcile import DISCREPANCIES, KINDS, item_limits, reconcile
from veritrail.analysis.transfers import EXPORTER, IMPORTER, LineSet, reconciled_types
from veritrail.reference.states import all_states
from veritrail.regimes.loader import Registry, registry
from veritrail.regimes.model import ReconciliationRule

GOAL_SECONDS = 15.0
GOAL_LINES = 10_000_000
REGIMES = ("cwc", "att")
YEARS = (2020, 2021, 2022, 2023, 2024)
EPSILON = 1e-9  # the engine's: differences within this share of the larger side are equal
MATCHED, MISMATCH, MISSING_IMPORT, MISSING_EXPORT, BELOW = range(len(KINDS))
# Shares of the pairs; the rest match exactly. The two "below" shares fall on
# items with a threshold above zero only (the CWC's; the ATT counts every item).
SHARES = (
    ("missing_import", 0.03),
    ("missing_export", 0.01),
    ("quantity_mismatch", 0.03),
    ("difference_below", 0.03),
    ("one_side_below", 0.01),
)
SPLIT_SHARE = 0.10  # sides declared over 2 to 4 lines


# -- the made-up transfers ----------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The items the packs let states declare, with each item's threshold."""

    regimes: tuple[str, ...]
    rules: dict[str, ReconciliationRule]
    items: list[str]
    item_regime: np.ndarray  # regime code of each item
    limits: np.ndarray  # threshold of each item, in its regime's unit
    ticks: np.ndarray  # indivisible steps per unit: grams per kg, 1 per arms item


def catalogue(reg: Registry) -> Catalogue:
    names: list[str] = []
    regime_of: list[int] = []
    limits: list[float] = []
    ticks: list[int] = []
    rules: dict[str, ReconciliationRule] = {}
    for code, regime in enumerate(REGIMES):
        dtype = reconciled_types(reg, regime)[0]
        rule = dtype.reconciliation
        if rule is None:
            raise SystemExit(f"the {regime} pack has no reconciliation rule")
        rules[regime] = rule
        pack = reg.regime(regime)
        found: dict[str, float] = {}
        for spec in rule.sources:
            section = next(s for s in dtype.sections if s.id == spec.section)
            item_field = next(f for f in section.fields if f.id == spec.item)
            if item_field.code_list:
                code_list = pack.lists[item_field.code_list]
                for entry in code_list.entries:
                    where = item_field.list_where or {}
                    if all(code_list.attribute(entry, k) in v for k, v in where.items()):
                        part = str(code_list.attribute(entry, rule.by)) if rule.by else ""
                        found[entry.code] = float(max(rule.absolute, rule.limits.get(part, 0)))
            for choice in item_field.choices or ():
                found[rule.group_of(choice.value)] = float(rule.absolute)
        for item, limit in found.items():
            names.append(item)
            regime_of.append(code)
            limits.append(limit)
            ticks.append(1 if rule.unit == "items" else 1000)
    return Catalogue(
        regimes=REGIMES,
        rules=rules,
        items=names,
        item_regime=np.array(regime_of, dtype=np.int64),
        limits=np.array(limits, dtype=np.float64),
        ticks=np.array(ticks, dtype=np.int64),
    )


@dataclass(frozen=True)
class Transfers:
    lines: LineSet
    catalogue: Catalogue
    planted: dict[tuple[str, int, str], int]  # pairs per (regime, year, kind)
    pairs: int


def generate(n_lines: int, seed: int, cat: Catalogue) -> Transfers:
    """``n_lines`` transfer lines, the same for the same seed, in declaration order."""
    rng = np.random.default_rng(seed)
    states = [s.alpha3 for s in all_states()]
    n_states, n_items, n_years = len(states), len(cat.items), len(YEARS)
    space = n_years * n_states * (n_states - 1) * n_items
    one_sided = sum(share for name, share in SHARES if name != "quantity_mismatch")
    one_sided -= dict(SHARES)["difference_below"]
    per_pair = (2 - one_sided) * (1 + SPLIT_SHARE * 2)  # lines, on average
    wanted = min(space, int(n_lines / per_pair * 1.1) + 100)
    if n_lines > space * 1.9:
        raise SystemExit(f"at most about {int(space * 1.9):,} lines with these states and items")
    key = rng.choice(space, size=wanted, replace=False)
    item = key % n_items
    rest = key // n_items
    offset = rest % (n_states - 1)
    rest //= n_states - 1
    exporter = rest % n_states
    year = rest // n_states
    importer = (exporter + 1 + offset) % n_states
    regime = cat.item_regime[item]
    limit = (cat.limits[item] * cat.ticks[item]).astype(np.int64)  # in ticks
    unit = cat.ticks[item]

    # What each pair is meant to be, and the amounts each side declares, in ticks.
    draw = rng.random(wanted)
    edges = np.cumsum([share for _, share in SHARES])
    plan = np.searchsorted(edges, draw, side="right")  # 0..4 as SHARES, 5: exact match
    plan[(plan >= 3) & (plan <= 4) & (limit < 2)] = len(SHARES)
    base = (
        limit + unit + (np.maximum(limit, 10 * unit) * rng.lognormal(0, 1, wanted)).astype(np.int64)
    )
    exported, imported = base.copy(), base.copy()
    has_export = plan != 1
    has_import = plan != 0
    # Above the threshold whatever the relative tolerance up to about 9% (0 in both packs).
    gap = limit + np.maximum(base // 5, unit)
    larger_export = rng.random(wanted) < 0.5
    mismatch = plan == 2
    exported[mismatch & larger_export] += gap[mismatch & larger_export]
    imported[mismatch & ~larger_export] += gap[mismatch & ~larger_export]
    small = np.maximum(1, (rng.random(wanted) * 0.9 * limit).astype(np.int64))
    below = plan == 3
    imported[below] += np.where(larger_export, -small, small)[below]
    single = plan == 4
    exported[single] = imported[single] = small[single]
    has_export[single] = larger_export[single]
    has_import[single] = ~larger_export[single]
    kind = np.choose(
        plan, [MISSING_IMPORT, MISSING_EXPORT, MISMATCH, MATCHED, BELOW, MATCHED]
    ).astype(np.int64)

    # Lines per side: most sides in one line, some split; then exactly ``n_lines``.
    def split(total: np.ndarray) -> np.ndarray:
        k = np.where(rng.random(wanted) < SPLIT_SHARE, rng.integers(2, 5, wanted), 1)
        return np.minimum(k, np.maximum(total // unit, 1))

    k_export = np.where(has_export, split(exported), 0)
    k_import = np.where(has_import, split(imported), 0)
    cumulative = np.cumsum(k_export + k_import)
    taken = int(np.searchsorted(cumulative, n_lines, side="right"))
    if taken == wanted:
        raise SystemExit("too few pairs drawn; a bug in the generator")
    short = n_lines - (int(cumulative[taken - 1]) if taken else 0)
    room = np.flatnonzero(
        has_export[:taken] & (exported[:taken] // unit[:taken] > k_export[:taken])
    )
    k_export[room[:short]] += 1
    if len(room) < short:
        raise SystemExit(f"--lines {n_lines} is too few to plant the discrepancies")

    # One record per declared side, then its lines; parts of a side add up to it.
    by_exporter = np.flatnonzero(has_export[:taken])
    by_importer = np.flatnonzero(has_import[:taken])
    pair = np.concatenate([by_exporter, by_importer])
    side = np.repeat([EXPORTER, IMPORTER], [len(by_exporter), len(by_importer)])
    total = np.where(side == EXPORTER, exported[pair], imported[pair])
    k = np.where(side == EXPORTER, k_export[pair], k_import[pair])
    record = np.repeat(np.arange(len(pair)), k)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    weight = rng.random(len(record)) + 0.5
    share = weight / np.add.reduceat(weight, first)[record]
    quanta = unit[pair][record]
    parts = ((total - k * unit[pair])[record] // quanta * share).astype(np.int64) * quanta + quanta
    parts[np.cumsum(k) - 1] += total - np.add.reduceat(parts, first)
    line_pair = pair[record]
    line_side = side[record]

    # Declaration order, as ``collect`` builds the lines: one declaration after another.
    reporter = np.where(line_side == EXPORTER, exporter[line_pair], importer[line_pair])
    declaration = (regime[line_pair] * n_years + year[line_pair]) * n_states + reporter
    order = np.argsort(declaration, kind="stable")
    codes, source = np.unique(declaration[order], return_inverse=True)
    sources = []
    reported = set()
    for code in codes.tolist():
        rest_code, state = divmod(code, n_states)
        regime_code, year_index = divmod(rest_code, n_years)
        triple = (REGIMES[regime_code], YEARS[year_index], states[state])
        reported.add(triple)
        sources.append(Source(states[state], f"D-{code:06d}", 1))
    line_pair = line_pair[order]
    lines = LineSet(
        regimes=list(REGIMES),
        states=states,
        items=list(cat.items),
        sources=sources,
        regime=regime[line_pair],
        year=year[line_pair] + YEARS[0],
        exporter=exporter[line_pair],
        importer=importer[line_pair],
        item=item[line_pair],
        side=line_side[order].astype(np.int64),
        amount=parts[order] / quanta[order],
        source=source.astype(np.int64),
        reported=frozenset(reported),
    )
    planted = tally(regime[:taken], year[:taken] + YEARS[0], kind[:taken])
    return Transfers(lines=lines, catalogue=cat, planted=planted, pairs=taken)


def tally(
    regime: np.ndarray, year: np.ndarray, kind: np.ndarray
) -> dict[tuple[str, int, str], int]:
    code = (regime * len(YEARS) + (year - YEARS[0])) * len(KINDS) + kind
    values, counts = np.unique(code, return_counts=True)
    out = {}
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        rest, k = divmod(value, len(KINDS))
        r, y = divmod(rest, len(YEARS))
        out[(REGIMES[r], YEARS[y], KINDS[k])] = count
    return out


# -- the three engines --------------------------------------------------------------------

Counts = dict[tuple[str, int, str], int]


@dataclass
class Run:
    seconds: list[float]
    counts: Counts | None = None

    @property
    def best(self) -> float:
        return min(self.seconds)


def veritrail(data: Transfers, reg: Registry) -> tuple[Counts, Any, list[float]]:
    """The counts per regime, year and kind, the reconciliation, and each step's time."""
    rules = data.catalogue.rules
    now = time.perf_counter
    start = now()
    limits = item_limits(data.lines, rules, reg)
    limited = now()
    result = reconcile(data.lines, rules, limits)
    reconciled = now()
    counts = {(r, y, str(k)): n for (r, y, k), n in result.counts().items()}
    steps = [limited - start, reconciled - limited, now() - reconciled]
    return counts, result, steps


def with_pandas(frame: pd.DataFrame, cat: Catalogue) -> Counts:
    keys = ["regime", "year", "exporter", "importer", "item"]
    exported = frame[frame["side"] == EXPORTER].groupby(keys, as_index=False)["amount"].sum()
    imported = frame[frame["side"] == IMPORTER].groupby(keys, as_index=False)["amount"].sum()
    pairs = exported.merge(imported, on=keys, how="outer", suffixes=("_exported", "_imported"))
    has_export = pairs["amount_exported"].notna().to_numpy()
    has_import = pairs["amount_imported"].notna().to_numpy()
    e = pairs["amount_exported"].fillna(0.0).to_numpy()
    i = pairs["amount_imported"].fillna(0.0).to_numpy()
    relative = np.array([float(cat.rules[r].relative) for r in cat.regimes])
    larger = np.maximum(e, i)
    threshold = np.maximum(
        cat.limits[pairs["item"].to_numpy()], relative[pairs["regime"].to_numpy()] * larger
    )
    above = np.abs(e - i) > threshold + EPSILON * larger
    both = has_export & has_import
    pairs["kind"] = np.select(
        [both & above, both, has_export & above, has_import & above],
        [MISMATCH, MATCHED, MISSING_IMPORT, MISSING_EXPORT],
        BELOW,
    )
    sizes = pairs.groupby(["regime", "year", "kind"]).size()
    return {(REGIMES[r], int(y), KINDS[k]): int(n) for (r, y, k), n in sizes.items()}


DUCKDB_QUERY = """
WITH exported AS (
    SELECT regime, year, exporter, importer, item, sum(amount) AS amount
    FROM lines WHERE side = 0
    GROUP BY regime, year, exporter, importer, item
), imported AS (
    SELECT regime, year, exporter, importer, item, sum(amount) AS amount
    FROM lines WHERE side = 1
    GROUP BY regime, year, exporter, importer, item
), pairs AS (
    SELECT coalesce(e.regime, i.regime) AS regime, coalesce(e.year, i.year) AS year,
           coalesce(e.item, i.item) AS item,
           e.amount IS NOT NULL AS has_export, i.amount IS NOT NULL AS has_import,
           coalesce(e.amount, 0) AS exported, coalesce(i.amount, 0) AS imported
    FROM exported e FULL OUTER JOIN imported i
      ON e.regime = i.regime AND e.year = i.year AND e.exporter = i.exporter
     AND e.importer = i.importer AND e.item = i.item
), judged AS (
    SELECT p.regime, p.year, has_export, has_import,
           abs(exported - imported) > greatest(t.threshold, r.relative * larger)
               + 1e-9 * larger AS above
    FROM (SELECT *, greatest(exported, imported) AS larger FROM pairs) p
    JOIN item_limits t ON t.item = p.item
    JOIN regime_tolerances r ON r.regime = p.regime
)
SELECT regime, year,
       CASE WHEN has_export AND has_import AND above THEN 'quantity_mismatch'
            WHEN has_export AND has_import THEN 'matched'
            WHEN has_export AND above THEN 'missing_import'
            WHEN has_import AND above THEN 'missing_export'
            ELSE 'below_threshold' END AS kind,
       count(*) AS pairs
FROM judged
GROUP BY ALL
"""


def with_duckdb(con: duckdb.DuckDBPyConnection) -> Counts:
    rows = con.execute(DUCKDB_QUERY).fetchall()
    return {(REGIMES[r], int(y), str(k)): int(n) for r, y, k, n in rows}


# -- the run ------------------------------------------------------------------------------


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def status(name: str) -> int:
    """VmRSS, VmHWM… of this process from /proc, in bytes (0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> bool:
    """Start the peak resident memory (VmHWM) afresh, where Linux allows it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return status("VmHWM") > 0


def gb(n: int) -> str:
    return f"{n / 1024**3:.1f} GB"


def per_kind(counts: Counts | None) -> dict[str, int]:
    out = dict.fromkeys(KINDS, 0)
    for (_, _, kind), n in (counts or {}).items():
        out[kind] += n
    return out


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def times(run: Run) -> str:
    return ", ".join(f"{s:.2f}" for s in run.seconds) + " s"


@dataclass
class Bench:
    """The rounds of the three engines over one set of lines, and what they found."""

    data: Transfers
    reg: Registry
    say: Callable[[str], None]
    runs: dict[str, Run] = field(
        default_factory=lambda: {n: Run([]) for n in ("Veritrail", "findings", "pandas", "DuckDB")}
    )
    found: int = 0
    frame: pd.DataFrame | None = None
    threads: int = 0  # DuckDB's
    peak_before_baselines: int = 0  # VmHWM after Veritrail's first run, 0 if unknown
    measure_peak: bool = False

    def rounds(self, repeat: int) -> None:
        engines = [self.veritrail, self.pandas, self.duckdb]
        for round_ in range(repeat):  # each engine goes first in turn
            self.say(f"== round {round_ + 1} of {repeat}")
            for engine in engines[round_ % 3 :] + engines[: round_ % 3]:
                engine()

    def veritrail(self) -> None:
        seconds, (counts, result, steps) = timed(lambda: veritrail(self.data, self.reg))
        self.runs["Veritrail"].seconds.append(seconds)
        self.runs["Veritrail"].counts = counts
        limits, reconciled, counted = steps
        self.say(
            f"  Veritrail {seconds:.2f} s (item_limits {limits:.2f} + reconcile {reconciled:.2f} "
            f"+ counts {counted:.2f})"
        )
        seconds, findings = timed(result.findings)
        self.runs["findings"].seconds.append(seconds)
        self.found = len(findings)
        self.say(f"  Veritrail findings() {seconds:.2f} s for {self.found:,} discrepancies")

    def pandas(self) -> None:
        frame = self.baseline_frame()
        seconds, counts = timed(lambda: with_pandas(frame, self.data.catalogue))
        self.runs["pandas"].seconds.append(seconds)
        self.runs["pandas"].counts = counts
        self.say(f"  pandas {seconds:.2f} s")

    def duckdb(self) -> None:
        # A connection per run: one left open keeps DuckDB's buffers, and while they
        # are held NumPy's page faults cost several times the system time.
        with self.connection() as con:
            seconds, counts = timed(lambda: with_duckdb(con))
            self.threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        self.runs["DuckDB"].seconds.append(seconds)
        self.runs["DuckDB"].counts = counts
        self.say(f"  DuckDB {seconds:.2f} s")

    def baseline_frame(self) -> pd.DataFrame:
        """The lines as one DataFrame, for pandas and DuckDB alike; made once."""
        if self.frame is None:
            if self.measure_peak:
                self.peak_before_baselines = status("VmHWM")
            lines = self.data.lines
            columns = ("regime", "year", "exporter", "importer", "item", "side", "amount")
            self.frame = pd.DataFrame({c: getattr(lines, c) for c in columns})
        return self.frame

    def connection(self) -> duckdb.DuckDBPyConnection:
        cat = self.data.catalogue
        con = duckdb.connect()
        con.register("lines", self.baseline_frame())
        con.register(
            "item_limits", pd.DataFrame({"item": range(len(cat.items)), "threshold": cat.limits})
        )
        relative = [float(cat.rules[r].relative) for r in REGIMES]
        con.register(
            "regime_tolerances", pd.DataFrame({"regime": range(len(REGIMES)), "relative": relative})
        )
        return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=GOAL_LINES)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best one counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = parser.parse_args()
    if args.lines < 1_000 or args.repeat < 1:
        parser.error("--lines must be at least 1,000 and --repeat at least 1")
    out: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"{os.cpu_count()} cores; load average before the run {load()}")
    reg = registry()
    cat = catalogue(reg)
    start = time.perf_counter()
    data = generate(args.lines, args.seed, cat)
    made = time.perf_counter() - start
    lines = data.lines
    by_regime = {r: int((cat.item_regime == i).sum()) for i, r in enumerate(REGIMES)}
    say(
        f"== {len(lines):,} transfer lines, {data.pairs:,} pairs; {len(cat.items)} items "
        f"({by_regime['cwc']} CWC Schedule 2 and 3 chemicals in kg, {by_regime['att']} ATT "
        f"categories in items), {len(lines.states)} states, {len(YEARS)} years "
        f"({YEARS[0]}-{YEARS[-1]}); made up in {made:.1f} s (not measured)"
    )
    gc.collect()
    rss_made_up = peak_rss()  # the peak while making up the data
    rss_data = status("VmRSS")  # the lines, the libraries and the interpreter
    bench = Bench(data, reg, say, measure_peak=reset_peak())
    bench.rounds(args.repeat)
    runs, found = bench.runs, bench.found
    threads = bench.threads

    engines_agree = runs["Veritrail"].counts == runs["pandas"].counts == runs["DuckDB"].counts
    as_planted = runs["Veritrail"].counts == data.planted
    planted_discrepancies = sum(v for (_, _, k), v in data.planted.items() if k in DISCREPANCIES)
    findings_right = found == planted_discrepancies
    say("== pairs per kind (all regimes and years)")
    say(f"  {'kind':<18}{'planted':>12}{'Veritrail':>12}{'pandas':>12}{'DuckDB':>12}")
    tallies = {name: per_kind(runs[name].counts) for name in ("Veritrail", "pandas", "DuckDB")}
    planted = per_kind(data.planted)
    for kind in KINDS:
        row = "".join(f"{tallies[n][kind]:>12,}" for n in ("Veritrail", "pandas", "DuckDB"))
        say(f"  {kind:<18}{planted[kind]:>12,}{row}")
    if not engines_agree:
        say("  DISAGREE: the engines count different pairs in some regime, year and kind")
    if not as_planted:
        say("  NOT AS PLANTED: Veritrail's counts differ from what was made up")
    if not findings_right:
        say(f"  FINDINGS: {found:,} findings for {planted_discrepancies:,} planted discrepancies")

    best = {name: run.best for name, run in runs.items()}
    full = len(lines) == GOAL_LINES
    goal_met = best["Veritrail"] <= GOAL_SECONDS if full else None
    goal = ("met" if goal_met else "NOT met") if full else "not judged at this size"
    rss = max(peak_rss(), rss_made_up)
    rss_veritrail = bench.peak_before_baselines
    say(
        f"== summary ({len(lines):,} lines, {data.pairs:,} pairs, {len(cat.items)} items, "
        f"{len(lines.states)} states, {len(YEARS)} years; {os.cpu_count()} cores; load average "
        f"at the end {load()})"
    )
    say(
        f"reconcile: Veritrail {best['Veritrail']:.2f} s, best of {args.repeat} "
        f"({times(runs['Veritrail'])}) (goal <= {GOAL_SECONDS:.0f} s at {GOAL_LINES:,} "
        f"lines: {goal})"
    )
    say(
        f"  pandas {best['pandas']:.2f} s ({times(runs['pandas'])}); DuckDB {best['DuckDB']:.2f} s "
        f"({times(runs['DuckDB'])}, {threads} threads)"
    )
    say(
        f"  Veritrail / pandas {best['Veritrail'] / best['pandas']:.2f}x, Veritrail / DuckDB "
        f"{best['Veritrail'] / best['DuckDB']:.2f}x (below 1: Veritrail faster)"
    )
    say(
        f"findings: {found:,} discrepancies as findings in {best['findings']:.2f} s "
        f"({times(runs['findings'])}), on top of the reconciliation"
    )
    say(
        f"counts: the three engines {'agree' if engines_agree else 'DISAGREE'} on every regime, "
        f"year and kind; {'as' if as_planted else 'NOT as'} planted"
    )
    say(
        f"memory: peak RSS {gb(rss)} over the whole run (making up the data: {gb(rss_made_up)}, "
        f"then {gb(rss_data)} resident with the lines)"
    )
    if rss_veritrail:
        say(
            f"  Veritrail's first reconciliation and findings, before any baseline ran: peak "
            f"{gb(rss_veritrail)}, {gb(rss_veritrail - rss_data)} above the lines; with the "
            f"baselines' rounds: peak {gb(status('VmHWM'))}"
        )
    if args.json:
        figures = {
            "lines": len(lines),
            "pairs": data.pairs,
            "items": len(cat.items),
            "states": len(lines.states),
            "years": len(YEARS),
            "generation_seconds": made,
            "seconds": {name: run.seconds for name, run in runs.items()},
            "best": best,
            "ratios": {
                "veritrail_pandas": best["Veritrail"] / best["pandas"],
                "veritrail_duckdb": best["Veritrail"] / best["DuckDB"],
            },
            "goal_met": goal_met,
            "duckdb_threads": threads,
            "planted": planted,
            "counts": tallies,
            "findings": found,
            "engines_agree": engines_agree,
            "as_planted": as_planted,
            "peak_rss_bytes": rss,
            "veritrail_peak_rss_bytes": rss_veritrail or None,
            "resident_with_lines_bytes": rss_data,
        }
        print(json.dumps(figures))
    if not (engines_agree and as_planted and findings_right):
        sys.exit(1)


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
