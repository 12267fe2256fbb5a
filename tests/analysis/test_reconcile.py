"""Transfer reconciliation on planted-discrepancy worlds made up by the tests.

A seeded generator makes a world of states trading CWC Schedule 2 and 3
chemicals (in kg or t) and ATT categories (in items, under sub-categories that
group to their category), every transfer declared by both sides; then it plants
quantity mismatches, missing imports and exports, differences at or below the
threshold, one-sided transfers below it, the same mass in different units,
sub-categories that differ, and pairs split over several lines. The engine must
find exactly what was planted, whichever way the figures reach it: in memory,
through submitted declarations, or through an imported CSV file that names
states three ways.

The thresholds below are written out from the Verification Annex, not read from
the pack, so a pack that drifts from the Convention fails here.
"""

from __future__ import annotations

import csv
import functools
import io
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import national, secretariat
from veritrail.access import OPERATOR
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.transfers import do_import_transfers
from veritrail.analysis.findings import Source
from veritrail.analysis.reconcile import (
    DISCREPANCIES,
    KINDS,
    Reconciliation,
    TransferFinding,
    reconcile_all,
)
from veritrail.analysis.sources import Submitted
from veritrail.analysis.transfers import LineBuilder, collect, rule_for
from veritrail.declarations.document import ParsedDeclaration
from veritrail.declarations.models import SubmissionResult
from veritrail.errors import InputError
from veritrail.queries.analysis import reconcile_transfers
from veritrail.queries.ledger_audit import run_audit
from veritrail.reference import all_states
from veritrail.regimes.loader import Registry, registry
from veritrail.store.models import Blob, TransferImport, TransferLine

# Declaration thresholds of the Verification Annex (Part VII para 3, Part VIII para 3),
# in kilograms: what a transfer must exceed to have to be declared at all.
CWC_LIMITS_KG = {"2A*": 1, "2A": 100, "2B": 1000, "3A": 30000, "3B": 30000}
# The categories of the Treaty and the Register, and the annual report's sub-categories.
ATT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "I": ("I",),
    "II": ("II",),
    "III": ("III",),
    "IV": ("IV_a", "IV_b"),
    "V": ("V_a", "V_b"),
    "VI": ("VI",),
    "VII": ("VII_a", "VII_b"),
    "SALW": tuple(f"SA_{n}" for n in range(1, 7)) + tuple(f"LW_{n}" for n in range(1, 8)),
}
UNITS = {"cwc": "kg", "att": "items"}
TYPES = {"cwc": "adnd", "att": "annual_report"}
DMMP, AMITON, PHOSGENE, BZ = "756-79-6", "78-53-5", "75-44-5", "6581-06-2"

MATCHING = ("matched", "units", "small_difference", "subcategory", "split")
PLAN_KIND = {
    **dict.fromkeys(MATCHING, "matched"),
    "mismatch": "quantity_mismatch",
    "split_mismatch": "quantity_mismatch",
    "missing_import": "missing_import",
    "missing_export": "missing_export",
    "below_threshold": "below_threshold",
}
CWC_PLANS = (
    "matched",
    "units",
    "small_difference",
    "mismatch",
    "missing_import",
    "missing_export",
    "below_threshold",
    "split",
    "split_mismatch",
)
# Any difference in a number of items counts, so ATT has no small differences.
ATT_PLANS = (
    "matched",
    "subcategory",
    "mismatch",
    "missing_import",
    "missing_export",
    "below_threshold",
    "split",
    "split_mismatch",
)


@pytest.fixture(scope="module")
def packs() -> Registry:
    return registry()


def schedule_parts(packs: Registry) -> dict[str, str]:
    """CAS number -> Schedule part, for the chemicals the ADND form takes."""
    code_list = packs.regime("cwc").lists["schedules"]
    parts = {e.code: str(code_list.attribute(e, "schedule")) for e in code_list.entries}
    return {cas: part for cas, part in parts.items() if part in CWC_LIMITS_KG}


def limit_of(regime: str, item: str, parts: dict[str, str]) -> int:
    return CWC_LIMITS_KG[parts[item]] if regime == "cwc" else 0


# The world


@dataclass(frozen=True)
class Pair:
    regime: str
    year: int
    exporter: str
    importer: str
    item: str  # as reconciled: a CAS number or an ATT category


@dataclass(frozen=True)
class Planted:
    plan: str
    exported: int | None  # the sum of the exporter's lines, in the regime's unit
    imported: int | None

    @property
    def kind(self) -> str:
        return PLAN_KIND[self.plan]


@dataclass
class World:
    """Each (regime, year, state)'s transfer rows and what was planted in them."""

    years: tuple[int, ...]
    reporters: list[str]
    silent: frozenset[str]  # states that report nothing
    rows: dict[tuple[str, int, str], list[tuple[str, dict[str, Any]]]]
    planted: dict[Pair, Planted] = field(default_factory=dict)

    def discrepancies(self) -> set[tuple[str, str, str, int, str]]:
        return {
            (p.exporter, p.importer, p.item, p.year, planted.kind)
            for p, planted in self.planted.items()
            if planted.kind in DISCREPANCIES
        }

    def kinds(self) -> dict[tuple[str, int, str, str, str], str]:
        return {
            (p.regime, p.year, p.exporter, p.importer, p.item): planted.kind
            for p, planted in self.planted.items()
        }

    def declarations(self) -> Iterator[tuple[str, int, str]]:
        """Every (regime, year, state) that reports, nil reports included."""
        for regime in ("cwc", "att"):
            for year in self.years:
                for state in self.reporters:
                    yield regime, year, state


def _parts(rng: random.Random, total: int, n: int) -> list[int]:
    """``total`` split into ``n`` whole parts, each at least 0."""
    cuts = sorted(rng.randint(0, total) for _ in range(n - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _apart(rng: random.Random, amount: int, least: int, most: int) -> int:
    """A figure differing from ``amount`` by ``least`` to ``most``, never below zero."""
    step = rng.randint(least, most)
    return amount + step if amount < step or rng.random() < 0.5 else amount - step


def make_world(
    seed: int,
    packs: Registry,
    *,
    states: int = 30,
    years: tuple[int, ...] = (2023, 2024),
    pairs: int = 400,
    splits: bool = True,
    cwc_splits: bool = True,
) -> World:
    """A seeded world of ``pairs`` transfers with discrepancies planted among them.

    ``cwc_splits`` False keeps every ADND declaration valid (one row per chemical,
    activity and partner); ``splits`` False keeps one line per side and pair, as an
    imported file must.
    """
    rng = random.Random(seed)
    parts = schedule_parts(packs)
    chemicals = sorted(parts)
    chosen = rng.sample(sorted(s.alpha3 for s in all_states()), states)
    silent = frozenset(chosen[: max(2, states // 8)])
    reporters = chosen[len(silent) :]
    world = World(years, reporters, silent, defaultdict(list))
    cwc_plans = [p for p in CWC_PLANS if (splits and cwc_splits) or "split" not in p]
    att_plans = [p for p in ATT_PLANS if splits or "split" not in p]

    def cwc_row(
        year: int, state: str, partner: str, direction: str, cas: str, kg: int, unit: str
    ) -> None:
        quantity = Decimal(kg) if unit == "kg" else Decimal(kg) / 1000
        row = {
            "cas": cas,
            "activity": direction,
            "partner_state": partner,
            "quantity": format(quantity.normalize(), "f"),
            "unit": unit,
        }
        world.rows[("cwc", year, state)].append(("lines", row))

    def att_row(
        year: int, state: str, partner: str, direction: str, category: str, items: int
    ) -> None:
        section, partner_field = (
            ("exports", "importing_state")
            if direction == "export"
            else ("imports", "exporting_state")
        )
        row = {"category": category, partner_field: partner, "items": items, "basis": "actual"}
        world.rows[("att", year, state)].append((section, row))

    while len(world.planted) < pairs:
        regime = rng.choice(("cwc", "att"))
        year = rng.choice(years)
        plan = rng.choice(cwc_plans if regime == "cwc" else att_plans)
        exporter, importer = rng.sample(reporters, 2)
        if plan == "missing_import" and rng.random() < 0.3:
            importer = rng.choice(sorted(silent))
        elif plan == "missing_export" and rng.random() < 0.3:
            exporter = rng.choice(sorted(silent))
        if regime == "cwc":
            item = rng.choice(chemicals)
        else:
            groups = [g for g, m in ATT_CATEGORIES.items() if len(m) > 1 or plan != "subcategory"]
            item = rng.choice(groups)
        pair = Pair(regime, year, exporter, importer, item)
        if pair in world.planted:
            continue
        limit = limit_of(regime, item, parts)
        amount = rng.randint(limit + 1, limit * 20 + 60)
        exported: list[int] = []
        imported: list[int] = []
        if plan in ("matched", "units", "subcategory"):
            exported, imported = [amount], [amount]
        elif plan == "small_difference":
            exported, imported = [amount], [_apart(rng, amount, 1, limit)]
        elif plan == "mismatch":
            exported, imported = [amount], [_apart(rng, amount, limit + 1, 2 * limit + 5)]
        elif plan == "missing_import":
            exported = [amount]
        elif plan == "missing_export":
            imported = [amount]
        elif plan == "below_threshold":
            one = [rng.randint(1, limit)] if limit else [0]
            exported, imported = (one, []) if rng.random() < 0.5 else ([], one)
        else:  # split, split_mismatch: one side's lines add up
            other = amount if plan == "split" else _apart(rng, amount, limit + 1, 2 * limit + 5)
            split = _parts(rng, amount, rng.randint(2, 3))
            exported, imported = (split, [other]) if rng.random() < 0.5 else ([other], split)
        if (exported and exporter in silent) or (imported and importer in silent):
            continue
        world.planted[pair] = Planted(
            plan, sum(exported) if exported else None, sum(imported) if imported else None
        )
        if regime == "cwc":
            units = ("kg", "t") if rng.random() < 0.5 else ("t", "kg")
            if plan != "units":
                units = (units[0], units[0])
            for kg in exported:
                cwc_row(year, exporter, importer, "export", item, kg, units[0])
            for kg in imported:
                cwc_row(year, importer, exporter, "import", item, kg, units[1])
        else:
            members = ATT_CATEGORIES[item]
            first = rng.choice(members)
            second = rng.choice([m for m in members if m != first] or [first])
            for n in exported:
                att_row(
                    year,
                    exporter,
                    importer,
                    "export",
                    first if plan != "split" else rng.choice(members),
                    n,
                )
            for n in imported:
                category = second if plan == "subcategory" else first
                att_row(year, importer, exporter, "import", category, n)
    # Activities that are not transfers are not reconciled.
    for state in reporters:
        for year in years:
            if rng.random() < 0.5:
                world.rows[("cwc", year, state)].append(
                    (
                        "lines",
                        {
                            "cas": rng.choice(chemicals),
                            "activity": "production",
                            "quantity": str(rng.randint(1, 90_000)),
                            "unit": "kg",
                        },
                    )
                )
    return world


def data_of(regime: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if regime == "att":
        data = {
            "report": {"contact": "Ministry of Defence", "date": "2025-05-01", "publish": False},
            "exports": [],
            "imports": [],
        }
    for section, row in rows:
        data.setdefault(section, []).append(row)
    return data


_ids = count(1)


def in_memory(world: World, rng: random.Random) -> tuple[list[Submitted], dict[Any, Source]]:
    """The world as submitted declarations, each at a version from 1 to 3."""
    declared: list[Submitted] = []
    sources: dict[Any, Source] = {}
    for regime, year, state in world.declarations():
        rows = world.rows.get((regime, year, state), [])
        submitted = Submitted(
            id=f"D-{next(_ids):06d}",
            version=rng.randint(1, 3),
            regime=regime,
            type=TYPES[regime],
            state=state,
            period=year,
            classification="protected",
            first_submitted_at=None,
            nothing_to_declare=not rows,
            data=data_of(regime, rows) if rows else {},
        )
        declared.append(submitted)
        sources[(regime, year, state)] = Source(state, submitted.id, submitted.version)
    return declared, sources


def figure(value: int, unit: str) -> str:
    return f"{value:,} {'item' if unit == 'items' and value == 1 else unit}"


def check_explanations(
    findings: list[TransferFinding], world: World, sources: dict[Any, Source], packs: Registry
) -> None:
    """Each discrepancy names both sides' figures and the declarations they come from."""
    parts = schedule_parts(packs)
    for f in findings:
        pair = Pair(f.regime, f.year, f.exporter, f.importer, f.item)
        planted = world.planted[pair]
        unit = UNITS[f.regime]
        text = f.explanation()
        assert f.unit == unit
        assert f.exported == planted.exported and f.imported == planted.imported, pair
        assert f.threshold == limit_of(f.regime, f.item, parts)
        assert f"the threshold is {figure(limit_of(f.regime, f.item, parts), unit)}" in text
        exporter_src = sources.get((f.regime, f.year, f.exporter))
        importer_src = sources.get((f.regime, f.year, f.importer))
        if planted.exported is not None:
            assert f"{f.exporter} declared exporting {figure(planted.exported, unit)}" in text
            assert exporter_src is not None and exporter_src.label() in text
            assert f.export_sources == (exporter_src,)
        if planted.imported is not None:
            assert f"{f.importer} declared importing {figure(planted.imported, unit)}" in text
            assert importer_src is not None and importer_src.label() in text
            assert f.import_sources == (importer_src,)
        if f.kind == "quantity_mismatch":
            gap = abs(planted.exported - planted.imported)  # type: ignore[operator]
            assert f"the difference is {figure(gap, unit)}" in text
        elif f.kind == "missing_import":
            assert f.imported is None and f.import_sources == ()
            assert (
                f"{f.importer} submitted no report on these transfers for {f.year}"
                if f.importer in world.silent
                else f"{f.importer}'s report for {f.year} has no such import"
            ) in text
        else:
            assert f.exported is None and f.export_sources == ()
            assert (
                f"{f.exporter} submitted no report on these transfers for {f.year}"
                if f.exporter in world.silent
                else f"{f.exporter}'s report for {f.year} has no such export"
            ) in text


def assert_as_planted(result: Reconciliation, world: World) -> None:
    every = result.findings(kinds=frozenset(KINDS))
    got = {(f.regime, f.year, f.exporter, f.importer, f.item): f.kind for f in every}
    wrong = {k: (got.get(k), v) for k, v in world.kinds().items() if got.get(k) != v}
    extra = set(got) - set(world.kinds())
    assert not wrong and not extra, (wrong, extra)
    found = {(f.exporter, f.importer, f.item, f.year, f.kind) for f in result.findings()}
    assert found == world.discrepancies()


# The engine, in memory


def test_the_thresholds_are_the_conventions(packs: Registry) -> None:
    cwc = rule_for(packs, "cwc")
    assert cwc.unit == "kg" and cwc.by == "schedule" and cwc.item_list == "schedules"
    assert {k: int(v) for k, v in cwc.limits.items()} == CWC_LIMITS_KG
    att = rule_for(packs, "att")
    assert att.unit == "items" and att.absolute == 0 and att.relative == 0
    for category, members in ATT_CATEGORIES.items():
        assert {att.group_of(m) for m in members} == {category}
    # Every Schedule part the ADND form takes has a chemical to plant.
    assert set(schedule_parts(packs).values()) == set(CWC_LIMITS_KG)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_planted_discrepancy_is_found_and_nothing_else(seed: int, packs: Registry) -> None:
    world = make_world(seed, packs)
    plans = Counter(p.plan for p in world.planted.values())
    assert set(plans) == set(CWC_PLANS) | set(ATT_PLANS), plans  # each plan was planted
    declared, sources = in_memory(world, random.Random(seed))
    lines = collect(declared, packs)
    assert len(lines) == sum(
        1 for rows in world.rows.values() for _, row in rows if row.get("activity") != "production"
    )
    result = reconcile_all(lines, packs)
    assert_as_planted(result, world)
    check_explanations(result.findings(), world, sources, packs)
    for f in result.findings(kinds=frozenset({"below_threshold"})):
        one = f.exported if f.exported is not None else f.imported
        if one:  # a one-sided 0 is test_a_one_sided_zero_is_explained_with_its_figure
            assert f"only one side declared it ({figure(int(one), UNITS[f.regime])})" in (
                f.explanation()
            )
    # The summary counts agree with the pairs.
    expected = Counter((p.regime, p.year, planted.kind) for p, planted in world.planted.items())
    assert result.counts() == dict(expected)


def test_a_finding_carries_both_figures_in_json(packs: Registry) -> None:
    world = make_world(4, packs, pairs=120)
    declared, _ = in_memory(world, random.Random(4))
    result = reconcile_all(collect(declared, packs), packs)
    for f in result.findings():
        body = f.as_json()
        planted = world.planted[Pair(f.regime, f.year, f.exporter, f.importer, f.item)]
        assert (body["exported"], body["imported"]) == (planted.exported, planted.imported)
        assert body["difference"] == (planted.exported or 0) - (planted.imported or 0)
        finding = f.finding()
        assert finding.states == (f.exporter, f.importer) and finding.item == f.item
        assert finding.explanation == f.explanation()
        assert set(finding.sources) == {*f.export_sources, *f.import_sources}


def submitted(state: str, year: int, *rows: dict[str, Any], regime: str = "cwc") -> Submitted:
    data = data_of(regime, [("lines", r) for r in rows]) if regime == "cwc" else rows[0]
    return Submitted(
        id=f"D-{next(_ids):06d}",
        version=1,
        regime=regime,
        type=TYPES[regime],
        state=state,
        period=year,
        classification="protected",
        first_submitted_at=None,
        nothing_to_declare=False,
        data=data,
    )


def cwc(cas: str, activity: str, partner: str, quantity: str, unit: str = "kg") -> dict[str, Any]:
    return {
        "cas": cas,
        "activity": activity,
        "partner_state": partner,
        "quantity": quantity,
        "unit": unit,
    }


def kinds_of(declared: list[Submitted], packs: Registry) -> dict[tuple[str, str, str], str]:
    result = reconcile_all(collect(declared, packs), packs)
    return {
        (f.exporter, f.importer, f.item): f.kind for f in result.findings(kinds=frozenset(KINDS))
    }


@pytest.mark.parametrize(
    ("cas", "exported", "imported", "unit", "kind"),
    [
        # Schedule 2A*: 1 kg.
        (BZ, "3", "4", "kg", "matched"),
        (BZ, "3", "4.001", "kg", "quantity_mismatch"),
        # Schedule 2A: 100 kg.
        (AMITON, "500", "0.6", "t", "matched"),
        (AMITON, "500", "600.5", "kg", "quantity_mismatch"),
        # Schedule 2B: 1 t.
        (DMMP, "12000", "13", "t", "matched"),
        (DMMP, "12000", "13.0005", "t", "quantity_mismatch"),
        # Schedule 3A: 30 t.
        (PHOSGENE, "100000", "70", "t", "matched"),
        (PHOSGENE, "100000", "69.999", "t", "quantity_mismatch"),
    ],
)
def test_the_threshold_is_the_schedule_parts_at_its_edge(
    cas: str, exported: str, imported: str, unit: str, kind: str, packs: Registry
) -> None:
    declared = [
        submitted("FRA", 2024, cwc(cas, "export", "DEU", exported)),
        submitted("DEU", 2024, cwc(cas, "import", "FRA", imported, unit)),
    ]
    assert kinds_of(declared, packs) == {("FRA", "DEU", cas): kind}


def test_one_side_at_the_threshold_is_below_it_and_above_is_missing(packs: Registry) -> None:
    declared = [
        submitted(
            "FRA",
            2024,
            cwc(DMMP, "export", "DEU", "1"),
            cwc(AMITON, "export", "DEU", "100.001"),
            cwc(PHOSGENE, "import", "ITA", "30", "t"),
        ),
        submitted("DEU", 2024, cwc(DMMP, "production", "", "5")),
        submitted("ITA", 2024, cwc(PHOSGENE, "export", "ESP", "30001")),
    ]
    assert kinds_of(declared, packs) == {
        ("FRA", "DEU", DMMP): "below_threshold",  # 1 t, the 2B limit
        ("FRA", "DEU", AMITON): "missing_import",
        ("ITA", "FRA", PHOSGENE): "below_threshold",  # 30 t, the Schedule 3 limit
        ("ITA", "ESP", PHOSGENE): "missing_import",
    }


def test_a_side_split_over_lines_is_summed(packs: Registry) -> None:
    # ADND rows are one per chemical, activity and partner; the engine sums whatever it gets.
    declared = [
        submitted(
            "FRA",
            2024,
            cwc(DMMP, "export", "DEU", "4", "t"),
            cwc(DMMP, "export", "DEU", "3500"),
            cwc(DMMP, "export", "DEU", "2.5", "t"),
        ),
        submitted("DEU", 2024, cwc(DMMP, "import", "FRA", "10000")),
    ]
    result = reconcile_all(collect(declared, packs), packs)
    (pair,) = result.findings(kinds=frozenset(KINDS))
    assert (pair.kind, pair.exported, pair.imported) == ("matched", 10000.0, 10000.0)
    assert pair.export_sources == (Source("FRA", declared[0].id, 1),)
    att = [
        submitted(
            "GBR",
            2024,
            data_of(
                "att",
                [
                    ("exports", {"category": "SA_3", "importing_state": "POL", "items": 40}),
                    ("exports", {"category": "LW_1", "importing_state": "POL", "items": 2}),
                    ("exports", {"category": "IV_a", "importing_state": "POL", "items": 3}),
                    ("exports", {"category": "IV_b", "importing_state": "POL", "items": 2}),
                ],
            ),
            regime="att",
        ),
        submitted(
            "POL",
            2024,
            data_of(
                "att",
                [
                    ("imports", {"category": "SA_4", "exporting_state": "GBR", "items": 42}),
                    ("imports", {"category": "IV_a", "exporting_state": "GBR", "items": 4}),
                ],
            ),
            regime="att",
        ),
    ]
    result = reconcile_all(collect(att, packs), packs)
    found = {
        (f.item, f.kind, f.exported, f.imported) for f in result.findings(kinds=frozenset(KINDS))
    }
    assert found == {("SALW", "matched", 42.0, 42.0), ("IV", "quantity_mismatch", 5.0, 4.0)}


def test_a_one_sided_zero_is_explained_with_its_figure(packs: Registry) -> None:
    """BUG (analysis/reconcile.py, TransferFinding.explanation, line 98): a one-sided
    figure of 0 is falsy, so the explanation shows the other side's None as "nothing"."""
    declared = [
        submitted("FRA", 2024, cwc(DMMP, "export", "DEU", "0")),
        submitted("DEU", 2024, cwc(AMITON, "production", "", "5")),
    ]
    result = reconcile_all(collect(declared, packs), packs)
    (found,) = result.findings(kinds=frozenset(KINDS))
    assert (found.kind, found.exported, found.imported) == ("below_threshold", 0.0, None)
    assert "only one side declared it (0 kg)" in found.explanation()


# A reference in plain Python, for the property test.


@functools.cache
def _schedule_parts() -> dict[str, str]:
    return schedule_parts(registry())


def reference(lines: list[tuple[str, str, int, str, str, str, Fraction]]) -> dict[Any, str]:
    """Classify each pair the slow, obvious way, in exact arithmetic."""
    sums: dict[Any, list[Any]] = defaultdict(lambda: [Fraction(0), Fraction(0), False, False])
    for regime, item, year, exporter, importer, side, amount in lines:
        group = sums[(regime, year, exporter, importer, item)]
        index = 0 if side == "export" else 1
        group[index] += amount
        group[index + 2] = True
    out: dict[Any, str] = {}
    for key, (exported, imported, has_export, has_import) in sums.items():
        regime, item = key[0], key[4]
        limit = CWC_LIMITS_KG[_schedule_parts()[item]] if regime == "cwc" else 0
        above = abs(exported - imported) > limit
        if has_export and has_import:
            out[key] = "quantity_mismatch" if above else "matched"
        elif has_export:
            out[key] = "missing_import" if above else "below_threshold"
        else:
            out[key] = "missing_export" if above else "below_threshold"
    return out


_ITEMS = [
    ("cwc", BZ),
    ("cwc", AMITON),
    ("cwc", DMMP),
    ("cwc", PHOSGENE),
    ("att", "I"),
    ("att", "SALW"),
]
_EDGES = [0, 0.5, 1, 1.5, 99.5, 100, 100.5, 999.5, 1000, 1000.5, 29999.5, 30000, 30000.5, 60000]
_line = st.tuples(
    st.sampled_from(_ITEMS),
    st.sampled_from([2023, 2024]),
    st.sampled_from([("FRA", "DEU"), ("DEU", "FRA"), ("FRA", "ITA"), ("ITA", "DEU")]),
    st.sampled_from(["export", "import"]),
    st.one_of(st.integers(0, 4000).map(lambda n: n / 2), st.sampled_from(_EDGES)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, max_size=25))
def test_the_engine_classifies_as_the_reference_does(raw: list[Any]) -> None:
    packs = registry()
    builder = LineBuilder()
    lines = []
    for (regime, item), year, (exporter, importer), side, amount in raw:
        if regime == "att":
            amount = float(int(amount))  # a number of items
        reporter, partner = (exporter, importer) if side == "export" else (importer, exporter)
        builder.add(
            regime=regime,
            year=year,
            reporter=reporter,
            partner=partner,
            direction=side,
            item=item,
            amount=amount,
            source=builder.source(Source(reporter, "D-1", 1)),
        )
        lines.append((regime, item, year, exporter, importer, side, Fraction(amount)))
    result = reconcile_all(builder.build(), packs)
    got = {
        (f.regime, f.year, f.exporter, f.importer, f.item): f.kind
        for f in result.findings(kinds=frozenset(KINDS))
    }
    assert got == reference(lines)


# Through the database: declarations, imported files and amendments


def submit(
    ctx: Context,
    state: str,
    regime: str,
    year: int,
    data: dict[str, Any],
    *,
    named: str | None = None,
    **header: Any,
) -> SubmissionResult:
    """``state``'s declaration, submitted by its submitter; the file may name it ``named``."""
    document: dict[str, Any] = {
        "format": "veritrail.declaration/1",
        "regime": regime,
        "type": TYPES[regime],
        "period": year,
        "state": named or state,
        **header,
    }
    if data:
        document["data"] = data
    else:
        document["nothing_to_declare"] = True
    return do_submit_declaration(
        ctx, actor=national(state), parsed=ParsedDeclaration(document, "json")
    )


def _named(rng: random.Random, alpha3: str) -> str:
    """A state as alpha-3, alpha-2 or English name, at random."""
    state = next(s for s in all_states() if s.alpha3 == alpha3)
    return rng.choice([state.alpha3, state.alpha2, state.names["en"]])


def _alpha3(name: str) -> str:
    return next(s.alpha3 for s in all_states() if name in (s.alpha3, s.alpha2, s.names["en"]))


def test_submitted_declarations_reconcile_as_planted(ctx: Context, packs: Registry) -> None:
    world = make_world(11, packs, states=14, years=(2024,), pairs=90, cwc_splits=False)
    rng = random.Random(11)
    sources: dict[Any, Source] = {}
    for regime, year, state in world.declarations():
        rows = world.rows.get((regime, year, state), [])
        # Partners named three ways: validation keeps the alpha-3 code.
        renamed = []
        for section, row in rows:
            row = dict(row)
            for key in ("partner_state", "importing_state", "exporting_state"):
                if row.get(key):
                    row[key] = _named(rng, row[key])
            renamed.append((section, row))
        data = data_of(regime, renamed) if rows else {}
        done = submit(ctx, state, regime, year, data, named=_named(rng, state))
        if rows and rng.random() < 0.4:  # amended: the reconciliation reads version 2
            data["report" if regime == "att" else "lines"] = (
                {**data["report"], "contact": "Another office"}
                if regime == "att"
                else [
                    *data["lines"],
                    {"cas": DMMP, "activity": "consumption", "quantity": "1", "unit": "kg"},
                ]
            )
            done = submit(ctx, state, regime, year, data, id=done.id)
            assert done.version == 2
        sources[(regime, year, state)] = Source(state, done.id, done.version)
    result = reconcile_transfers(ctx, actor=secretariat())
    assert_as_planted(result, world)
    check_explanations(result.findings(), world, sources, packs)
    assert {k for (_, _, k) in result.counts()} >= {
        "matched",
        "quantity_mismatch",
        "missing_import",
        "missing_export",
        "below_threshold",
    }


def csv_file(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "regime",
            "year",
            "reporting_state",
            "partner_state",
            "direction",
            "item",
            "quantity",
            "unit",
        ]
    )
    writer.writerows(rows)
    return out.getvalue().encode()


def world_as_csv(world: World, rng: random.Random) -> bytes:
    """Every transfer row of the world as a line of a file; states named three ways."""
    rows: list[list[Any]] = []
    for (regime, year, state), lines in sorted(world.rows.items()):
        for _, row in lines:
            if regime == "cwc":
                if row["activity"] not in ("export", "import"):
                    continue
                quantity, unit = Decimal(row["quantity"]), row["unit"]
                if unit == "kg" and rng.random() < 0.3:
                    quantity, unit = quantity * 1000, "g"
                item, partner, direction = row["cas"], row["partner_state"], row["activity"]
            else:
                quantity, unit = Decimal(row["items"]), "items"
                item = row["category"]
                partner = row.get("importing_state") or row["exporting_state"]
                direction = "export" if "importing_state" in row else "import"
            rows.append(
                [
                    regime,
                    year,
                    _named(rng, state),
                    _named(rng, partner),
                    direction,
                    item,
                    format(quantity.normalize(), "f"),
                    unit,
                ]
            )
    rng.shuffle(rows)
    return csv_file(rows)


def test_an_imported_file_naming_states_three_ways_reconciles_as_planted(
    ctx: Context, packs: Registry
) -> None:
    world = make_world(21, packs, states=16, years=(2023, 2024), pairs=150, splits=False)
    data = world_as_csv(world, random.Random(21))
    text = data.decode()
    # States are named three ways, each state differently in different rows.
    spellings: dict[str, set[str]] = defaultdict(set)
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        for name in row[2:4]:
            spellings[_alpha3(name)].add(name)
    assert sum(len(names) == 3 for names in spellings.values()) >= len(world.reporters) // 2
    imported = do_import_transfers(ctx, actor=OPERATOR, data=data, filename="world.csv")
    assert imported.rows == len(text.splitlines()) - 1
    result = reconcile_transfers(ctx, actor=secretariat())
    assert_as_planted(result, world)
    for f in result.findings():
        assert all(
            s.import_id == imported.id and s.row for s in (*f.export_sources, *f.import_sources)
        )
        assert f"imported file {imported.id} row" in f.explanation()
    assert run_audit(ctx).clean


def test_naming_a_state_three_ways_is_not_a_discrepancy(ctx: Context) -> None:
    rows = [
        ["cwc", 2024, "FR", "Germany", "export", DMMP, "12.5", "t"],
        ["cwc", 2024, "DEU", "France", "import", DMMP, "12500", "kg"],
        ["cwc", 2024, "France", "DE", "export", PHOSGENE, "95000000", "g"],
        ["cwc", 2024, "Germany", "FRA", "import", PHOSGENE, "95", "t"],
        ["att", 2024, "United Kingdom", "PL", "export", "IV_a", "3", "items"],
        ["att", 2024, "POL", "GB", "import", "IV_b", "3", "items"],
        ["att", 2024, "GB", "Poland", "export", "SA_3", "400", "items"],
        ["att", 2024, "PL", "GBR", "import", "LW_2", "400", "items"],
    ]
    do_import_transfers(ctx, actor=OPERATOR, data=csv_file(rows), filename="names.csv")
    result = reconcile_transfers(ctx, actor=secretariat())
    every = result.findings(kinds=frozenset(KINDS))
    assert sorted((f.exporter, f.importer, f.item, f.kind) for f in every) == [
        ("FRA", "DEU", PHOSGENE, "matched"),
        ("FRA", "DEU", DMMP, "matched"),
        ("GBR", "POL", "IV", "matched"),
        ("GBR", "POL", "SALW", "matched"),
    ]
    assert sorted(result.lines.states) == ["DEU", "FRA", "GBR", "POL"]


def _lines(ctx: Context) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(TransferLine)) or 0


def test_a_declaration_takes_precedence_over_imported_lines(ctx: Context) -> None:
    declared = submit(
        ctx,
        "FRA",
        "cwc",
        2024,
        {"lines": [cwc(DMMP, "export", "DEU", "5000"), cwc(AMITON, "export", "ITA", "700")]},
    )
    imported = do_import_transfers(
        ctx,
        actor=OPERATOR,
        data=csv_file(
            [
                # FRA's 2024 figures come from its declaration, whatever the file says.
                ["cwc", 2024, "FRA", "DEU", "export", DMMP, "9000", "kg"],
                ["cwc", 2024, "FRA", "ESP", "export", PHOSGENE, "90", "t"],
                ["cwc", 2024, "DEU", "FRA", "import", DMMP, "5", "t"],
                # FRA declared nothing for 2023: the file stands for it.
                ["cwc", 2023, "FRA", "DEU", "export", DMMP, "7000", "kg"],
            ]
        ),
        filename="customs.csv",
    )
    assert _lines(ctx) == 4
    result = reconcile_transfers(ctx, actor=secretariat())
    found = {
        (f.year, f.exporter, f.importer, f.item): f for f in result.findings(kinds=frozenset(KINDS))
    }
    assert set(found) == {
        (2024, "FRA", "DEU", DMMP),
        (2024, "FRA", "ITA", AMITON),
        (2023, "FRA", "DEU", DMMP),
    }
    matched = found[(2024, "FRA", "DEU", DMMP)]
    assert (matched.kind, matched.exported, matched.imported) == ("matched", 5000.0, 5000.0)
    assert matched.export_sources == (Source("FRA", declared.id, 1),)
    assert matched.import_sources == (Source("DEU", import_id=imported.id, row=4),)
    assert found[(2024, "FRA", "ITA", AMITON)].kind == "missing_import"
    earlier = found[(2023, "FRA", "DEU", DMMP)]
    assert (earlier.kind, earlier.exported) == ("missing_import", 7000.0)
    assert earlier.export_sources == (Source("FRA", import_id=imported.id, row=5),)
    assert "DEU submitted no report on these transfers for 2023" in earlier.explanation()


def test_a_later_import_of_a_state_and_year_replaces_the_earlier(ctx: Context) -> None:
    first = do_import_transfers(
        ctx,
        actor=OPERATOR,
        data=csv_file(
            [
                ["cwc", 2024, "FRA", "DEU", "export", DMMP, "9000", "kg"],
                ["cwc", 2024, "FRA", "ESP", "export", AMITON, "500", "kg"],
                ["cwc", 2024, "ITA", "DEU", "export", DMMP, "4", "t"],
                ["cwc", 2024, "DEU", "FRA", "import", DMMP, "9", "t"],
                ["cwc", 2024, "DEU", "ITA", "import", DMMP, "4000", "kg"],
                ["cwc", 2024, "ESP", "FRA", "import", AMITON, "500", "kg"],
            ]
        ),
        filename="first.csv",
    )
    before = reconcile_transfers(ctx, actor=secretariat(), regime="cwc", year=2024)
    assert before.findings() == []
    second = do_import_transfers(
        ctx,
        actor=OPERATOR,
        data=csv_file([["cwc", 2024, "France", "Germany", "export", DMMP, "6000", "kg"]]),
        filename="second.csv",
    )
    result = reconcile_transfers(ctx, actor=secretariat(), regime="cwc", year=2024)
    every = {(f.exporter, f.importer, f.item): f for f in result.findings(kinds=frozenset(KINDS))}
    assert {k: f.kind for k, f in every.items()} == {
        ("FRA", "DEU", DMMP): "quantity_mismatch",  # 6,000 kg now, against 9,000
        ("FRA", "ESP", AMITON): "missing_export",  # the later file has no such line
        ("ITA", "DEU", DMMP): "matched",  # ITA's lines of the first file still stand
    }
    mismatch = every[("FRA", "DEU", DMMP)]
    assert mismatch.exported == 6000.0
    assert mismatch.export_sources == (Source("FRA", import_id=second.id, row=2),)
    assert "FRA's report for 2024 has no such export" in every[("FRA", "ESP", AMITON)].explanation()
    assert every[("ITA", "DEU", DMMP)].export_sources == (Source("ITA", import_id=first.id, row=4),)
    assert _lines(ctx) == 7  # nothing is deleted: the first file's lines are kept, unread


def test_imports_whose_lines_interleave_are_each_read_whole(ctx: Context) -> None:
    """BUG (analysis/sources.py imported_lines line 98, analysis/transfers.py collect
    line 208): lines are read in id order and collect() takes a change of import id
    for a newer import. Two imports written at the same time on PostgreSQL draw their
    ids from one sequence in turns, and then only the last run of lines is kept, a
    piece of one file, instead of the whole of the latest import."""
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        for n, (import_id, at) in enumerate(
            (("t-older", now - timedelta(hours=1)), ("t-newer", now))
        ):
            sha = f"{n + 1:064x}"
            session.add(Blob(sha256=sha, size=1, media_type="text/csv"))
            session.add(
                TransferImport(
                    id=import_id,
                    sha256=sha,
                    filename=f"{import_id}.csv",
                    rows=2,
                    imported_at=at,
                    imported_by="operator",
                )
            )
        session.flush()
        interleaved = [
            ("t-older", 2, "DEU", 9000),
            ("t-newer", 2, "DEU", 6000),
            ("t-older", 3, "ESP", 500),
            ("t-newer", 3, "ITA", 700),
        ]
        for import_id, row, partner, kg in interleaved:
            session.add(
                TransferLine(
                    import_id=import_id,
                    row=row,
                    regime="cwc",
                    year=2024,
                    reporting_state="FRA",
                    partner_state=partner,
                    direction="export",
                    item=DMMP,
                    quantity=str(kg),
                    unit="kg",
                    amount=float(kg),
                )
            )
            session.flush()  # ids in this order
    result = reconcile_transfers(ctx, actor=secretariat())
    read = {(f.importer, f.exported) for f in result.findings(kinds=frozenset(KINDS))}
    assert read == {("DEU", 6000.0), ("ITA", 700.0)}  # the newer file, whole


def test_the_current_version_of_an_amended_declaration_is_read(ctx: Context) -> None:
    submit(ctx, "FRA", "cwc", 2024, {"lines": [cwc(DMMP, "export", "DEU", "5", "t")]})
    deu = submit(ctx, "DEU", "cwc", 2024, {"lines": [cwc(DMMP, "import", "FRA", "5000")]})

    def pair() -> TransferFinding:
        (found,) = reconcile_transfers(ctx, actor=secretariat()).findings(kinds=frozenset(KINDS))
        return found

    assert pair().kind == "matched"
    amended = submit(
        ctx, "DEU", "cwc", 2024, {"lines": [cwc(DMMP, "import", "FRA", "8000")]}, id=deu.id
    )
    assert amended.version == 2
    found = pair()
    assert (found.kind, found.imported) == ("quantity_mismatch", 8000.0)
    assert found.import_sources == (Source("DEU", deu.id, 2),)
    assert f"DEU: declaration {deu.id} version 2" in found.explanation()
    submit(ctx, "DEU", "cwc", 2024, {"lines": [cwc(DMMP, "import", "France", "5", "t")]}, id=deu.id)
    found = pair()
    assert (found.kind, found.import_sources) == ("matched", (Source("DEU", deu.id, 3),))


def test_a_regime_without_transfers_is_refused_by_name(ctx: Context) -> None:
    with pytest.raises(InputError) as refused:
        reconcile_transfers(ctx, actor=secretariat(), regime="bwc")
    assert "those with transfers: att, cwc" in refused.value.message
