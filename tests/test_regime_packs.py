"""The shipped regime packs load, say what the instruments say, and broken packs fail clearly."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from veritrail.errors import RegimePackError
from veritrail.regimes import DeclarationType, Registry, Text, load_registry
from veritrail.regimes.loader import PACKS_DIR

DOCS = Path(__file__).resolve().parents[1] / "docs" / "regime-packs.md"

SHIPPED = {
    "att": {"annual_report"},
    "bwc": {"cover", "form_a1", "form_a2", "form_b", "form_c", "form_e", "form_f", "form_g"},
    "cwc": {"adnd", "plant_site_s1", "plant_site_s2", "plant_site_s3", "ocpf"},
    "unscr1540": {"matrix"},
}


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load_registry()


def _all_types(reg: Registry) -> list[DeclarationType]:
    return sorted(reg.all_types(), key=lambda t: t.key)


def _cas_ok(code: str) -> bool:
    match = re.fullmatch(r"(\d{2,7})-(\d{2})-(\d)", code)
    if match is None:
        return False
    digits = (match[1] + match[2])[::-1]
    return sum(int(d) * pos for pos, d in enumerate(digits, start=1)) % 10 == int(match[3])


def _texts(dtype: DeclarationType) -> Iterator[tuple[str, Text]]:
    """Every piece of text a user meets in a declaration type, with where it is."""
    yield "title", dtype.title
    if dtype.description:
        yield "description", dtype.description
    for section in dtype.sections:
        yield f"{section.id}.title", section.title
        if section.help:
            yield f"{section.id}.help", section.help
        for spec in section.fields:
            yield f"{section.id}.{spec.id}.label", spec.label
            if spec.help:
                yield f"{section.id}.{spec.id}.help", spec.help
            for choice in spec.choices or []:
                yield f"{section.id}.{spec.id}={choice.value}", choice.label
    for index, rule in enumerate(dtype.rules):
        yield f"rules.{index}.message", rule.message


# --- the shipped packs -------------------------------------------------------------------


def test_every_shipped_pack_loads(shipped: Registry) -> None:
    assert {rid: set(pack.types) for rid, pack in shipped.packs.items()} == SHIPPED


def test_every_type_says_when_who_and_how_confidential(shipped: Registry) -> None:
    for dtype in _all_types(shipped):
        assert dtype.reference.strip(), dtype.key
        assert dtype.expected in {"every_party", "when_applicable"}, dtype.key
        assert dtype.deadline.due(2024) > date(2024, 12, 31), dtype.key
        assert dtype.classification, dtype.key


def test_every_label_is_in_english_and_chinese(shipped: Registry) -> None:
    missing = [
        f"{dtype.key}: {where} ({lang})"
        for dtype in _all_types(shipped)
        for where, text in _texts(dtype)
        for lang in ("en", "zh")
        if not (getattr(text, lang) or "").strip()
    ]
    for pack in shipped.packs.values():
        regime = pack.regime
        for where, text in (
            ("name", regime.name),
            ("short_name", regime.short_name),
            ("instrument", regime.instrument),
        ):
            missing += [
                f"{regime.id}: {where} ({lang})" for lang in ("en", "zh") if not getattr(text, lang)
            ]
        for code_list in pack.lists.values():
            missing += [
                f"{regime.id}/{code_list.id}: {e.code}"
                for e in code_list.entries
                if not (e.name.en and e.name.zh)
            ]
    assert missing == []


def test_choice_values_are_unique_within_a_field(shipped: Registry) -> None:
    for dtype in _all_types(shipped):
        for section in dtype.sections:
            for spec in section.fields:
                values = spec.choice_values()
                assert len(values) == len(set(values)), f"{dtype.key}: {section.id}.{spec.id}"


def test_every_schedule_cas_number_has_a_valid_check_digit(shipped: Registry) -> None:
    schedules = shipped.code_list("cwc", "schedules")
    assert schedules.format == "cas"
    bad = [e.code for e in schedules.entries if not _cas_ok(e.code)]
    assert bad == []


def test_check_digit_helper_rejects_a_wrong_digit() -> None:
    assert _cas_ok("7732-18-5")  # water
    assert not _cas_ok("7732-18-4")
    assert not _cas_ok("773218-5")


def test_schedule_entries_name_their_part_and_item(shipped: Registry) -> None:
    schedules = shipped.code_list("cwc", "schedules")
    parts = {"1A", "1B", "2A*", "2A", "2B", "3A", "3B"}
    for entry in schedules.entries:
        part = schedules.attribute(entry, "schedule")
        item = schedules.attribute(entry, "item")
        assert part in parts, entry.code
        assert re.fullmatch(r"[123][AB]\d{1,2}", item), entry.code
        assert item.startswith(part.rstrip("*")), entry.code
    assert {schedules.attribute(e, "schedule") for e in schedules.entries} == parts


@pytest.mark.parametrize(
    ("cas", "part", "item"),
    [
        ("107-44-8", "1A", "1A1"),  # sarin
        ("50782-69-9", "1A", "1A3"),  # VX
        ("6581-06-2", "2A*", "2A3"),  # BZ
        ("78-53-5", "2A", "2A1"),  # amiton
        ("756-79-6", "2B", "2B4"),  # DMMP
        ("993-13-5", "2B", "2B4"),  # methylphosphonic acid, a family member
        ("111-48-8", "2B", "2B13"),  # thiodiglycol
        ("75-44-5", "3A", "3A1"),  # phosgene
        ("102-71-6", "3B", "3B17"),  # triethanolamine
    ],
)
def test_well_known_chemicals_are_scheduled(
    shipped: Registry, cas: str, part: str, item: str
) -> None:
    schedules = shipped.code_list("cwc", "schedules")
    entry = next(e for e in schedules.entries if e.code == cas)
    assert schedules.attribute(entry, "schedule") == part
    assert schedules.attribute(entry, "item") == item


def test_schedule_3_lists_all_seventeen_items(shipped: Registry) -> None:
    schedules = shipped.code_list("cwc", "schedules")
    items = {schedules.attribute(e, "item") for e in schedules.entries}
    assert {f"3A{n}" for n in range(1, 5)} | {f"3B{n}" for n in range(5, 18)} <= items


def test_threshold_limits_name_real_schedule_parts(shipped: Registry) -> None:
    for dtype in _all_types(shipped):
        for rule in dtype.rules:
            if rule.kind != "threshold":
                continue
            section = dtype.section(rule.section)
            assert section is not None
            spec = section.field(rule.item)
            assert spec is not None and spec.code_list
            code_list = shipped.code_list(dtype.regime, spec.code_list)
            values = {str(code_list.attribute(e, rule.by)) for e in code_list.entries}
            assert set(rule.limits) <= values, dtype.key


def test_cwc_industry_declarations_are_protected_and_due_31_march(shipped: Registry) -> None:
    for type_id in SHIPPED["cwc"]:
        dtype = shipped.declaration_type("cwc", type_id)
        assert dtype.classification == "protected"
        assert dtype.deadline.due(2024) == date(2025, 3, 31)
        expected = "every_party" if type_id == "adnd" else "when_applicable"
        assert dtype.expected == expected


def test_bwc_confidence_building_measures_are_due_15_april(shipped: Registry) -> None:
    for dtype in shipped.regime("bwc").types.values():
        assert dtype.deadline.due(2024) == date(2025, 4, 15), dtype.id
        assert dtype.classification == "restricted"
    forms = [t for t in shipped.regime("bwc").types.values() if t.id != "cover"]
    assert all(t.nothing_to_declare for t in forms)


def test_bwc_cover_offers_every_measure(shipped: Registry) -> None:
    cover = shipped.declaration_type("bwc", "cover")
    section = cover.section("measures")
    assert section is not None
    measure = section.field("measure")
    assert measure is not None
    letters = {v.split("_")[0][0] for v in measure.choice_values()}
    assert letters == {"a", "b", "c", "e", "f", "g"}  # Form D was deleted


def test_att_report_is_due_31_may_and_allows_a_nil_report(shipped: Registry) -> None:
    report = shipped.declaration_type("att", "annual_report")
    assert report.deadline.due(2024) == date(2025, 5, 31)
    assert report.nothing_to_declare
    for section_id in ("exports", "imports"):
        section = report.section(section_id)
        assert section is not None and section.kind == "table"
        category = section.field("category")
        assert category is not None
        values = category.choice_values()
        assert {"I", "II", "III", "VI"} <= set(values)
        assert any(v.startswith("SA_") for v in values)
        assert any(v.startswith("LW_") for v in values)


def test_parties(shipped: Registry) -> None:
    cwc = shipped.regime("cwc").parties()
    bwc = shipped.regime("bwc").parties()
    un = shipped.regime("unscr1540").parties()
    assert len(un) == 193
    assert "ISR" not in cwc and "ISR" not in bwc
    assert {"PSE", "VAT"} <= set(cwc) & set(bwc)
    assert "PSE" in shipped.regime("att").parties()


def test_docs_list_every_shipped_declaration_type(shipped: Registry) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for dtype in _all_types(shipped):
        assert f"`{dtype.key}`" in text, f"docs/regime-packs.md does not list {dtype.key}"


# --- broken packs ------------------------------------------------------------------------


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    root = tmp_path / "packs"
    shutil.copytree(PACKS_DIR, root)
    return root


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _fails(root: Path) -> RegimePackError:
    with pytest.raises(RegimePackError) as info:
        load_registry(root)
    return info.value


def test_a_copy_of_the_shipped_packs_loads(packs: Path) -> None:
    assert set(load_registry(packs).packs) == set(SHIPPED)


def test_unknown_field_type(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["sections"][0]["fields"][1]["type"] = "colour"

    _edit(packs / "cwc" / "adnd.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/cwc/adnd.yaml", "field": "sections.0.fields.1.type"}
    assert "packs/cwc/adnd.yaml" in str(error)


def test_missing_label(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        del d["sections"][0]["fields"][2]["label"]

    _edit(packs / "bwc" / "form_g.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/bwc/form_g.yaml", "field": "sections.0.fields.2.label"}


def test_unknown_code_list(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["sections"][1]["fields"][0]["list"] = "precursors"

    _edit(packs / "cwc" / "plant_site_s1.yaml", change)
    error = _fails(packs)
    assert error.details == {
        "file": "packs/cwc/plant_site_s1.yaml",
        "field": "sections.1.fields.0.list",
    }
    assert "precursors" in error.message


def test_rule_naming_an_unknown_field(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["rules"][0]["quantity"] = "amount"

    _edit(packs / "cwc" / "adnd.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/cwc/adnd.yaml", "field": "rules.0"}
    assert "amount" in error.message


def test_invalid_yaml(packs: Path) -> None:
    (packs / "att" / "annual_report.yaml").write_text("id: [annual_report\n", encoding="utf-8")
    error = _fails(packs)
    assert error.details["file"] == "packs/att/annual_report.yaml"
    assert "not valid YAML" in error.message


def test_type_id_differing_from_its_file_name(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["id"] = "implementation_matrix"

    _edit(packs / "unscr1540" / "matrix.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/unscr1540/matrix.yaml", "field": "id"}


def test_deadline_on_31_april(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["deadline"] = {"month": 4, "day": 31, "year_offset": 1}

    _edit(packs / "bwc" / "form_b.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/bwc/form_b.yaml", "field": "deadline"}


@pytest.mark.parametrize("code", ["XYZ", "IL", "Israel"])
def test_unknown_state_in_parties(packs: Path, code: str) -> None:
    def change(d: dict[str, Any]) -> None:
        d["parties"]["exclude"].append(code)

    _edit(packs / "bwc" / "regime.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/bwc/regime.yaml", "field": "parties"}
    assert repr(code) in error.message


def test_code_list_with_a_repeated_code(packs: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["entries"].append(dict(d["entries"][0]))

    _edit(packs / "cwc" / "lists" / "schedules.yaml", change)
    error = _fails(packs)
    assert error.details == {"file": "packs/cwc/lists/schedules.yaml", "field": "entries"}
