"""The analysis checks on declarations built in memory, read with the real regime packs."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from veritrail.analysis.anomalies import year_over_year
from veritrail.analysis.consistency import cross_regime
from veritrail.analysis.facilities import disappearances, facility_forms
from veritrail.analysis.findings import Finding, Source
from veritrail.analysis.sources import Submitted
from veritrail.regimes.loader import Registry, registry

DMMP = "756-79-6"  # Schedule 2B
AMITON = "78-53-5"  # Schedule 2A
PHOSGENE = "75-44-5"  # Schedule 3A

_ids = count(1)


@pytest.fixture(scope="module")
def packs() -> Registry:
    return registry()


def declaration(
    regime: str,
    type_id: str,
    state: str,
    year: int,
    data: dict[str, Any],
    *,
    version: int = 1,
    nothing_to_declare: bool = False,
) -> Submitted:
    return Submitted(
        id=f"d{next(_ids)}",
        version=version,
        regime=regime,
        type=type_id,
        state=state,
        period=year,
        classification="protected",
        first_submitted_at=None,
        nothing_to_declare=nothing_to_declare,
        data=data,
    )


def line(cas: str, activity: str, quantity: str, unit: str = "kg", partner: str | None = None):
    row = {"cas": cas, "activity": activity, "quantity": quantity, "unit": unit}
    if partner:
        row["partner_state"] = partner
    return row


def adnd(state: str, year: int, *lines: dict[str, Any]) -> Submitted:
    return declaration(
        "cwc", "adnd", state, year, {"lines": list(lines)}, nothing_to_declare=not lines
    )


def production(state: str, figures: dict[int, str], cas: str = DMMP) -> list[Submitted]:
    return [adnd(state, year, line(cas, "production", q)) for year, q in figures.items()]


# Year-over-year anomalies


def test_planted_spike_is_found_with_its_figures(packs: Registry) -> None:
    declared = production(
        "FRA", {2020: "14000", 2021: "15500", 2022: "14300", 2023: "13000", 2024: "120000"}
    )
    findings = year_over_year(declared, packs)
    assert len(findings) == 1
    found = findings[0]
    assert (found.check, found.kind, found.regime, found.year) == (
        "anomaly",
        "year_over_year",
        "cwc",
        2024,
    )
    assert found.states == ("FRA",) and found.item == DMMP
    assert (
        found.title == f"FRA: production of {DMMP} in 2024 is 8.5 times the median of other years"
    )
    # Median of 13,000, 14,000, 14,300 and 15,500; deviations 150, 150, 1,150, 1,350.
    assert found.details["median"] == "14150"
    assert found.details["mad"] == "650"
    assert found.details["value"] == "120000"
    assert found.details["score"] == pytest.approx(0.6745 * (120000 - 14150) / 650, abs=0.01)
    assert found.details["key"] == "production"
    assert found.details["unit"] == "kg"
    assert found.details["years"] == [2020, 2021, 2022, 2023]
    assert "120,000 kg declared for 2024" in found.explanation
    assert "the median over 2020, 2021, 2022 and 2023 is 14,150 kg" in found.explanation
    assert "(median absolute deviation 650 kg)" in found.explanation
    assert "109.8 robust deviations above it, beyond the cut-off of 3.5" in found.explanation
    assert found.sources == (Source("FRA", declared[-1].id, 1),)


def test_a_stable_series_is_not_flagged(packs: Registry) -> None:
    declared = production(
        "FRA", {2019: "100", 2020: "104", 2021: "98", 2022: "101", 2023: "103", 2024: "99"}
    )
    assert year_over_year(declared, packs) == []


def test_fewer_years_than_the_minimum_are_not_flagged(packs: Registry) -> None:
    declared = production("FRA", {2022: "1000", 2023: "1010", 2024: "90000"})
    assert year_over_year(declared, packs) == []
    assert [f.year for f in year_over_year(declared, packs, min_years=3)] == [2024]


def test_a_drop_to_zero_is_flagged(packs: Registry) -> None:
    declared = production("DEU", {2020: "500", 2021: "520", 2022: "480", 2023: "510"})
    declared.append(adnd("DEU", 2024, line(PHOSGENE, "production", "40000")))
    findings = year_over_year(declared, packs)
    assert [(f.year, f.item) for f in findings] == [(2024, DMMP)]
    found = findings[0]
    assert found.details["value"] == "0"
    assert (
        found.title
        == f"DEU: no production of {DMMP} in 2024, against a median of 505 kg in other years"
    )
    assert "has no line for it, which counts as zero" in found.explanation
    assert "below it" in found.explanation


def test_a_nil_declaration_counts_as_zero(packs: Registry) -> None:
    declared = production("DEU", {2020: "500", 2021: "520", 2022: "480", 2023: "510"})
    declared.append(adnd("DEU", 2024))
    assert [f.year for f in year_over_year(declared, packs)] == [2024]


def test_a_year_not_submitted_is_absent_not_zero(packs: Registry) -> None:
    # Counted as zero, 2022 would stand out as a drop to nothing.
    declared = production("DEU", {2019: "100", 2020: "100", 2021: "100", 2023: "100"})
    assert year_over_year(declared, packs) == []
    # Nor does a gap make up the minimum number of years.
    declared = production("DEU", {2020: "100", 2021: "100", 2023: "1000"})
    assert year_over_year(declared, packs) == []


def test_kilograms_and_tonnes_of_the_same_mass_are_not_flagged(packs: Registry) -> None:
    declared = [
        adnd("ITA", 2020, line(DMMP, "production", "14.2", "t")),
        adnd("ITA", 2021, line(DMMP, "production", "14100")),
        adnd("ITA", 2022, line(DMMP, "production", "14.3", "t")),
        adnd("ITA", 2023, line(DMMP, "production", "14000")),
        adnd("ITA", 2024, line(DMMP, "production", "14.25", "t")),
    ]
    assert year_over_year(declared, packs) == []
    # The same figures read as kilograms throughout would stand out.
    declared[-1] = adnd("ITA", 2024, line(DMMP, "production", "14.25", "kg"))
    assert [f.year for f in year_over_year(declared, packs)] == [2024]


def test_exports_are_summed_over_partners_and_kept_apart_from_production(
    packs: Registry,
) -> None:
    declared = [
        adnd(
            "USA",
            year,
            line(DMMP, "production", "2000"),
            line(DMMP, "export", "300", partner="CAN"),
            line(DMMP, "export", "0.2", "t", partner="MEX"),
        )
        for year in (2020, 2021, 2022, 2023)
    ]
    declared.append(
        adnd(
            "USA",
            2024,
            line(DMMP, "production", "2000"),
            line(DMMP, "export", "300", partner="CAN"),
            line(DMMP, "export", "9", "t", partner="MEX"),
        )
    )
    findings = year_over_year(declared, packs)
    assert [(f.item, f.details["key"]) for f in findings] == [(DMMP, "export")]
    assert findings[0].details["value"] == "9300"
    assert findings[0].details["median"] == "500"
    production_key = Finding(
        "anomaly", "year_over_year", "cwc", 2024, ("USA",), DMMP, "", "", {"key": "production"}
    )
    assert findings[0].fingerprint != production_key.fingerprint


def test_a_flat_series_is_flagged_beyond_half_its_median(packs: Registry) -> None:
    flat = {2020: "100", 2021: "100", 2022: "100", 2023: "100"}
    assert year_over_year(production("JPN", {**flat, 2024: "140"}), packs) == []
    findings = year_over_year(production("JPN", {**flat, 2024: "200"}), packs)
    assert [f.year for f in findings] == [2024]
    assert findings[0].details["score"] is None
    assert findings[0].details["mad"] == "0"
    assert "the other years do not vary" in findings[0].explanation
    assert "by 100%, more than half of it" in findings[0].explanation


def att_report(state: str, year: int, exports: list[tuple[str, str, int]]) -> Submitted:
    rows = [
        {"category": c, "importing_state": p, "items": n, "basis": "actual"} for c, p, n in exports
    ]
    return declaration("att", "annual_report", state, year, {"exports": rows, "imports": []})


def test_arms_exports_are_followed_by_category(packs: Registry) -> None:
    declared = [
        att_report("GBR", year, [("I", "POL", n), ("I", "EST", 4), ("II", "POL", 30)])
        for year, n in ((2020, 6), (2021, 8), (2022, 7), (2023, 5))
    ]
    declared.append(att_report("GBR", 2024, [("I", "POL", 56), ("I", "EST", 4), ("II", "POL", 30)]))
    findings = year_over_year(declared, packs)
    assert [(f.regime, f.year, f.item, f.details["key"]) for f in findings] == [
        ("att", 2024, "I", "export")
    ]
    assert findings[0].details["unit"] == "items"
    assert findings[0].title.startswith("GBR: export of category I in 2024 is 5.7 times")
    assert "60 items declared for 2024" in findings[0].explanation


# Facilities


def plant_site(state: str, year: int, name: str, code: str | None = None) -> Submitted:
    site: dict[str, Any] = {"name": name, "owner": "Owner", "address": "Somewhere"}
    if code:
        site["site_code"] = code
    return declaration("cwc", "plant_site_s2", state, year, {"site": site, "plants": []})


def test_facility_forms_come_from_the_packs(packs: Registry) -> None:
    forms = facility_forms(packs)
    assert {"plant_site_s1", "plant_site_s2", "plant_site_s3", "ocpf"} <= {t for _, t in forms}
    assert ("cwc", "adnd") not in forms  # expected from every party, not per facility
    assert forms[("cwc", "plant_site_s2")].code_field == "site_code"
    assert forms[("cwc", "plant_site_s2")].name_field == "name"


def test_a_facility_that_disappears_and_reappears_is_found(packs: Registry) -> None:
    declared = [adnd("DEU", y) for y in range(2019, 2024)]
    declared += [plant_site("DEU", y, "Werk Süd", "DE-S2-002") for y in range(2019, 2024)]
    north = {y: plant_site("DEU", y, "Werk Nord", "DE-S2-001") for y in (2019, 2020, 2021, 2023)}
    declared += north.values()
    findings = disappearances(declared, packs)
    assert [(f.kind, f.year, f.item) for f in findings] == [
        ("disappeared", 2022, "Werk Nord"),
        ("reappeared", 2023, "Werk Nord"),
    ]
    gone, back = findings
    assert gone.check == "facility" and gone.states == ("DEU",)
    assert gone.details == {
        "key": "plant_site_s2:code=de-s2-001",
        "type": "plant_site_s2",
        "years": [2019, 2020, 2021, 2023],
        "site_code": "DE-S2-001",
    }
    assert gone.sources == (Source("DEU", north[2021].id, 1),)
    assert "for 2019, 2020 and 2021" in gone.explanation
    assert f"declaration {north[2021].id} version 1, for 2021" in gone.explanation
    assert "not declared for 2022" in gone.explanation
    assert back.sources == (
        Source("DEU", north[2021].id, 1),
        Source("DEU", north[2023].id, 1),
    )
    assert gone.key == back.key


def test_a_facility_declared_every_year_is_not_flagged(packs: Registry) -> None:
    # Spelling of the name varies; without a site code the name identifies the site.
    names = ["Usine de Lyon", "USINE DE LYON", "Usine  de Lyon ", "usine de lyon"]
    declared = [plant_site("FRA", 2020 + i, name) for i, name in enumerate(names)]
    assert disappearances(declared, packs) == []


def test_a_name_declared_with_a_code_stands_for_that_code(packs: Registry) -> None:
    declared = [
        plant_site("FRA", 2020, "Usine de Lyon"),
        plant_site("FRA", 2021, "Usine de Lyon", "FR-S2-7"),
        plant_site("FRA", 2022, "Site de Lyon", "FR-S2-7"),
    ]
    assert disappearances(declared, packs) == []


def test_a_year_nobody_declared_the_type_is_not_counted(packs: Registry) -> None:
    declared = [plant_site("DEU", y, "Werk Nord", "DE-S2-001") for y in (2021, 2022, 2023)]
    declared += [adnd("DEU", y) for y in (2021, 2022, 2023, 2024)]
    # 2024 is still being declared: no state has submitted a plant site for it.
    assert disappearances(declared, packs) == []
    declared.append(plant_site("FRA", 2024, "Usine de Lyon"))
    assert [(f.kind, f.year) for f in disappearances(declared, packs)] == [("disappeared", 2024)]


def test_a_year_the_state_did_not_report_on_is_no_gap(packs: Registry) -> None:
    declared = [plant_site("DEU", y, "Werk Nord", "DE-S2-001") for y in (2021, 2023)]
    declared.append(plant_site("FRA", 2022, "Usine de Lyon"))
    assert disappearances(declared, packs) == []
    # Once DEU reported on the regime for 2022, the site's absence counts.
    declared.append(adnd("DEU", 2022))
    assert [(f.kind, f.year) for f in disappearances(declared, packs)] == [
        ("disappeared", 2022),
        ("reappeared", 2023),
    ]


# Cross-regime consistency


def matrix(state: str, year: int, *, in_place: bool | None) -> Submitted:
    rows: list[dict[str, Any]] = [
        {
            "obligation": "op3c",
            "weapon": "chemical",
            "measure": "border_controls",
            "aspect": "legal_framework",
            "in_place": True,
        },
        {
            "obligation": "op3d",
            "weapon": "nuclear",
            "measure": "export_controls",
            "aspect": "legal_framework",
            "in_place": True,
        },
    ]
    if in_place is not None:
        rows.append(
            {
                "obligation": "op3d",
                "weapon": "chemical",
                "measure": "export_controls",
                "aspect": "legal_framework",
                "in_place": in_place,
            }
        )
    return declaration(
        "unscr1540", "matrix", state, year, {"report": {"as_of": f"{year}-12-31"}, "measures": rows}
    )


def test_schedule2_production_without_export_controls_is_found(packs: Registry) -> None:
    declared = adnd("BRA", 2024, line(DMMP, "production", "500"), line(AMITON, "production", "1"))
    report = matrix("BRA", 2023, in_place=None)
    findings = cross_regime([declared, report], packs)
    assert len(findings) == 1
    found = findings[0]
    assert (found.check, found.kind, found.regime, found.year, found.states, found.item) == (
        "consistency",
        "schedule2_without_export_controls",
        "cwc",
        2024,
        ("BRA",),
        None,
    )
    assert found.details == {
        "key": "schedule2_without_export_controls",
        "matrix_year": 2023,
        "chemicals": [DMMP, AMITON],  # as strings sort
    }
    assert found.sources == (Source("BRA", declared.id, 1), Source("BRA", report.id, 1))
    assert (
        "Chemical Weapons Convention 'Aggregate national data on Schedule 2 and 3 chemicals' "
        f"for 2024 (declaration {declared.id} version 1)"
    ) in found.explanation
    assert (
        "'National implementation matrix of resolution 1540 (2004)' "
        f"for 2023 (declaration {report.id} version 1)"
    ) in found.explanation
    assert found.title.startswith("BRA: production of Schedule 2 chemicals declared for 2024")


def test_a_control_not_in_place_counts_as_missing(packs: Registry) -> None:
    declared = adnd("BRA", 2024, line(DMMP, "production", "500"))
    findings = cross_regime([declared, matrix("BRA", 2024, in_place=False)], packs)
    assert [f.kind for f in findings] == ["schedule2_without_export_controls"]


def test_export_controls_in_place_satisfy_the_check(packs: Registry) -> None:
    declared = adnd(
        "BRA", 2024, line(DMMP, "production", "500"), line(PHOSGENE, "export", "9", partner="ARG")
    )
    assert cross_regime([declared, matrix("BRA", 2022, in_place=True)], packs) == []


def test_no_matrix_no_finding(packs: Registry) -> None:
    declared = adnd("BRA", 2024, line(DMMP, "production", "500"))
    assert cross_regime([declared], packs) == []
    # A matrix for a later year says nothing about 2024.
    assert cross_regime([declared, matrix("BRA", 2025, in_place=None)], packs) == []
    # Another state's matrix is not this state's.
    assert cross_regime([declared, matrix("ARG", 2024, in_place=None)], packs) == []


def test_the_latest_matrix_up_to_the_year_is_read(packs: Registry) -> None:
    declared = adnd("BRA", 2024, line(DMMP, "production", "500"))
    old, new = matrix("BRA", 2021, in_place=True), matrix("BRA", 2023, in_place=None)
    findings = cross_regime([declared, old, new], packs)
    assert [f.details["matrix_year"] for f in findings] == [2023]
    old, new = matrix("BRA", 2021, in_place=None), matrix("BRA", 2023, in_place=True)
    assert cross_regime([declared, old, new], packs) == []


def test_schedule3_exports_need_controls_but_schedule3_production_does_not(
    packs: Registry,
) -> None:
    report = matrix("IND", 2024, in_place=None)
    made = adnd("IND", 2024, line(PHOSGENE, "production", "90000"))
    assert cross_regime([made, report], packs) == []
    sold = adnd("IND", 2024, line(PHOSGENE, "export", "80", "t", partner="BGD"))
    findings = cross_regime([sold, report], packs)
    assert [(f.kind, f.details["chemicals"]) for f in findings] == [
        ("schedule_exports_without_export_controls", [PHOSGENE])
    ]


def test_a_zero_line_triggers_nothing(packs: Registry) -> None:
    declared = adnd(
        "BRA", 2024, line(DMMP, "production", "0"), line(DMMP, "export", "0", partner="ARG")
    )
    assert cross_regime([declared, matrix("BRA", 2024, in_place=None)], packs) == []
