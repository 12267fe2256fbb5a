"""Hostile and broken uploads: every one ends in an InputError a user can act on."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import UN_ZH
from fixtures.make_fixtures import sample_document
from veritrail.declarations.csvsafe import neutralise, write_csv
from veritrail.declarations.intake import Limits, parse_upload
from veritrail.declarations.intake.json_ import max_depth
from veritrail.declarations.templates import xlsx_template
from veritrail.errors import InputError, TooLarge, UnsupportedFormat, ValidationFailed
from veritrail.regimes import registry

REG = registry()
ADND = REG.declaration_type("cwc", "adnd")
LIMITS = Limits()
CORPUS = UN_ZH
VALID_JSON = json.dumps(sample_document(ADND, REG)).encode()
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def parse(data: bytes, name: str | None = None, limits: Limits = LIMITS) -> Any:
    return parse_upload(data, name, registry=REG, limits=limits)


def only_problem(exc: ValidationFailed) -> Any:
    assert len(exc.problems) == 1, exc.problems
    return exc.problems[0]


# --- JSON ---------------------------------------------------------------------------


def test_truncated_json_is_reported_with_line_and_column() -> None:
    text = json.dumps(sample_document(ADND, REG), indent=2).encode()
    with pytest.raises(ValidationFailed) as caught:
        parse(text[: len(text) // 2], "d.json")
    problem = only_problem(caught.value)
    assert problem.code == "json_syntax"
    assert problem.path.startswith("line ")
    assert "truncated" in problem.message


def test_deeply_nested_json_is_refused_without_recursion() -> None:
    for depth in (10_000, 1_000_000):
        with pytest.raises(TooLarge, match="more than 32 levels"):
            parse(b'{"data":' + b"[" * depth + b"]" * depth + b"}", "d.json")


def test_json_with_too_many_values_is_refused_before_parsing() -> None:
    data = b'{"data": {"lines": [' + b"[]," * 5000 + b"[]]}}"
    with pytest.raises(TooLarge, match="more than 1,000 values"):
        parse(data, "d.json", limits=Limits(max_spreadsheet_cells=1000))


def test_depth_ignores_brackets_inside_strings() -> None:
    assert max_depth('{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3


def test_duplicate_keys_are_refused_with_their_pointer() -> None:
    text = VALID_JSON.replace(b'"quantity": "12.5"', b'"quantity": "12.5", "quantity": "99"')
    text = text.replace(b'"period": 2024', b'"period": 2024, "period": 2025')
    with pytest.raises(ValidationFailed) as caught:
        parse(text, "d.json")
    paths = {(p.path, p.code) for p in caught.value.problems}
    assert paths == {("/period", "duplicate_key"), ("/data/lines/0/quantity", "duplicate_key")}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant: str) -> None:
    text = VALID_JSON.replace(b'"12.5"', constant.encode())
    with pytest.raises(ValidationFailed) as caught:
        parse(text, "d.json")
    problem = only_problem(caught.value)
    assert problem.code == "not_a_number"
    assert constant in problem.message
    assert problem.path == f"line 1, column {text.index(constant.encode()) + 1}"


def test_numbers_out_of_range_and_lone_surrogates() -> None:
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        parse(VALID_JSON.replace(b'"12.5"', b"1" * 5000), "d.json")
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        parse(VALID_JSON.replace(b'"12.5"', b"1e999999999999999999999"), "d.json")
    with pytest.raises(ValidationFailed) as caught:
        parse(VALID_JSON.replace(b'"FRA"', b'"\\ud800"'), "d.json")
    assert only_problem(caught.value).path == "/state"


def test_json_that_is_not_an_object() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(b"[1, 2]", "d.json")
    assert "an array" in only_problem(caught.value).message


# --- encodings and garbage ------------------------------------------------------------


def test_utf16_is_named() -> None:
    for data in (VALID_JSON.decode().encode("utf-16"), VALID_JSON.decode().encode("utf-16-le")):
        with pytest.raises(UnsupportedFormat, match="UTF-16.*UTF-8"):
            parse(data, "d.json")
    with pytest.raises(UnsupportedFormat, match="UTF-16"):
        parse("[declaration]\nregime,cwc\n".encode("utf-16"), "d.csv")


def test_latin1_is_named_with_the_place_of_the_first_bad_byte() -> None:
    data = "[declaration]\nregime,cwc\ntype,adnd\n[lines]\nremarks\nSociété générale, Genève\n"
    with pytest.raises(UnsupportedFormat) as caught:
        parse(data.encode("latin-1"), "d.csv")
    message = caught.value.message
    assert "Latin-1" in message and "line 6, column 5" in message and "UTF-8" in message


def test_chinese_legacy_encoding_is_named() -> None:
    texts = sorted(CORPUS.glob("*.txt"))
    text = texts[0].read_text(encoding="utf-8")[:2000] if texts else "关于禁止化学武器的公约" * 50
    data = ("[declaration]\nregime,cwc\n[lines]\nremarks\n" + text).encode("gb18030", "ignore")
    with pytest.raises(UnsupportedFormat, match="GB18030"):
        parse(data, "d.csv")


def test_cyrillic_legacy_encoding_is_named() -> None:
    data = "[declaration]\nregime,cwc\n[lines]\nremarks\nОбъявление о химических веществах\n"
    with pytest.raises(UnsupportedFormat, match="1251"):
        parse(data.encode("cp1251"), "d.csv")


@pytest.mark.parametrize("name", [None, "d.json", "d.csv", "d.xlsx", "d.bin"])
def test_binary_garbage(name: str | None) -> None:
    data = random.Random(7).randbytes(64 * 1024)
    with pytest.raises(UnsupportedFormat):
        parse(data, name)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "save it as"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"name,quantity\n", "before the first block"),
    ],
)
def test_wrong_kinds_of_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        try:
            parse(data, "d.xls" if data.startswith(b"\xd0") else None)
        except ValidationFailed as exc:
            raise InputError(exc.problems[0].message) from exc


def test_renamed_text_file_claiming_to_be_xlsx() -> None:
    with pytest.raises(UnsupportedFormat, match="named .xlsx"):
        parse(b"regime,cwc\n", "declaration.xlsx")


def test_size_limit_is_checked_before_parsing() -> None:
    small = Limits(max_upload_bytes=1000)
    with pytest.raises(TooLarge, match="at most 1,000 bytes"):
        parse(b"\xff" * 1001, "d.json", limits=small)  # not UTF-8: parsing would say so
    with pytest.raises(TooLarge):
        parse(b"PK\x03\x04" + b"\0" * 2000, "d.xlsx", limits=small)


def test_csv_cell_limit_and_bad_quotes() -> None:
    with pytest.raises(TooLarge, match="1,000 cells"):
        data = b"[declaration]\n" + b"a,b,c\n" * 400
        parse(data, "d.csv", limits=Limits(max_spreadsheet_cells=1000))
    with pytest.raises(ValidationFailed) as caught:
        parse(b'[declaration]\nregime,"cwc\n"x"y,z\n', "d.csv")
    assert caught.value.problems[0].code == "csv_syntax"


# --- zip and workbook attacks ---------------------------------------------------------


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, body in entries.items():
            z.writestr(name, body)
    return out.getvalue()


def test_zip_bomb_disguised_as_xlsx() -> None:
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as entry:
            for _ in range(200):  # 200 MB of zeros
                entry.write(chunk)
    data = out.getvalue()
    assert len(data) < 1024 * 1024
    with pytest.raises(TooLarge, match="zip bomb"):
        parse(data, "bomb.xlsx")


def test_total_unpacked_size_and_entry_count() -> None:
    noise = random.Random(1).randbytes(300_000)  # does not compress: only the total is large
    data = _zip({f"xl/part{i}.bin": noise for i in range(4)})
    with pytest.raises(TooLarge, match="unpacks to"):
        parse(data, "d.xlsx", limits=Limits(max_unzipped_bytes=1_000_000))
    with pytest.raises(TooLarge, match="parts"):
        parse(_zip({f"x{i}": b"" for i in range(50)}), limits=Limits(max_zip_entries=20))


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/xl/workbook.xml",
        "xl\\..\\evil.xml",
        "C:/evil.xml",
        "xl/../../evil.xml",
    ],
)
def test_path_traversal_entry_names(name: str) -> None:
    with pytest.raises(UnsupportedFormat, match="unsafe name"):
        parse(_zip({"[Content_Types].xml": b"<Types/>", name: b"x"}), "d.xlsx")


def test_duplicate_and_encrypted_entries() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, pytest.warns(UserWarning, match="Duplicate"):
        z.writestr("xl/workbook.xml", b"a")
        z.writestr("xl/workbook.xml", b"b")
    with pytest.raises(UnsupportedFormat, match="twice"):
        parse(out.getvalue(), "d.xlsx")
    data = bytearray(_zip({"xl/workbook.xml": b"<workbook/>"}, zipfile.ZIP_STORED))
    data[6] |= 1  # the local header's "encrypted" flag
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 1  # and the central directory's
    with pytest.raises(UnsupportedFormat, match="encrypted"):
        parse(bytes(data), "d.xlsx")


def test_zip_that_is_not_a_workbook() -> None:
    with pytest.raises(UnsupportedFormat, match="OpenDocument"):
        parse(_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "d.ods")
    with pytest.raises(UnsupportedFormat, match="Word"):
        parse(_zip({"word/document.xml": b"<w/>"}), "d.docx")
    with pytest.raises(UnsupportedFormat, match="not a readable"):
        parse(b"PK\x03\x04 truncated", "d.xlsx")


def _workbook(sheet_xml: bytes, *, workbook_xml: bytes | None = None) -> bytes:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _zip(
        {
            "_rels/.rels": f'<Relationships><Relationship Id="r" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'.encode(),
            "xl/workbook.xml": workbook_xml
            or (
                f'<workbook {NS} xmlns:r="{rel}"><sheets><sheet name="declaration" sheetId="1" '
                'r:id="s1"/></sheets></workbook>'
            ).encode(),
            "xl/_rels/workbook.xml.rels": f'<Relationships><Relationship Id="s1" Type="{rel}/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>".encode(),
            "xl/worksheets/sheet1.xml": sheet_xml,
        }
    )


def test_million_empty_cells_over_the_cell_limit() -> None:
    row = b'<c s="1"/>' * 1000
    rows = b"".join(b'<row r="%d">%s</row>' % (r, row) for r in range(1, 1001))
    sheet = b"<worksheet " + NS.encode() + b"><sheetData>" + rows + b"</sheetData></worksheet>"
    # Empty cells compress 400 times; lift the ratio guard to reach the cell budget.
    limits = Limits(max_spreadsheet_cells=500_000, max_compression_ratio=10_000)
    with pytest.raises(TooLarge, match="500,000 cells"):
        parse(_workbook(sheet), "d.xlsx", limits=limits)


def test_far_right_cells_cost_the_gap() -> None:
    rows = b"".join(
        b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
        for r in range(1, 200)
    )
    sheet = b"<worksheet " + NS.encode() + b"><sheetData>" + rows + b"</sheetData></worksheet>"
    with pytest.raises(TooLarge, match="cells"):
        parse(_workbook(sheet), "d.xlsx")


def test_cell_longer_than_a_spreadsheet_allows() -> None:
    body = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b"x" * 40_000 + b"</t></is></c></row>"
    sheet = b"<worksheet " + NS.encode() + b"><sheetData>" + body + b"</sheetData></worksheet>"
    with pytest.raises(TooLarge, match="32,767 characters"):
        parse(_workbook(sheet), "d.xlsx")


def test_entity_expansion_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<worksheet " + NS.encode() + b'><sheetData><row><c t="inlineStr"><is><t>&lol2;'
        b"</t></is></c></row></sheetData></worksheet>"
    )
    with pytest.raises(UnsupportedFormat, match="DTD"):
        parse(_workbook(laughs), "d.xlsx")
    with pytest.raises(UnsupportedFormat, match="cannot be read"):
        parse(_workbook(b"<worksheet><sheetData><row>"), "d.xlsx")


# --- formula injection in CSV exports ----------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ('=HYPERLINK("http://example.invalid","x")', '\'=HYPERLINK("http://example.invalid","x")'),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("12", "12"),
        ("plain text", "plain text"),
        (None, ""),
        (True, "true"),
        (-7, "-7"),
    ],
)
def test_neutralise(cell: object, expected: str) -> None:
    assert neutralise(cell) == expected


def test_write_csv_neutralises_every_cell() -> None:
    data = write_csv([["remarks", "quantity"], ["=cmd|' /C calc'!A0", "-3.5"]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["remarks", "quantity"], ["'=cmd|' /C calc'!A0", "-3.5"]]


def test_xlsx_template_never_writes_prefilled_text_as_a_formula() -> None:
    doc = sample_document(ADND, REG)
    doc["data"]["lines"][0]["remarks"] = '=WEBSERVICE("http://example.invalid")'
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(ADND, REG, prefill=doc)))
    cell = book["lines"]["F2"]
    assert cell.value == doc["data"]["lines"][0]["remarks"]
    assert cell.data_type == "s"


# --- properties: nothing but InputError ----------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)


def _only_input_errors(data: bytes, name: str | None) -> None:
    try:
        parse(data, name)
    except InputError:
        pass


@PROPERTY
@given(data=st.binary(max_size=2000), name=st.sampled_from([None, "x.json", "x.csv", "x.xlsx"]))
def test_arbitrary_bytes_raise_only_input_errors(data: bytes, name: str | None) -> None:
    _only_input_errors(data, name)


@PROPERTY
@given(
    prefix=st.sampled_from([b"PK\x03\x04", b"\xef\xbb\xbf[declaration]\n", b"{"]),
    data=st.binary(max_size=2000),
)
def test_arbitrary_bytes_after_a_plausible_start(prefix: bytes, data: bytes) -> None:
    _only_input_errors(prefix + data, None)


@PROPERTY
@given(value=JSON_VALUES)
def test_arbitrary_json_raises_only_input_errors(value: Any) -> None:
    _only_input_errors(json.dumps(value).encode(), "x.json")
    if isinstance(value, dict):
        _only_input_errors(json.dumps({**json.loads(VALID_JSON), "data": value}).encode(), None)


CSV_CELLS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | (
    st.sampled_from(
        [
            "[declaration]",
            "[lines]",
            "regime",
            "cwc",
            "type",
            "adnd",
            "period",
            "2024",
            "state",
            "FRA",
            "cas",
            "quantity",
            "nothing_to_declare",
            "yes",
            "#",
            "'=1",
            "",
        ]
    )
)


@PROPERTY
@given(
    rows=st.lists(st.lists(CSV_CELLS, max_size=6), max_size=20),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_arbitrary_csv_raises_only_input_errors(rows: list[list[str]], delimiter: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    _only_input_errors(buffer.getvalue().encode("utf-8"), "x.csv")
    _only_input_errors(
        b"[declaration]\nregime,cwc\ntype,adnd\nperiod,2024\nstate,FRA\n[lines]\n"
        + buffer.getvalue().encode("utf-8"),
        None,
    )
