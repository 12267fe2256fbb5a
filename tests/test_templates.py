"""Templates and JSON Schemas generated from the regime packs."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import jsonschema
import openpyxl
import pytest

from fixtures.make_fixtures import sample_document
from veritrail.declarations.intake import Limits, parse_upload
from veritrail.declarations.templates import (
    csv_template,
    json_schema,
    json_template,
    xlsx_template,
)
from veritrail.declarations.validate import validate
from veritrail.regimes import registry
from veritrail.regimes.model import DeclarationType, FieldType, SectionKind

REG = registry()
TYPES = sorted(REG.all_types(), key=lambda t: t.key)
ADND = REG.declaration_type("cwc", "adnd")


def parse(data: bytes, name: str) -> Any:
    return parse_upload(data, name, registry=REG, limits=Limits())


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_json_schema_accepts_what_the_validator_accepts(dtype: DeclarationType) -> None:
    schema = json_schema(dtype, REG)
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema)
    document = validate(sample_document(dtype, REG), REG).document
    assert list(checker.iter_errors(document)) == []
    # Numbers may also come as JSON numbers, before the validator turns them into text.
    raw = sample_document(dtype, REG)
    assert list(checker.iter_errors(raw)) == []


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_json_schema_refuses_what_the_validator_refuses(dtype: DeclarationType) -> None:
    checker = jsonschema.Draft202012Validator(json_schema(dtype, REG))
    document = validate(sample_document(dtype, REG), REG).document
    section = dtype.sections[0]
    broken = copy.deepcopy(document)
    target = broken["data"][section.id]
    entry = target if section.kind is SectionKind.FORM else target[0]
    entry["no_such_field"] = "x"
    assert not checker.is_valid(broken)
    assert not checker.is_valid({**document, "state": "Atlantis"})
    assert not validate({**document, "state": "Atlantis"}, REG).valid
    required = next((f for s in dtype.sections for f in s.fields if f.required), None)
    if required is not None:
        broken = copy.deepcopy(document)
        owner = next(s for s in dtype.sections if required in s.fields)
        target = broken["data"][owner.id]
        (target if owner.kind is SectionKind.FORM else target[0]).pop(required.id)
        assert not checker.is_valid(broken)
        assert not validate(broken, REG).valid


def test_json_schema_of_adnd() -> None:
    schema = json_schema(ADND, REG)
    line = schema["properties"]["data"]["properties"]["lines"]["items"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert line["properties"]["unit"]["enum"] == ["kg", "t"]
    assert line["properties"]["cas"]["title"] == "CAS registry number"
    assert "107-44-8" not in line["properties"]["cas"]["enum"]  # Schedule 1: not in ADND
    assert "75-44-5" in line["properties"]["cas"]["enum"]
    assert line["allOf"][0]["then"] == {"required": ["partner_state"]}
    quantity = line["properties"]["quantity"]["anyOf"]
    assert quantity[0] == {"type": "number", "minimum": 0}
    checker = jsonschema.Draft202012Validator(schema)
    base = {"regime": "cwc", "type": "adnd", "period": 2024, "state": "FRA"}
    assert checker.is_valid({**base, "nothing_to_declare": True})
    assert not checker.is_valid({**base, "nothing_to_declare": False})


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_empty_templates_read_back(dtype: DeclarationType) -> None:
    """An untouched template parses; the validator then asks for the missing data."""
    expected = json_template(dtype, REG, period=2024, state="FRA")
    for data, name in (
        (csv_template(dtype, REG, period=2024, state="FRA"), "t.csv"),
        (xlsx_template(dtype, REG, period=2024, state="FRA"), "t.xlsx"),
        (json.dumps(expected).encode(), "t.json"),
    ):
        parsed = parse(data, name)
        assert {k: parsed.document[k] for k in ("regime", "type", "period", "state")} == {
            "regime": dtype.regime,
            "type": dtype.id,
            "period": 2024,
            "state": "FRA",
        }
        header_problems = [
            p for p in validate(parsed.document, REG).errors if not p.path.startswith("/data")
        ]
        assert header_problems == []


def test_json_template_prefill_copies_data_not_identity() -> None:
    last = validate(sample_document(ADND, REG, period=2023), REG).document
    last["id"] = "d-2023"
    last["data"]["lines"][0]["obsolete_field"] = "x"
    template = json_template(ADND, REG, period=2024, prefill=last)
    assert template["period"] == 2024
    assert template["state"] == "FRA"
    assert "id" not in template
    assert "obsolete_field" not in template["data"]["lines"][0]
    assert template["data"]["lines"][0]["cas"] == last["data"]["lines"][0]["cas"]


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_xlsx_prefilled_from_last_period_reads_back(dtype: DeclarationType) -> None:
    last = validate(sample_document(dtype, REG, period=2023), REG).document
    parsed = parse(xlsx_template(dtype, REG, period=2024, prefill=last), "t.xlsx")
    result = validate(parsed.document, REG)
    assert result.errors == []
    assert result.document == {**last, "period": 2024}


def test_xlsx_template_layout() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(ADND, REG, period=2024)))
    assert book.sheetnames == ["declaration", "lines", "codes"]
    declaration = book["declaration"]
    assert [[c.value for c in row] for row in declaration.iter_rows(max_col=2)][:5] == [
        ["key", "value"],
        ["regime", "cwc"],
        ["type", "adnd"],
        ["period", 2024],
        ["state", None],
    ]
    lines = book["lines"]
    assert [c.value for c in lines[1]] == [f.id for f in ADND.section("lines").fields]  # type: ignore[union-attr]
    assert lines.freeze_panes == "A2"
    comment = lines["A1"].comment
    assert comment is not None
    assert "CAS registry number" in comment.text and "化学文摘社登记号" in comment.text
    formulas = {str(dv.sqref): dv.formula1 for dv in lines.data_validations.dataValidation}
    assert formulas["B2:B100001"] == '"production,processing,consumption,import,export"'
    assert formulas["E2:E100001"] == '"kg,t"'
    assert formulas["A2:A100001"].startswith("=codes!$")
    codes = book["codes"]
    columns = {col[0]: [v for v in col[1:] if v] for col in codes.iter_cols(values_only=True)}
    assert "75-44-5" in columns["schedules"] and "107-44-8" not in columns["schedules"]
    assert "FRA" in columns["state"]


def test_xlsx_form_sheet_layout() -> None:
    dtype = REG.declaration_type("cwc", "ocpf")
    site = dtype.section("site")
    assert site is not None and site.kind is SectionKind.FORM
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(dtype, REG)))
    sheet = book["site"]
    assert [sheet.cell(r, 1).value for r in range(2, len(site.fields) + 2)] == [
        f.id for f in site.fields
    ]
    choice = next(f for f in site.fields if f.type is FieldType.CHOICE)
    row = 2 + site.fields.index(choice)
    refs = {str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    assert f"B{row}" in refs


def test_csv_template_is_safe_and_documented() -> None:
    data = csv_template(ADND, REG, period=2024, state="FRA")
    text = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "[declaration]\r\nkey,value\r\nregime,cwc\r\n" in text
    assert "# quantity: Quantity. Required." in text
    assert "\r\n[lines]\r\ncas,activity,partner_state,quantity,unit,remarks\r\n" in text
