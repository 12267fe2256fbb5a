"""Reading declarations from XLSX, CSV and JSON into the canonical document."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fixtures.make_fixtures import fill_csv, fill_xlsx, sample_document
from veritrail.declarations.intake import Limits, parse_upload, sniff
from veritrail.declarations.templates import csv_template, json_template, xlsx_template
from veritrail.declarations.validate import validate
from veritrail.errors import UnsupportedFormat, ValidationFailed
from veritrail.regimes import registry
from veritrail.regimes.model import DeclarationType

FIXTURES = Path(__file__).parent / "fixtures" / "declarations"
LIMITS = Limits()
REG = registry()
TYPES = sorted(REG.all_types(), key=lambda t: t.key)
ADND = REG.declaration_type("cwc", "adnd")


def parse(data: bytes, name: str | None = None) -> Any:
    return parse_upload(data, name, registry=REG, limits=LIMITS)


def normalised(data: bytes, name: str | None = None) -> dict[str, Any]:
    result = validate(parse(data, name).document, REG)
    assert result.errors == [], result.errors
    return result.document


def adnd_csv(lines: str, header: str = "cas,activity,partner_state,quantity,unit,remarks") -> bytes:
    return (
        "[declaration]\nregime,cwc\ntype,adnd\nperiod,2024\nstate,FRA\n\n"
        f"[lines]\n{header}\n{lines}"
    ).encode()


# --- the sample files ----------------------------------------------------------


def test_sample_files_read_the_same_in_every_format() -> None:
    docs = {
        n: normalised((FIXTURES / n).read_bytes(), n)
        for n in ("adnd.json", "adnd.csv", "adnd.xlsx")
    }
    assert docs["adnd.json"] == docs["adnd.csv"] == docs["adnd.xlsx"]
    lines = docs["adnd.xlsx"]["data"]["lines"]
    assert [line["quantity"] for line in lines] == ["45000", "31.5", "2.125"]
    assert lines[1]["remarks"] == "Exported through Antwerp"


def test_format_is_recognised_from_content_before_name() -> None:
    assert sniff((FIXTURES / "adnd.xlsx").read_bytes(), "declaration.bin") == "xlsx"
    assert sniff(b'{"regime": "cwc"}', "declaration.csv") == "json"
    assert sniff(b"\xef\xbb\xbf# note\n[declaration]\nregime,cwc\n", "x.json") == "csv"
    assert sniff(b"regime;cwc", None) == "csv"
    assert sniff(b'["not", "an", "object"]', None) == "json"


# --- round trip for every declaration type of every pack ------------------------


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_xlsx_template_filled_in_reads_back_valid(dtype: DeclarationType) -> None:
    doc = sample_document(dtype, REG)
    expected = validate(doc, REG)
    assert expected.errors == []
    filled = fill_xlsx(xlsx_template(dtype, REG, period=2024, state="FRA"), dtype, doc)
    assert normalised(filled, "form.xlsx") == expected.document


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_csv_template_filled_in_reads_back_valid(dtype: DeclarationType) -> None:
    doc = sample_document(dtype, REG)
    expected = validate(doc, REG).document
    filled = fill_csv(csv_template(dtype, REG, period=2024, state="FRA"), dtype, doc)
    assert normalised(filled, "form.csv") == expected
    prefilled = csv_template(dtype, REG, period=2024, state="FRA", prefill=expected)
    assert normalised(prefilled, "form.csv") == expected


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_json_template_filled_in_reads_back_valid(dtype: DeclarationType) -> None:
    doc = sample_document(dtype, REG)
    template = json_template(dtype, REG, period=2024, state="FRA")
    template["data"] = doc["data"]
    data = json.dumps(template).encode()
    assert normalised(data, "form.json") == validate(doc, REG).document


@pytest.mark.parametrize("dtype", TYPES, ids=lambda t: t.key)
def test_every_value_is_located_in_the_sheet(dtype: DeclarationType) -> None:
    doc = sample_document(dtype, REG)
    parsed = parse(fill_xlsx(xlsx_template(dtype, REG), dtype, doc), "form.xlsx")
    for section in dtype.sections:
        sheet = section.id[:31]
        assert parsed.locate(f"/data/{section.id}").startswith(f"{sheet}!")
        first = section.fields[0].id
        where = parsed.locate(
            f"/data/{section.id}/0/{first}"
            if section.kind == "table"
            else f"/data/{section.id}/{first}"
        )
        assert where == (f"{sheet}!A2" if section.kind == "table" else f"{sheet}!B2")


# --- problems located back to where the user typed them ---------------------------


def test_xlsx_validation_errors_point_at_cells() -> None:
    doc = sample_document(ADND, REG)
    doc["data"]["lines"] = [
        {"cas": "75-44-5", "activity": "production", "quantity": "5", "unit": "t"},
        {"cas": "75-44-5", "activity": "export", "quantity": "lots", "unit": "t"},
    ]
    parsed = parse(fill_xlsx(xlsx_template(ADND, REG, period=2024, state="FRA"), ADND, doc))
    problems = {p.path: p for p in validate(parsed.document, REG).errors}
    assert parsed.locate("/data/lines/1/quantity") == "lines!D3"
    assert "/data/lines/1/quantity" in problems
    # partner_state is required for an export; its cell is empty but still located.
    assert parsed.locate("/data/lines/1/partner_state") == "lines!C3"
    assert problems["/data/lines/1/partner_state"].code == "required"
    assert parsed.locate("/state") == "declaration!B5"


def test_csv_validation_errors_point_at_rows_and_columns() -> None:
    data = adnd_csv("75-44-5,production,,5,t,\n\n# a comment\n75-44-5,export,,-3,t,\n")
    parsed = parse(data, "adnd.csv")
    problems = {p.path for p in validate(parsed.document, REG).errors}
    assert {"/data/lines/1/quantity", "/data/lines/1/partner_state"} <= problems
    assert parsed.locate("/data/lines/1/quantity") == 'row 12, column "quantity"'
    assert parsed.locate("/data/lines/1") == "row 12"
    assert parsed.locate("/period") == "row 4, column 2"


def test_xlsx_with_blank_rows_keeps_sheet_row_numbers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(ADND, REG, period=2024, state="FRA")))
    book["lines"].append(["75-44-5", "production", None, 5, "t"])
    book["lines"].append([])
    book["lines"].append([None])
    book["lines"].append(["75-44-5", "consumption", None, "x", "t"])
    out = io.BytesIO()
    book.save(out)
    parsed = parse(out.getvalue())
    assert len(parsed.document["data"]["lines"]) == 2
    assert parsed.locate("/data/lines/1/quantity") == "lines!D5"


# --- headers, separators and values ------------------------------------------------


def test_headers_may_be_english_labels_in_any_case() -> None:
    data = adnd_csv(
        "75-44-5,Production,,5,T,",
        header="CAS registry number,ACTIVITY,"
        "partner state (import and export),quantity,Unit,Remarks",
    )
    doc = normalised(data)
    assert doc["data"]["lines"] == [
        {"cas": "75-44-5", "activity": "production", "quantity": "5", "unit": "t"}
    ]


def test_headers_may_be_chinese_labels() -> None:
    header = "化学文摘社登记号,活动,伙伴国（进口和出口）,数量,单位,备注"
    data = adnd_csv("75-44-5,production,,5,t,", header=header)
    assert normalised(data)["data"]["lines"][0]["quantity"] == "5"


def test_semicolon_csv_from_a_european_excel() -> None:
    data = (
        "\ufeff[declaration];;;\r\nregime;cwc;;\r\ntype;adnd;;\r\nperiod;2024;;\r\n"
        "state;FRA;;\r\n;;;\r\n[lines];;;\r\ncas;activity;quantity;unit\r\n"
        '75-44-5;production;"1200";kg\r\n'
    ).encode()
    assert normalised(data)["data"]["lines"][0]["quantity"] == "1200"


def test_json_decimals_keep_every_digit() -> None:
    doc = sample_document(ADND, REG)
    text = json.dumps(doc).replace('"12.5"', "1234567.100000000000000055")
    parsed = parse(text.encode(), "d.json")
    value = parsed.document["data"]["lines"][0]["quantity"]
    assert value == Decimal("1234567.100000000000000055")
    assert validate(parsed.document, REG).document["data"]["lines"][0]["quantity"] == (
        "1234567.100000000000000055"
    )


def test_nothing_to_declare_from_csv() -> None:
    data = b"[declaration]\nregime,cwc\ntype,adnd\nperiod,2024\nstate,FRA\nnothing_to_declare,yes\n"
    doc = normalised(data)
    assert doc["nothing_to_declare"] is True
    assert doc["data"] == {}


def test_csv_takes_off_the_apostrophe_of_a_safe_export() -> None:
    doc = sample_document(ADND, REG)
    doc["data"]["lines"][0]["remarks"] = '=HYPERLINK("http://example.invalid")'
    data = csv_template(ADND, REG, period=2024, state="FRA", prefill=doc)
    assert b"'=HYPERLINK" in data
    assert normalised(data)["data"]["lines"][0]["remarks"] == doc["data"]["lines"][0]["remarks"]


def _raw_xlsx(
    sheets: dict[str, str], *, shared: list[str] | None = None, styles: str | None = None
) -> bytes:
    """A workbook written by hand, as Excel writes it (shared strings, styles)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "_rels/.rels",
            f'<Relationships><Relationship Id="r1" Type="{rel_ns}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{n}" sheetId="{i}" r:id="s{i}"/>' for i, n in enumerate(sheets, 1)
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} xmlns:r="{rel_ns}"><sheets>{entries}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="s{i}" Type="{rel_ns}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        rels += f'<Relationship Id="ss" Type="{rel_ns}/sharedStrings" Target="sharedStrings.xml"/>'
        rels += f'<Relationship Id="st" Type="{rel_ns}/styles" Target="/xl/styles.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", f"<Relationships>{rels}</Relationships>")
        for i, body in enumerate(sheets.values(), 1):
            z.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f"<worksheet {ns}><sheetData>{body}</sheetData></worksheet>",
            )
        items = "".join(f"<si><t>{s}</t></si>" for s in shared or [])
        z.writestr("xl/sharedStrings.xml", f"<sst {ns}>{items}</sst>")
        z.writestr("xl/styles.xml", styles or f"<styleSheet {ns}/>")
    return out.getvalue()


def test_xlsx_as_excel_writes_it_shared_strings_rich_text_and_dates() -> None:
    dtype = REG.declaration_type("bwc", "form_b")
    doc = sample_document(dtype, REG)
    row = doc["data"]["outbreaks"][0]
    fields = [f.id for f in dtype.section("outbreaks").fields]  # type: ignore[union-attr]
    shared = ["regime", "bwc", "type", "form_b", "period", "state", "FRA", *fields]
    cells = []
    for col, field_id in enumerate(fields):
        letter = chr(65 + col)
        value = row[field_id]
        if field_id == "cognizance":
            cells.append(f'<c r="{letter}2" s="1"><v>45413</v></c>')  # 2024-05-01
        elif isinstance(value, int):
            cells.append(f'<c r="{letter}2"><v>{value}</v></c>')
        else:
            cells.append(
                f'<c r="{letter}2" t="inlineStr"><is><r><t>{value}</t></r>'
                "<rPh><t>phonetic</t></rPh></is></c>"
            )
    head = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{7 + i}</v></c>' for i in range(len(fields)))
    styles = (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    declaration = (
        "".join(
            f'<row r="{r}"><c r="A{r}" t="s"><v>{k}</v></c><c r="B{r}" t="s"><v>{v}</v></c></row>'
            for r, (k, v) in enumerate([(0, 1), (2, 3), (5, 6)], start=1)
        )
        + '<row r="4"><c r="A4" t="s"><v>4</v></c><c r="B4"><v>2024</v></c></row>'
    )
    data = _raw_xlsx(
        {
            "declaration": declaration,
            "outbreaks": f'<row r="1">{head}</row><row r="2">{"".join(cells)}</row>',
        },
        shared=shared,
        styles=styles,
    )
    parsed = parse(data)
    assert "cognizance" in fields
    assert parsed.document["data"]["outbreaks"][0]["cognizance"] == "2024-05-01"
    assert validate(parsed.document, REG).errors == []


# --- structural problems are reported all at once, in place -------------------------------


def test_unknown_column_section_and_stray_value_reported_together() -> None:
    data = (
        adnd_csv(
            "75-44-5,production,,5,t,,surplus\n",
            header="cas,activity,partner,quantity,unit,remarks",
        )
        + b"\n[plants]\nname\nx\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        parse(data)
    found = {(p.path, p.code) for p in caught.value.problems}
    assert ("row 8, column 3", "unknown_column") in found
    assert ("row 9, column 7", "no_header") in found
    assert ("row 11", "unknown_section") in found
    message = next(p.message for p in caught.value.problems if p.code == "unknown_column")
    assert "partner_state (Partner state (import and export))" in message


def test_unknown_declaration_type_is_located() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(b"[declaration]\nregime,cwc\ntype,adnx\nperiod,2024\n")
    problem = caught.value.problems[0]
    assert problem.path == "row 3, column 2"
    assert "adnd" in problem.message


def test_csv_without_declaration_block() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(b"cas,activity\n75-44-5,production\n", "lines.csv")
    assert caught.value.problems[0].code == "outside_block"
    assert "[declaration]" in caught.value.problems[0].message


def test_xlsx_unknown_sheet_and_missing_declaration_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(ADND, REG, period=2024, state="FRA")))
    book.create_sheet("notes")
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationFailed) as caught:
        parse(out.getvalue())
    assert [(p.path, p.code) for p in caught.value.problems] == [("notes!A1", "unknown_section")]
    del book["declaration"]
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationFailed, match="1 error") as caught:
        parse(out.getvalue())
    assert "no sheet named 'declaration'" in caught.value.problems[0].message


def test_empty_file() -> None:
    with pytest.raises(UnsupportedFormat, match="empty"):
        parse(b"  \n", "x.csv")


def test_value_without_key_in_declaration_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(ADND, REG, period=2024, state="FRA")))
    book["declaration"]["B12"] = "stray"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationFailed) as caught:
        parse(out.getvalue())
    assert [(p.path, p.code) for p in caught.value.problems] == [("declaration!A12", "missing_key")]
