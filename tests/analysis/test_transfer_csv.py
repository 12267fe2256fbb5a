"""Transfer lines from a CSV file: every accepted spelling, every located problem, hostile files."""

from __future__ import annotations

import codecs
import gc
import random
from datetime import UTC, datetime

import pytest

from veritrail.analysis.transfer_csv import COLUMNS, CsvLine, parse_transfers
from veritrail.declarations.csvsafe import write_csv
from veritrail.errors import Problem, TooLarge, ValidationFailed
from veritrail.regimes import registry

REG = registry()
HEADER = ",".join(COLUMNS)
GOOD_CWC = "cwc,2024,FRA,DEU,export,75-44-5,12.5,t"
GOOD_ATT = "att,2024,DEU,POL,import,IV_a,3,items"
NEXT_YEAR = datetime.now(UTC).year + 1


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows, ""]).encode()


def problems_of(data: bytes, **kwargs: int) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        parse_transfers(data, REG, **kwargs)
    return caught.value.problems


def only_problem(data: bytes) -> Problem:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


# --- good files ---------------------------------------------------------------------


def test_every_accepted_spelling_is_read() -> None:
    data = (
        "\ufeff# Transfers from the customs database, 2023-2024\n"
        " Unit ;ITEM;Quantity;direction;partner_state;Reporting_State;year;regime\n"
        "t;75-44-5;12.5;export;DE;FRA;2024;cwc\n"
        "\n"
        "# grams and an English short name\n"
        "g; 76-06-2 ;0250;IMPORT;Germany;fr;2023;CWC\n"
        "kg;75-44-5;.5;export;Japan;DEU;2024;cwc\n"
        ";;;;;;;\n"
        "items;IV_a;3;export;POL;DEU;2024;att\n"
        "ITEMS;sa_1;7.0;export;POL;DEU;2023;att\n"
        "items;salw;12;import;Brazil;DEU;2024;att\n"
        "items;vii;2;import;Brazil;DEU;2024;att\n"
    ).encode()
    lines = parse_transfers(data, REG).lines
    assert lines == [
        CsvLine(3, "cwc", 2024, "FRA", "DEU", "export", "75-44-5", "12.5", "t", 12500.0),
        CsvLine(6, "cwc", 2023, "FRA", "DEU", "import", "76-06-2", "250", "g", 0.25),
        CsvLine(7, "cwc", 2024, "DEU", "JPN", "export", "75-44-5", "0.5", "kg", 0.5),
        CsvLine(9, "att", 2024, "DEU", "POL", "export", "IV", "3", "items", 3.0),
        CsvLine(10, "att", 2023, "DEU", "POL", "export", "SALW", "7.0", "items", 7.0),
        CsvLine(11, "att", 2024, "DEU", "BRA", "import", "SALW", "12", "items", 12.0),
        CsvLine(12, "att", 2024, "DEU", "BRA", "import", "VII", "2", "items", 2.0),
    ]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_taken_from_the_header_row(separator: str) -> None:
    rows = [HEADER, GOOD_CWC, 'att,2024,DEU,POL,import,IV_a,3,"items"']
    data = "\r\n".join(row.replace(",", separator) for row in rows).encode()
    lines = parse_transfers(data, REG).lines
    assert [(line.row, line.item, line.amount) for line in lines] == [
        (2, "75-44-5", 12500.0),
        (3, "IV", 3.0),
    ]


def test_a_quoted_value_may_hold_the_separator() -> None:
    lines = parse_transfers(csv_file('cwc,2024,FRA,"Korea, Republic of",export,75-44-5,1,t'), REG)
    assert lines.lines[0].partner_state == "KOR"


def test_every_sub_category_counts_for_its_category() -> None:
    report = REG.declaration_type("att", "annual_report")
    choices = report.sections[1].fields[0].choice_values()
    assert "SA_1" in choices  # the exports table's category field
    # One year per choice, so that no two rows are the same line.
    rows = [f"att,{1990 + i},DEU,POL,export,{c},1,items" for i, c in enumerate(choices)]
    lines = parse_transfers(csv_file(*rows), REG).lines
    found = {c: line.item for c, line in zip(choices, lines, strict=True)}
    assert found["I"] == "I"
    assert found["IV_b"] == "IV"
    assert found["VII_b"] == "VII"
    assert found["LW_7"] == "SALW"
    assert set(found.values()) == {"I", "II", "III", "IV", "V", "VI", "VII", "SALW"}


def test_next_year_is_accepted_and_the_year_after_is_not() -> None:
    lines = parse_transfers(csv_file(GOOD_CWC.replace("2024", str(NEXT_YEAR))), REG).lines
    assert lines[0].year == NEXT_YEAR
    problem = only_problem(csv_file(GOOD_CWC.replace("2024", str(NEXT_YEAR + 1))))
    assert problem.code == "invalid_year"
    assert f"1990 to {NEXT_YEAR}" in problem.message


def test_a_file_exported_by_veritrail_reads_back() -> None:
    data = write_csv(
        [COLUMNS, GOOD_CWC.split(","), ["att", 2024, "DEU", "POL", "import", "SA_2", 40, "items"]]
    )
    assert data.startswith(codecs.BOM_UTF8)
    lines = parse_transfers(data, REG).lines
    assert [(line.item, line.amount) for line in lines] == [("75-44-5", 12500.0), ("SALW", 40.0)]


def test_the_apostrophe_of_a_neutralised_cell_is_taken_off() -> None:
    # '-5 becomes -5: refused as negative, not as "not a number".
    problem = only_problem(csv_file("cwc,2024,FRA,DEU,export,75-44-5,'-5,t"))
    assert (problem.code, problem.field) == ("negative", "quantity")
    problem = only_problem(csv_file("cwc,2024,'@FRA,DEU,export,75-44-5,5,t"))
    assert problem.path == 'row 2, column "reporting_state"'
    assert 'unknown state "@FRA"' in problem.message
    # Only before = + - @: before another character the apostrophe stays.
    problems = problems_of(csv_file("cwc,2024,FRA,'DEU,export,75-44-5,5,t"))
    assert [p.message.split(";")[0] for p in problems] == ['unknown state "\'DEU"']


# --- bad rows -----------------------------------------------------------------------

NOT_RECONCILED = next(
    regime
    for regime, pack in sorted(REG.packs.items())
    if not any(t.reconciliation for t in pack.types.values())
)


@pytest.mark.parametrize(
    ("row", "column", "code", "says"),
    [
        ("sarin,2024,FRA,DEU,export,75-44-5,1,t", "regime", "unknown_regime", "give att or cwc"),
        (",2024,FRA,DEU,export,75-44-5,1,t", "regime", "required", "no regime"),
        (
            f"{NOT_RECONCILED},2024,FRA,DEU,export,75-44-5,1,t",
            "regime",
            "no_transfers",
            "give att or cwc",
        ),
        ("cwc,24,FRA,DEU,export,75-44-5,1,t", "year", "invalid_year", "4-digit year"),
        ("cwc,1989,FRA,DEU,export,75-44-5,1,t", "year", "invalid_year", "from 1990"),
        ("cwc,2024.0,FRA,DEU,export,75-44-5,1,t", "year", "invalid_year", '"2024.0"'),
        ("cwc,,FRA,DEU,export,75-44-5,1,t", "year", "required", "no year"),
        (
            "cwc,2024,Atlantis,DEU,export,75-44-5,1,t",
            "reporting_state",
            "unknown_state",
            'unknown state "Atlantis"; give an ISO 3166-1 alpha-3 or alpha-2 code or the '
            "English short name",
        ),
        ("cwc,2024,FRA,,export,75-44-5,1,t", "partner_state", "required", "no partner state"),
        ("cwc,2024,FRA,fr,export,75-44-5,1,t", "partner_state", "same_state", "(FRA)"),
        ("cwc,2024,FRA,DEU,transit,75-44-5,1,t", "direction", "invalid_direction", "export or"),
        ("cwc,2024,FRA,DEU,export,75-44-6,1,t", "item", "invalid_cas", "check digit"),
        ("cwc,2024,FRA,DEU,export,50-00-0,1,t", "item", "unknown_item", "Schedules"),
        ("cwc,2024,FRA,DEU,export,,1,t", "item", "required", "no cas registry number"),
        ("att,2024,FRA,DEU,export,4,1,items", "item", "unknown_item", "I, II, III, IV"),
        ("att,2024,FRA,DEU,export,IV_c,1,items", "item", "unknown_item", "such as IV_a"),
        ('cwc,2024,FRA,DEU,export,75-44-5,"1,5",t', "quantity", "decimal_comma", "a point"),
        ('cwc,2024,FRA,DEU,export,75-44-5,"1,500.5",t', "quantity", "decimal_comma", "point"),
        ("cwc,2024,FRA,DEU,export,75-44-5,-3,t", "quantity", "negative", "0 or more"),
        ("cwc,2024,FRA,DEU,export,75-44-5,+3,t", "quantity", "signed", "without a sign"),
        ("cwc,2024,FRA,DEU,export,75-44-5,NaN,t", "quantity", "not_finite", "not a number"),
        ("cwc,2024,FRA,DEU,export,75-44-5,Infinity,t", "quantity", "not_finite", "12.5"),
        ("cwc,2024,FRA,DEU,export,75-44-5,-inf,t", "quantity", "not_finite", "not a number"),
        ("cwc,2024,FRA,DEU,export,75-44-5,1.2E3,t", "quantity", "exponent", "in full"),
        ("cwc,2024,FRA,DEU,export,75-44-5,1e-3,t", "quantity", "exponent", "in full"),
        ("cwc,2024,FRA,DEU,export,75-44-5,1234567890123456,t", "quantity", "too_many_digits", "15"),
        (
            "cwc,2024,FRA,DEU,export,75-44-5,0.00001234567890123456,t",
            "quantity",
            "too_many_digits",
            "15",
        ),
        ("cwc,2024,FRA,DEU,export,75-44-5,12 kg,t", "quantity", "not_a_number", '"12 kg"'),
        ("cwc,2024,FRA,DEU,export,75-44-5,١٢,t", "quantity", "not_a_number", "not a number"),
        ("cwc,2024,FRA,DEU,export,75-44-5,,t", "quantity", "required", "no quantity"),
        ("att,2024,FRA,DEU,export,I,2.5,items", "quantity", "not_whole", "whole number"),
        ("cwc,2024,FRA,DEU,export,75-44-5,1,lb", "unit", "unknown_unit", "give g, kg or t"),
        ("cwc,2024,FRA,DEU,export,75-44-5,1,items", "unit", "wrong_unit", "give g, kg or t"),
        ("att,2024,FRA,DEU,export,I,1,kg", "unit", "wrong_unit", "give items"),
        ("att,2024,FRA,DEU,export,I,1,", "unit", "required", "no unit"),
    ],
)
def test_a_bad_cell_is_located_and_explained(row: str, column: str, code: str, says: str) -> None:
    problem = only_problem(csv_file(GOOD_CWC, row, GOOD_ATT))
    assert problem.path == f'row 3, column "{column}"'
    assert (problem.code, problem.field) == (code, column)
    assert says in problem.message


def test_the_header_as_written_names_the_column() -> None:
    header = "REGIME;Year;reporting_state;partner_state;direction;item; Quantity ;unit"
    problem = only_problem(csv_file("cwc;2024;FRA;DEU;export;75-44-5;x;t", header=header))
    assert problem.path == 'row 2, column "Quantity"'


@pytest.mark.parametrize(
    "row", ["cwc,2024,FRA,DEU,export,75-44-5,1", "cwc,2024,FRA,DEU,export,75-44-5,1,t,extra"]
)
def test_a_row_with_the_wrong_number_of_cells_is_refused(row: str) -> None:
    problem = only_problem(csv_file(row))
    assert (problem.path, problem.code) == ("row 2", "cell_count")
    assert "the header 8" in problem.message


def test_rows_are_lines_of_the_file_even_after_a_value_over_two_lines() -> None:
    data = csv_file(
        'cwc,2024,FRA,DEU,export,"75-44-5\nsee note",1,t', "cwc,1900,FRA,DEU,export,75-44-5,1,t"
    )
    problems = problems_of(data)
    assert [(p.path, p.code) for p in problems] == [
        ('row 2, column "item"', "invalid_cas"),
        ('row 4, column "year"', "invalid_year"),
    ]


def test_the_cycle_collector_runs_again_after_a_file() -> None:
    assert gc.isenabled()
    parse_transfers(csv_file(GOOD_CWC), REG)
    assert gc.isenabled()
    problems_of(csv_file("cwc,1900,FRA,DEU,export,75-44-5,1,t"))
    assert gc.isenabled()


def test_empty_cells_padding_a_row_are_ignored() -> None:
    assert len(parse_transfers(csv_file(GOOD_CWC + ",,,"), REG).lines) == 1


def test_every_problem_of_every_row_is_reported_at_once() -> None:
    data = csv_file(
        GOOD_CWC,
        "cwc,1900,FRA,DEU,export,75-44-5,1,t",
        "# a comment still counts as a row",
        GOOD_ATT,
        "att,2024,Atlantis,DEU,sideways,IX,1,5,items",
        "att,2024,Atlantis,DEU,sideways,IX,-1,kg",
    )
    problems = problems_of(data)
    assert [(p.path, p.code) for p in problems] == [
        ('row 3, column "year"', "invalid_year"),
        ("row 6", "cell_count"),
        ('row 7, column "reporting_state"', "unknown_state"),
        ('row 7, column "direction"', "invalid_direction"),
        ('row 7, column "item"', "unknown_item"),
        ('row 7, column "quantity"', "negative"),
        ('row 7, column "unit"', "wrong_unit"),
    ]


def test_the_same_line_twice_names_both_rows() -> None:
    problem = only_problem(csv_file(GOOD_CWC, GOOD_ATT, GOOD_CWC.replace("12.5,t", "3,kg")))
    assert (problem.path, problem.code) == ("row 4", "duplicate_line")
    assert "row 2" in problem.message
    assert "added up" in problem.message


def test_two_sub_categories_of_one_category_are_the_same_line() -> None:
    problem = only_problem(csv_file(GOOD_ATT, GOOD_ATT.replace("IV_a", "IV_b")))
    assert (problem.path, problem.code) == ("row 3", "duplicate_line")
    assert "row 2" in problem.message
    assert '"IV_b" counts as IV' in problem.message


def test_lines_that_differ_in_year_direction_or_partner_are_distinct() -> None:
    data = csv_file(
        GOOD_CWC,
        GOOD_CWC.replace("2024", "2023"),
        GOOD_CWC.replace("export", "import"),
        GOOD_CWC.replace("DEU", "POL"),
    )
    assert len(parse_transfers(data, REG).lines) == 4


# --- the header and the file --------------------------------------------------------


def test_an_extra_column_is_named() -> None:
    problem = only_problem(csv_file(GOOD_CWC + ",x", header=HEADER + ",remarks"))
    assert (problem.path, problem.code) == ('row 1, column "remarks"', "unknown_column")
    assert HEADER.replace(",", ", ") in problem.message


def test_a_missing_column_is_named() -> None:
    header = HEADER.replace(",unit", "")
    problem = only_problem(csv_file("cwc,2024,FRA,DEU,export,75-44-5,1", header=header))
    assert (problem.path, problem.code) == ("row 1", "missing_column")
    assert 'no column "unit"' in problem.message
    assert HEADER.replace(",", ", ") in problem.message


def test_a_column_given_twice_is_refused() -> None:
    problem = only_problem(csv_file(GOOD_CWC + ",1", header=HEADER + ",Quantity"))
    assert (problem.path, problem.code) == ('row 1, column "Quantity"', "duplicate_column")


def test_a_header_padded_with_empty_cells_is_read() -> None:
    assert len(parse_transfers(csv_file(GOOD_CWC, header=HEADER + ",,"), REG).lines) == 1


def test_a_column_without_a_name_is_refused() -> None:
    header = HEADER.replace(",item,", ",item,,")
    problem = only_problem(csv_file("cwc,2024,FRA,DEU,export,75-44-5,x,1,t", header=header))
    assert (problem.path, problem.code) == ("row 1", "unnamed_column")
    assert "column 7 has no name" in problem.message


def test_lines_are_the_same_however_they_are_spelt() -> None:
    problem = only_problem(csv_file(GOOD_CWC, "CWC,2024,fr,Germany,Export, 75-44-5 ,1,kg"))
    assert (problem.path, problem.code) == ("row 3", "duplicate_line")


def test_a_file_without_its_header_says_how_to_start() -> None:
    problem = only_problem(f"{GOOD_CWC}\n{GOOD_ATT}\n".encode())
    assert (problem.path, problem.code) == ("row 1", "no_header")
    assert HEADER.replace(",", ", ") in problem.message


@pytest.mark.parametrize(
    "data",
    [b"", b"  \r\n\n", codecs.BOM_UTF8, b"# nothing yet\n", HEADER.encode(), csv_file("", "")],
)
def test_a_file_without_lines_is_refused(data: bytes) -> None:
    problem = only_problem(data)
    assert (problem.path, problem.code) == ("file", "empty_file")
    assert "header row" in problem.message


# --- hostile input ------------------------------------------------------------------


def test_binary_garbage_is_refused() -> None:
    garbage = random.Random(7).randbytes(4096)
    problem = only_problem(garbage)
    assert (problem.path, problem.code) == ("file", "binary")


def test_a_nul_byte_is_refused_even_late_in_a_text_file() -> None:
    data = csv_file(GOOD_CWC, *(f"# {i}" for i in range(2000)), "cwc\x00")
    assert only_problem(data).code == "binary"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_a_utf16_file_says_to_save_as_utf8(codec: str) -> None:
    problem = only_problem(csv_file(GOOD_CWC).decode().encode(codec))
    assert (problem.path, problem.code) == ("file", "encoding")
    assert "UTF-16" in problem.message
    assert "Save the CSV file as UTF-8" in problem.message


def test_a_latin1_file_names_its_encoding() -> None:
    data = csv_file("att,2024,Côte d'Ivoire,FRA,export,I,1,items").decode().encode("latin-1")
    problem = only_problem(data)
    assert problem.code == "encoding"
    assert "row" not in problem.path
    assert "line 2" in problem.message
    assert "UTF-8" in problem.message


def test_a_huge_number_is_refused_briefly() -> None:
    problem = only_problem(csv_file(f"cwc,2024,FRA,DEU,export,75-44-5,{'9' * 100_000},t"))
    assert (problem.code, problem.field) == ("too_many_digits", "quantity")
    assert len(problem.message) < 300


@pytest.mark.parametrize(
    ("cell", "column"),
    [
        ('"=HYPERLINK(""http://example.org"",""x"")"', "reporting_state"),
        ("@SUM(A1:A9)", "partner_state"),
        ("=1+2", "quantity"),
        ("'=1+2", "quantity"),
        ("+cmd|' /C calc'!A0", "item"),
    ],
)
def test_a_formula_is_refused_as_a_value(cell: str, column: str) -> None:
    cells = dict(zip(COLUMNS, GOOD_CWC.split(","), strict=True))
    cells[column] = cell
    problem = only_problem(csv_file(",".join(cells.values())))
    assert problem.path == f'row 2, column "{column}"'
    assert problem.code in {"unknown_state", "not_a_number", "invalid_cas"}


def test_an_extremely_long_cell_stops_the_reading_with_a_located_problem() -> None:
    long_row = f"cwc,2024,FRA,DEU,export,75-44-5,1,{'t' * 300_000}"
    problems = problems_of(csv_file(GOOD_CWC, long_row, GOOD_ATT))
    assert [(p.path, p.code) for p in problems] == [("row 3", "csv_syntax")]
    assert "characters" in problems[0].message
    assert len(problems[0].message) < 400


def test_an_extremely_long_row_of_cells_is_refused_briefly() -> None:
    problem = only_problem(csv_file(GOOD_CWC + "," * 100_000 + "x"))
    assert (problem.path, problem.code) == ("row 2", "cell_count")
    assert "100,008 cells" in problem.message


def test_an_unclosed_quote_is_located() -> None:
    problems = problems_of(csv_file(GOOD_CWC, 'cwc,2024,"FRA,DEU,export,75-44-5,1,t', GOOD_ATT))
    assert [(p.path, p.code) for p in problems] == [("row 3", "csv_syntax")]
    assert "quote" in problems[0].message


def test_more_rows_than_allowed_is_too_large() -> None:
    rows = [GOOD_CWC.replace("2024", str(year)) for year in range(2000, 2004)]
    assert len(parse_transfers(csv_file(*rows), REG, max_rows=4).lines) == 4
    with pytest.raises(TooLarge) as caught:
        parse_transfers(
            csv_file(*rows, "# comments and blank lines do not count", ""), REG, max_rows=3
        )
    assert "3 transfer lines" in caught.value.message
    assert caught.value.details["limit"] == 3


def test_problems_stop_at_a_thousand_and_say_how_many_rows_were_left() -> None:
    problems = problems_of(csv_file(*["cwc,1900,FRA,DEU,export,75-44-5,1,t"] * 1_500))
    assert len(problems) == 1_001
    assert problems[999].path == 'row 1001, column "year"'
    last = problems[-1]
    assert (last.path, last.code) == ("file", "too_many_problems")
    assert "500 more rows were not checked" in last.message


def test_nothing_partial_is_returned_when_one_row_is_bad() -> None:
    rows = [GOOD_CWC.replace("2024", str(year)) for year in range(1990, 2020)]
    problems = problems_of(csv_file(*rows, "cwc,2024,FRA,DEU,export,75-44-5,-1,t"))
    assert [p.code for p in problems] == ["negative"]
