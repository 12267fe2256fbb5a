"""The analysis dashboard, discrepancy cases and the states' portal, through the ASGI app.

The data is made the way it is in production: small CWC and ATT declarations
submitted with ``do_submit_declaration``, with discrepancies planted in them,
then the checks run with ``do_refresh_cases``. France exports to Germany more
than Germany declares importing (both regimes); China exports to Germany,
which declares nothing of it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from factories import make_user, web_sign_in
from veritrail.access import OPERATOR, Actor, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import do_add_facilities
from veritrail.actions.cases import do_refresh_cases
from veritrail.declarations.document import ParsedDeclaration
from veritrail.queries.accounts import actor_for
from veritrail.queries.cases import case_detail, list_cases
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import Facility

PASSWORD = "correct horse battery"
PERIOD = datetime.now(UTC).year - 1
PHOSGENE = "75-44-5"  # Schedule 3: a difference counts above 30 t


def adnd(state: str, *lines: dict[str, str]) -> dict[str, Any]:
    return {
        "regime": "cwc",
        "type": "adnd",
        "state": state,
        "period": PERIOD,
        "data": {"lines": list(lines)},
    }


def line(activity: str, partner: str, tonnes: str) -> dict[str, str]:
    return {
        "cas": PHOSGENE,
        "activity": activity,
        "partner_state": partner,
        "quantity": tonnes,
        "unit": "t",
    }


def att(
    state: str, exports: list[tuple[str, int]], imports: list[tuple[str, int]]
) -> dict[str, Any]:
    return {
        "regime": "att",
        "type": "annual_report",
        "state": state,
        "period": PERIOD,
        "data": {
            "report": {
                "contact": "Arms control desk",
                "date": f"{PERIOD + 1}-01-15",
                "publish": True,
            },
            "exports": [
                {"category": "II", "importing_state": s, "items": n, "basis": "actual"}
                for s, n in exports
            ],
            "imports": [
                {"category": "II", "exporting_state": s, "items": n, "basis": "actual"}
                for s, n in imports
            ],
        },
    }


def submit(ctx: Context, actor: Actor, document: dict[str, Any]) -> str:
    moment = min(datetime.now(UTC), datetime(PERIOD + 1, 1, 2, 12, tzinfo=UTC))
    return do_submit_declaration(
        ctx, actor=actor, parsed=ParsedDeclaration(document, "json"), now=moment
    ).id


@dataclass
class World:
    ctx: Context
    analyst: Actor
    fra_adnd: str
    deu_adnd: str
    fra_deu_cwc: str  # quantities differ
    fra_deu_att: str  # quantities differ
    chn_deu_cwc: str  # import not declared


@pytest.fixture
def world(ctx: Context) -> World:
    analyst = make_user(ctx, "analyst", Role.ANALYST)
    make_user(ctx, "inspector", Role.INSPECTOR)
    fra = make_user(ctx, "fra-submitter", Role.NA_SUBMITTER, "FRA")
    make_user(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    deu = make_user(ctx, "deu-submitter", Role.NA_SUBMITTER, "DEU")
    chn = make_user(ctx, "chn-submitter", Role.NA_SUBMITTER, "CHN")
    fra_adnd = submit(ctx, fra, adnd("FRA", line("export", "DEU", "40")))
    deu_adnd = submit(ctx, deu, adnd("DEU", line("import", "FRA", "5")))
    submit(ctx, chn, adnd("CHN", line("export", "DEU", "50")))
    submit(ctx, fra, att("FRA", [("DEU", 10)], []))
    submit(ctx, deu, att("DEU", [], [("FRA", 7)]))
    summary = do_refresh_cases(ctx, actor=analyst)
    assert summary.opened == 3

    def case(regime: str, state: str) -> str:
        found, total = list_cases(
            ctx, actor=analyst, check="reconciliation", regime=regime, state=state
        )
        assert total == 1, (regime, state, found)
        return found[0].id

    return World(
        ctx=ctx,
        analyst=analyst,
        fra_adnd=fra_adnd,
        deu_adnd=deu_adnd,
        fra_deu_cwc=case("cwc", "FRA"),
        fra_deu_att=case("att", "FRA"),
        chn_deu_cwc=case("cwc", "CHN"),
    )


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    # Without the lifespan: no background worker re-runs the checks behind the test's back.
    test_client = TestClient(create_app(settings, ctx), follow_redirects=False)
    yield test_client
    test_client.close()


def sign_in(client: TestClient, username: str) -> str:
    return web_sign_in(client, username, PASSWORD, then="/account")


def assert_clean_html(response: Response) -> None:
    """Nothing in the page needs the CSP relaxed: no inline script, style or handler."""
    text = response.text
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"


def chart(text: str, canvas_id: str) -> dict[str, Any]:
    found = re.search(rf'<canvas id="{canvas_id}" data-chart="([^"]*)"', text)
    assert found, canvas_id
    return json.loads(unescape(found.group(1)))  # type: ignore[no-any-return]


def rows_of(text: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', text, re.S)
    assert table, table_id
    return re.findall(r"<tr[^>]*>.*?</tr>", table.group(0), re.S)[1:]


def csv_rows(response: Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def status_of(ctx: Context, analyst: Actor, case_id: str) -> str:
    return case_detail(ctx, actor=analyst, case_id=case_id).status


@pytest.mark.parametrize(
    "path", ["/analysis", "/analysis/reconciliation.csv", "/cases", "/cases/c-1", "/clarifications"]
)
def test_pages_send_signed_out_readers_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=" + path)


def test_the_dashboard_shows_three_charts_with_their_figures(
    client: TestClient, world: World
) -> None:
    sign_in(client, "analyst")
    response = client.get("/analysis")
    assert response.status_code == 200
    assert_clean_html(response)
    text = response.text
    for script in ("chart.umd.min.js", "leaflet.js", "topojson-client.min.js", "js/analysis.js"):
        assert (
            f'src="/static/{"vendor/" if "min" in script or script == "leaflet.js" else ""}' in text
        )
        assert script in text
    assert 'data-basemap="/static/vendor/countries-110m.json"' in text
    assert 'data-points="/analysis/facilities.json"' in text
    assert "http://" not in text and "https://" not in text  # no tile server, no outside address

    shares = chart(text, "participation-chart")
    assert shares["percent"] is True
    assert any(label.endswith(str(PERIOD)) for label in shares["labels"])
    on_time = next(s for s in shares["series"] if s["label"] == "On time")
    assert all(0 <= v <= 100 for v in on_time["data"]) and max(on_time["data"]) > 0
    participation = rows_of(text, "participation-table")
    cwc = next(r for r in participation if 'data-regime="cwc"' in r)
    # Three of the Convention's parties reported, on time; the rest are missing.
    assert re.search(r'data-status="on_time">3 ', cwc)

    found = chart(text, "discrepancy-chart")
    labels = found["labels"]
    mismatches = next(s for s in found["series"] if s["label"] == "Quantities differ")
    not_imported = next(s for s in found["series"] if s["label"] == "Import not declared")
    open_cases = next(s for s in found["series"] if s["label"] == "Cases: Open")
    cwc_at = next(i for i, label in enumerate(labels) if label.startswith("CWC"))
    att_at = next(i for i, label in enumerate(labels) if label.startswith("ATT"))
    assert mismatches["data"][cwc_at] == 1 and mismatches["data"][att_at] == 1
    assert not_imported["data"][cwc_at] == 1 and not_imported["data"][att_at] == 0
    assert open_cases["data"][cwc_at] == 2 and open_cases["data"][att_at] == 1
    assert {s["stack"] for s in found["series"]} == {"findings", "cases"}
    table = rows_of(text, "discrepancy-table")
    cwc_row = next(r for r in table if 'data-regime="cwc"' in r)
    assert 'data-kind="quantity_mismatch">1<' in cwc_row
    assert 'data-kind="missing_import">1<' in cwc_row

    findings = rows_of(text, "finding-list")
    assert len(findings) == 3
    pair = next(r for r in findings if 'data-pair="FRA-DEU"' in r and "Chemical" in r)
    assert 'data-kind="quantity_mismatch"' in pair
    assert "40,000" in pair and "5,000" in pair and "35,000" in pair  # kg, both sides
    assert "France declared exporting 40,000 kg; Germany declared importing 5,000 kg" in unescape(
        pair
    )


def test_the_findings_table_filters_and_pages(client: TestClient, world: World) -> None:
    sign_in(client, "analyst")
    only_att = client.get("/analysis?regime=att")
    rows = rows_of(only_att.text, "finding-list")
    assert len(rows) == 1 and 'data-kind="quantity_mismatch"' in rows[0]
    assert 'href="/analysis/reconciliation.csv?regime=att"' in only_att.text
    missing = rows_of(client.get("/analysis?kind=missing_import").text, "finding-list")
    assert len(missing) == 1 and 'data-pair="CHN-DEU"' in missing[0]
    none = client.get(f"/analysis?year={PERIOD - 3}")
    assert 'data-total="0"' in none.text and 'id="finding-list"' not in none.text
    # Past the last page: back to the last one, with the same filters.
    past = client.get("/analysis?regime=cwc&page=9")
    assert past.status_code == 303 and past.headers["location"] == "/analysis?regime=cwc&page=1"
    # The form sends every filter, empty ones too.
    everything = client.get("/analysis?regime=&year=&kind=")
    assert everything.status_code == 200 and 'data-total="3"' in everything.text
    # A regime without transfers, a kind that is not a discrepancy, a year that is not one.
    assert client.get("/analysis?year=soon").status_code == 400
    assert client.get("/analysis?regime=bwc").status_code == 400
    assert client.get("/analysis?kind=matched").status_code == 400


def test_the_map_reads_facilities_as_json(client: TestClient, world: World) -> None:
    do_add_facilities(
        world.ctx,
        actor=OPERATOR,
        facilities=[
            Facility(
                id="F-FRA-1",
                state="FRA",
                name="Usine <A>",
                kind="chemical",
                regime="cwc",
                latitude=45.76,
                longitude=4.84,
                operator=None,
            ),
            Facility(
                id="F-DEU-1",
                state="DEU",
                name="Werk B",
                kind="biological",
                regime="bwc",
                latitude=52.52,
                longitude=13.4,
                operator=None,
            ),
        ],
    )
    sign_in(client, "analyst")
    points = client.get("/analysis/facilities.json")
    assert points.status_code == 200 and points.headers["content-type"] == "application/json"
    by_id = {p["id"]: p for p in points.json()}
    assert by_id["F-FRA-1"]["state_name"] == "France" and by_id["F-FRA-1"]["lat"] == 45.76
    assert by_id["F-DEU-1"]["regime_name"] == "Biological Weapons Convention"
    page = client.get("/analysis").text
    assert "2 facilities" in page
    assert rows_of(page, "facility-regimes") and 'data-state="DEU"' in page


def test_reconciliation_exports(client: TestClient, world: World) -> None:
    sign_in(client, "analyst")
    response = client.get("/analysis/reconciliation.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = csv_rows(response)
    assert {(r["regime"], r["exporter"], r["importer"], r["kind"]) for r in rows} == {
        ("cwc", "FRA", "DEU", "quantity_mismatch"),
        ("att", "FRA", "DEU", "quantity_mismatch"),
        ("cwc", "CHN", "DEU", "missing_import"),
    }
    cwc = next(r for r in rows if r["regime"] == "cwc" and r["exporter"] == "FRA")
    assert float(cwc["exported"]) == 40_000 and float(cwc["imported"]) == 5_000
    assert [
        r["regime"] for r in csv_rows(client.get("/analysis/reconciliation.csv?regime=att"))
    ] == ["att"]

    book = client.get("/analysis/reconciliation.xlsx?regime=cwc")
    assert book.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("kind", "regime", "year")
    assert sorted((v[3], v[4]) for v in values[1:]) == [("CHN", "DEU"), ("FRA", "DEU")]

    pdf = client.get(f"/analysis/reconciliation.pdf?year={PERIOD}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/analysis/reconciliation.doc").status_code in (404, 422)


def test_the_case_list_filters_pages_and_exports(client: TestClient, world: World) -> None:
    sign_in(client, "analyst")
    listing = client.get("/cases")
    assert listing.status_code == 200
    assert_clean_html(listing)
    assert 'data-total="3"' in listing.text
    for case_id in (world.fra_deu_cwc, world.fra_deu_att, world.chn_deu_cwc):
        assert f'href="/cases/{case_id}"' in listing.text
    assert 'id="refresh-form"' in listing.text
    china = client.get("/cases?state=China")
    assert 'data-total="1"' in china.text and world.chn_deu_cwc in china.text
    assert 'data-total="2"' in client.get("/cases?regime=cwc&check=reconciliation").text
    assert 'data-total="0"' in client.get("/cases?status=closed").text
    assert 'data-total="3"' in client.get(f"/cases?year={PERIOD}&status=open").text
    empty = client.get("/cases?status=&check=&regime=&year=&state=&assignee=")
    assert empty.status_code == 200 and 'data-total="3"' in empty.text
    assert client.get("/cases?year=1900").status_code == 400
    wrong = client.get("/cases?state=Atlantis")
    assert wrong.status_code == 400 and 'id="filter-error"' in wrong.text
    assert 'value="Atlantis"' in wrong.text  # the filter is kept to be corrected
    past = client.get("/cases?regime=cwc&page=4")
    assert past.status_code == 303 and past.headers["location"] == "/cases?regime=cwc&page=1"

    assert 'href="/cases.csv?regime=cwc"' in client.get("/cases?regime=cwc").text
    exported = client.get("/cases.csv?regime=cwc")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = csv_rows(exported)
    assert sorted(r["id"] for r in rows) == sorted([world.fra_deu_cwc, world.chn_deu_cwc])
    assert {r["status"] for r in rows} == {"open"}
    book = client.get("/cases.xlsx?state=CHN")
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [world.chn_deu_cwc]
    pdf = client.get("/cases.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_case_shows_both_figures_sources_and_history(client: TestClient, world: World) -> None:
    sign_in(client, "analyst")
    response = client.get(f"/cases/{world.fra_deu_cwc}")
    assert response.status_code == 200
    assert_clean_html(response)
    text = response.text
    figures = re.search(r'id="case-figures".*?</table>', text, re.S)
    assert figures
    assert "40,000 kg" in figures.group(0) and "5,000 kg" in figures.group(0)
    assert "35,000 kg" in figures.group(0)
    assert f'href="/declarations/{world.fra_adnd}"' in text
    assert f'href="/declarations/{world.deu_adnd}"' in text
    assert 'data-kind="opened"' in text
    for form in ("request-form", "close-form", "assign-form"):
        assert f'id="{form}"' in text
    assert 'id="reopen-form"' not in text
    assert client.get("/cases/c-0000000000").status_code == 404


def test_the_inspector_reads_but_does_not_work_cases(client: TestClient, world: World) -> None:
    csrf = sign_in(client, "inspector")
    assert client.get("/analysis").status_code == 200
    page = client.get(f"/cases/{world.fra_deu_cwc}")
    assert page.status_code == 200 and 'id="close-form"' not in page.text
    assert 'id="refresh-form"' not in client.get("/cases").text
    refused = client.post(
        f"/cases/{world.fra_deu_cwc}/close", data={"csrf": csrf, "reason": "explained"}
    )
    assert refused.status_code == 403
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "open"


def test_national_users_see_only_their_own_cases(client: TestClient, world: World) -> None:
    sign_in(client, "fra-viewer")
    nav = client.get("/clarifications")
    assert nav.status_code == 200
    assert_clean_html(nav)
    assert 'href="/clarifications"' in nav.text and 'href="/analysis"' not in nav.text
    assert world.fra_deu_cwc in nav.text and world.fra_deu_att in nav.text
    assert world.chn_deu_cwc not in nav.text
    assert 'id="awaiting-none"' in nav.text
    assert client.get("/analysis").status_code == 403
    assert client.get("/analysis/reconciliation.csv").status_code == 403
    assert client.get("/analysis/facilities.json").status_code == 403
    assert client.get("/cases").headers["location"] == "/clarifications"
    redirected = client.get(f"/cases/{world.chn_deu_cwc}")
    assert redirected.headers["location"] == f"/clarifications/{world.chn_deu_cwc}"
    other = client.get(f"/clarifications/{world.chn_deu_cwc}")
    assert other.status_code == 404 and "Not found" in other.text
    own = client.get(f"/clarifications/{world.fra_deu_cwc}")
    assert own.status_code == 200
    assert_clean_html(own)
    # France's own figure, not Germany's.
    assert "40,000 kg" in own.text and "5,000" not in own.text
    assert world.deu_adnd not in own.text and world.fra_adnd in own.text
    assert 'id="answer-form"' not in own.text  # nothing was asked
    exported = csv_rows(client.get("/cases.csv"))
    assert sorted(r["id"] for r in exported) == sorted([world.fra_deu_cwc, world.fra_deu_att])
    assert {r["assignee"] for r in exported} == {""}
    # The secretariat has no portal: it goes to the cases awaiting states.
    client.cookies.clear()
    sign_in(client, "analyst")
    assert client.get("/clarifications").headers["location"] == "/cases?status=awaiting_state"
    assert client.get(f"/clarifications/{world.fra_deu_cwc}").headers["location"] == (
        f"/cases/{world.fra_deu_cwc}"
    )


def test_request_answer_close_and_reopen(client: TestClient, world: World) -> None:
    case_url = f"/cases/{world.fra_deu_cwc}"
    csrf = sign_in(client, "analyst")
    asked = client.post(
        f"{case_url}/request",
        data={"csrf": csrf, "states": "FRA", "message": "Please explain the 35 t difference."},
    )
    assert asked.status_code == 303 and asked.headers["location"] == case_url
    page = client.get(case_url).text
    assert "Clarification requested from FRA." in page
    assert re.search(r'id="case-awaiting">France<', page)
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "awaiting_state"

    client.cookies.clear()
    fra = sign_in(client, "fra-submitter")
    dashboard = client.get("/").text
    assert re.search(r'id="requests-notice".*?awaiting your answer: 1<', dashboard, re.S)
    portal = client.get("/clarifications").text
    awaiting = re.search(r'id="awaiting-list".*?</ul>', portal, re.S)
    assert awaiting and world.fra_deu_cwc in awaiting.group(0)
    assert world.fra_deu_att not in awaiting.group(0)
    assert re.search(rf'<tr data-case="{world.fra_deu_cwc}"[^>]*class="request-open"', portal)
    detail = client.get(f"/clarifications/{world.fra_deu_cwc}")
    assert "Please explain the 35 t difference." in detail.text
    assert f'href="/declarations/{world.fra_adnd}/edit"' in detail.text
    assert "Amend the declaration" in detail.text
    assert 'id="answer-form"' in detail.text
    answered = client.post(
        f"/clarifications/{world.fra_deu_cwc}/answer",
        data={"csrf": fra, "explanation": "Part of the shipment left in January."},
    )
    assert answered.status_code == 303
    after = client.get(f"/clarifications/{world.fra_deu_cwc}").text
    assert "Your answer is sent to the secretariat." in after
    assert 'id="answer-form"' not in after
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "answered"
    assert 'id="requests-notice"' not in client.get("/").text

    client.cookies.clear()
    csrf = sign_in(client, "analyst")
    page = client.get(case_url).text
    assert "Part of the shipment left in January." in page
    assert re.search(r'class="badge case-answered">Answered<', page)
    closed = client.post(
        f"{case_url}/close", data={"csrf": csrf, "reason": "explained", "note": "Timing."}
    )
    assert closed.status_code == 303
    page = client.get(case_url).text
    assert re.search(r'id="case-closure">Explained by the state', page)
    assert 'id="reopen-form"' in page and 'id="close-form"' not in page
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "closed"
    reopened = client.post(f"{case_url}/reopen", data={"csrf": csrf, "note": "New figures."})
    assert reopened.status_code == 303
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "open"
    assigned = client.post(f"{case_url}/assign", data={"csrf": csrf, "assignee": "analyst"})
    assert assigned.status_code == 303
    assert re.search(r'id="case-assignee">analyst<', client.get(case_url).text)
    assert 'data-total="1"' in client.get("/cases?assignee=analyst").text


def test_refused_actions_are_shown_with_the_form_as_sent(client: TestClient, world: World) -> None:
    case_url = f"/cases/{world.fra_deu_cwc}"
    csrf = sign_in(client, "analyst")
    empty = client.post(f"{case_url}/request", data={"csrf": csrf, "states": "DEU", "message": " "})
    assert empty.status_code == 400
    assert_clean_html(empty)
    assert 'id="request-error"' in empty.text and "cannot be empty" in empty.text
    assert re.search(r'value="DEU"\s+checked', empty.text)
    assert not re.search(r'value="FRA"\s+checked', empty.text)
    stranger = client.post(
        f"{case_url}/request", data={"csrf": csrf, "states": "CHN", "message": "Explain."}
    )
    assert stranger.status_code == 400
    assert "not a state this case concerns" in stranger.text
    assert ">Explain.</textarea>" in stranger.text
    no_reason = client.post(f"{case_url}/close", data={"csrf": csrf, "note": "kept note"})
    assert no_reason.status_code == 400
    assert 'id="close-error"' in no_reason.text and ">kept note</textarea>" in no_reason.text
    other = client.post(f"{case_url}/close", data={"csrf": csrf, "reason": "other"})
    assert other.status_code == 400 and re.search(r'value="other"\s+selected', other.text)
    not_an_analyst = client.post(
        f"{case_url}/assign", data={"csrf": csrf, "assignee": "fra-submitter"}
    )
    assert not_an_analyst.status_code == 400
    assert 'value="fra-submitter"' in not_an_analyst.text
    nobody = client.post(f"{case_url}/assign", data={"csrf": csrf, "assignee": "nobody"})
    assert nobody.status_code == 404 and 'id="assign-error"' in nobody.text
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "open"
    assert (
        client.post(f"{case_url}/close", data={"csrf": csrf, "reason": "duplicate"}).status_code
        == 303
    )
    twice = client.post(f"{case_url}/close", data={"csrf": csrf, "reason": "duplicate"})
    assert twice.status_code == 409 and 'id="close-error"' in twice.text
    asked_closed = client.post(
        f"{case_url}/request", data={"csrf": csrf, "states": "FRA", "message": "Explain."}
    )
    assert asked_closed.status_code == 409 and "reopen it" in asked_closed.text
    not_closed = client.post(f"/cases/{world.fra_deu_att}/reopen", data={"csrf": csrf, "note": "x"})
    assert not_closed.status_code == 409 and 'id="reopen-error"' in not_closed.text

    client.cookies.clear()
    fra = sign_in(client, "fra-submitter")
    unasked = client.post(
        f"/clarifications/{world.fra_deu_att}/answer", data={"csrf": fra, "explanation": "Hm."}
    )
    assert unasked.status_code == 409 and 'id="answer-error"' in unasked.text
    foreign = client.post(
        f"/clarifications/{world.chn_deu_cwc}/answer", data={"csrf": fra, "explanation": "Hm."}
    )
    assert foreign.status_code == 404
    client.cookies.clear()
    viewer = sign_in(client, "fra-viewer")
    refused = client.post(
        f"/clarifications/{world.fra_deu_cwc}/answer", data={"csrf": viewer, "explanation": "x"}
    )
    assert refused.status_code == 403


def test_an_empty_answer_keeps_nothing_and_says_so(client: TestClient, world: World) -> None:
    csrf = sign_in(client, "analyst")
    client.post(
        f"/cases/{world.fra_deu_att}/request",
        data={"csrf": csrf, "states": ["FRA", "DEU"], "message": "Explain."},
    )
    assert status_of(world.ctx, world.analyst, world.fra_deu_att) == "awaiting_state"
    client.cookies.clear()
    fra = sign_in(client, "fra-submitter")
    blank = client.post(
        f"/clarifications/{world.fra_deu_att}/answer", data={"csrf": fra, "explanation": "  "}
    )
    assert blank.status_code == 400 and 'id="answer-error"' in blank.text
    assert 'id="answer-form"' in blank.text
    client.post(
        f"/clarifications/{world.fra_deu_att}/answer", data={"csrf": fra, "explanation": "Ok."}
    )
    # Germany has not answered yet: the case still awaits a state.
    detail = case_detail(world.ctx, actor=world.analyst, case_id=world.fra_deu_att)
    assert detail.status == "awaiting_state" and detail.awaiting == ["DEU"]


def test_forms_refuse_a_missing_csrf_token(client: TestClient, world: World) -> None:
    sign_in(client, "analyst")
    case_url = f"/cases/{world.fra_deu_cwc}"
    for path, data in (
        (f"{case_url}/request", {"states": "FRA", "message": "Explain."}),
        (f"{case_url}/close", {"reason": "explained"}),
        (f"{case_url}/assign", {"assignee": "analyst"}),
        ("/cases/refresh", {}),
    ):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf": "forged"}).status_code == 403, path
    detail = case_detail(world.ctx, actor=world.analyst, case_id=world.fra_deu_cwc)
    assert detail.status == "open" and detail.assignee is None and len(detail.events) == 1
    client.cookies.clear()
    sign_in(client, "fra-submitter")
    answer = client.post(f"/clarifications/{world.fra_deu_cwc}/answer", data={"explanation": "x"})
    assert answer.status_code == 403


def test_rerunning_the_checks_reports_what_changed(client: TestClient, world: World) -> None:
    csrf = sign_in(client, "analyst")
    unchanged = client.post("/cases/refresh", data={"csrf": csrf})
    assert unchanged.status_code == 303 and unchanged.headers["location"] == "/cases"
    assert "0 cases opened" in client.get("/cases").text
    # Germany amends its declaration to agree with France: the CWC case is resolved.
    deu = actor_for(world.ctx, "deu-submitter")
    assert deu is not None
    submit(
        world.ctx,
        deu,
        {
            **adnd("DEU", line("import", "FRA", "40"), line("import", "CHN", "50")),
            "id": world.deu_adnd,
        },
    )
    rerun = client.post("/cases/refresh", data={"csrf": csrf, "regime": "cwc", "year": str(PERIOD)})
    assert rerun.status_code == 303
    shown = client.get("/cases").text
    assert "0 cases opened" in shown and "2 resolved" in shown
    assert status_of(world.ctx, world.analyst, world.fra_deu_cwc) == "closed"
    wrong_year = client.post("/cases/refresh", data={"csrf": csrf, "year": "last"})
    assert wrong_year.status_code == 400 and 'id="refresh-error"' in wrong_year.text
    assert 'value="last"' in wrong_year.text
    unknown = client.post("/cases/refresh", data={"csrf": csrf, "regime": "nope"})
    assert unknown.status_code == 404 and 'id="refresh-error"' in unknown.text


def test_pages_speak_chinese_and_arabic(client: TestClient, world: World) -> None:
    csrf = sign_in(client, "analyst")
    client.post("/language", data={"lang": "zh", "csrf": csrf, "next": "/analysis"})
    page = client.get("/analysis").text
    assert '<html lang="zh" dir="ltr">' in page
    assert "申报参与情况" in page and "差异案例" in client.get("/cases").text
    assert any(s["label"] == "按时" for s in chart(page, "participation-chart")["series"])
    # Transfer findings are told in the reader's language, from their figures.
    assert "法国申报出口40,000 千克；德国申报进口5,000 千克；相差35,000 千克。" in page
    chinese = client.get(f"/cases/{world.fra_deu_cwc}").text
    assert "法国 → 德国, 75-44-5" in chinese and "阈值为30,000 千克。" in chinese
    client.post("/language", data={"lang": "ar", "csrf": csrf, "next": "/cases"})
    arabic = client.get(f"/cases/{world.fra_deu_cwc}")
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "أعلنت فرنسا تصدير 40,000 كغ" in arabic.text
    client.cookies.clear()
    fra = sign_in(client, "fra-submitter")
    client.post("/language", data={"lang": "zh", "csrf": fra, "next": "/clarifications"})
    assert "澄清" in client.get("/clarifications").text
    own = client.get(f"/clarifications/{world.fra_deu_cwc}").text
    assert "贵国" in own and "向德国出口75-44-5 40,000 千克" in own
    assert "5,000" not in own  # the partner's figure stays with the secretariat


def test_an_empty_system_shows_empty_charts_and_tables(client: TestClient, ctx: Context) -> None:
    make_user(ctx, "analyst", Role.ANALYST)
    sign_in(client, "analyst")
    response = client.get("/analysis")
    assert response.status_code == 200
    assert chart(response.text, "discrepancy-chart")["labels"] == []
    assert "No declarations yet." in response.text and "No discrepancies found." in response.text
    assert 'data-total="0"' in response.text and "0 facilities" in response.text
    assert client.get("/analysis/facilities.json").json() == []
    assert csv_rows(client.get("/analysis/reconciliation.csv")) == []
    cases = client.get("/cases")
    assert cases.status_code == 200 and "No case matches these filters." in cases.text
