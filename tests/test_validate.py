"""The regime validator: every problem at once, located, coded, and a stable result."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import adnd
from veritrail.declarations import validate as validate_module
from veritrail.declarations.document import canonical_bytes
from veritrail.declarations.validate import validate
from veritrail.demo import fake_document
from veritrail.regimes import registry
from veritrail.regimes.model import SectionKind

REGISTRY = registry()
ALL_TYPES = sorted(REGISTRY.all_types(), key=lambda t: t.key)


def _codes(doc: Any) -> dict[str, str]:
    return {p.path: p.code for p in validate(doc, REGISTRY).errors}


def test_a_valid_declaration_is_normalised() -> None:
    doc = adnd(
        state="fr",
        lines=[
            {
                "cas": " 75-44-5 ",
                "activity": "Export",
                "partner_state": "Germany",
                "quantity": 40.50,
                "unit": "T",
            }
        ],
    )
    result = validate(doc, REGISTRY)
    assert result.valid, result.problems
    assert result.document["state"] == "FRA"
    assert result.document["data"]["lines"] == [
        {
            "cas": "75-44-5",
            "activity": "export",
            "partner_state": "DEU",
            "quantity": "40.5",
            "unit": "t",
        }
    ]


def test_every_problem_is_reported_at_once_with_its_pointer() -> None:
    doc = adnd(
        state="Atlantis",
        lines=[
            {"cas": "75-44-6", "activity": "export", "quantity": "-1", "unit": "lb", "x": 1},
            {
                "cas": "107-44-8",
                "activity": "sale",
                "partner_state": "DEU",
                "quantity": "1e999",
                "unit": "t",
            },
            {"cas": "64-17-5", "activity": "production", "quantity": "12,5", "unit": "t"},
        ],
    )
    assert _codes(doc) == {"/state": "unknown_state"}  # no state: the data cannot be checked
    doc["state"] = "FRA"
    assert _codes(doc) == {
        "/data/lines/0/x": "unknown_field",
        "/data/lines/0/cas": "invalid_cas",
        "/data/lines/0/quantity": "negative",
        "/data/lines/0/unit": "not_a_choice",
        "/data/lines/0/partner_state": "required",
        "/data/lines/1/cas": "code_not_allowed",  # Sarin is Schedule 1, not in this declaration
        "/data/lines/1/activity": "not_a_choice",
        "/data/lines/1/quantity": "out_of_range",
        "/data/lines/2/cas": "unknown_code",
        "/data/lines/2/quantity": "decimal_comma",
    }


def test_duplicate_lines_and_header_errors() -> None:
    line = {"cas": "75-44-5", "activity": "production", "quantity": "5", "unit": "t"}
    assert _codes(adnd(lines=[line, dict(line, quantity="6")])) == {
        "/data/lines/1": "duplicate_line"
    }
    assert _codes({"regime": "cwc", "type": "nope", "period": 2024, "state": "FRA"}) == {
        "/type": "unknown_declaration_type"
    }
    assert _codes(adnd(period=1800))["/period"] == "out_of_range"
    assert _codes(adnd(extra=True))["/extra"] == "unknown_key"
    assert _codes(adnd(data={"lines": [], "other": {}}))["/data/other"] == "unknown_section"
    assert _codes(adnd(data={"lines": {"a": 1}}))["/data/lines"] == "not_a_list"
    assert _codes([1, 2]) == {"": "not_an_object"}


def test_nothing_to_declare() -> None:
    assert validate(adnd(nothing_to_declare=True, data={}), REGISTRY).valid
    assert _codes(adnd(nothing_to_declare=True)) == {"/data": "data_with_nothing_to_declare"}


def test_threshold_warns_without_refusing() -> None:
    small = adnd(lines=[{"cas": "75-44-5", "activity": "production", "quantity": "2", "unit": "t"}])
    result = validate(small, REGISTRY)
    assert result.valid
    assert [(w.path, w.code) for w in result.warnings] == [
        ("/data/lines/0/quantity", "below_threshold")
    ]
    large = adnd(
        lines=[{"cas": "75-44-5", "activity": "production", "quantity": "31", "unit": "t"}]
    )
    assert validate(large, REGISTRY).warnings == []


def test_messages_follow_the_language() -> None:
    doc = adnd(lines=[{"cas": "75-44-5", "activity": "production", "unit": "t"}])
    english = validate(doc, REGISTRY, language="en").errors[0].message
    chinese = validate(doc, REGISTRY, language="zh").errors[0].message
    assert english != chinese and "数量" in chinese


def _row_by_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The data as the per-row checker alone normalises it (no column fast path)."""
    dtype = REGISTRY.declaration_type(doc["regime"], doc["type"])
    compiled = validate_module._compile(REGISTRY, dtype)
    report = validate_module._Reporter("en")
    out: dict[str, Any] = {}
    for section in dtype.sections:
        value = doc["data"].get(section.id)
        if section.kind is SectionKind.TABLE:
            out[section.id] = [
                validate_module._check_fields(compiled[section.id], row, ("data",), report)
                for row in value or []
            ]
        else:
            out[section.id] = validate_module._check_fields(
                compiled[section.id], value or {}, ("data",), report
            )
    return out


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=lambda t: t.key)
def test_fast_path_and_row_by_row_agree(dtype: Any) -> None:
    rng = random.Random(dtype.key)
    for _ in range(10):
        doc = fake_document(dtype, registry=REGISTRY, state="KEN", period=2024, rng=rng)
        result = validate(doc, REGISTRY)
        assert result.valid, result.errors
        assert result.document["data"] == _row_by_row(doc)
        again = validate(result.document, REGISTRY)
        assert canonical_bytes(again.document) == canonical_bytes(result.document)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["cas", "activity", "partner_state", "quantity", "unit", "remarks", "zz"]
            ),
            values,
            max_size=7,
        ),
        max_size=6,
    )
)
def test_arbitrary_rows_never_crash_the_validator(rows: list[dict[str, Any]]) -> None:
    result = validate(adnd(lines=rows), REGISTRY)
    if result.valid:
        assert validate(result.document, REGISTRY).valid


def test_canonical_bytes_are_the_standard_sorted_compact_json() -> None:
    import json

    doc = validate(
        adnd(
            lines=[
                {
                    "cas": "75-44-5",
                    "activity": "production",
                    "quantity": "31",
                    "unit": "t",
                    "remarks": '中文 \\n "q" / é\u2028\t',
                }
            ]
        ),
        REGISTRY,
    ).document
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(doc) == expected.encode("utf-8")
