"""The web interface in a real browser: forms, uploads, diffs, the overview, languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from veritrail.access import OPERATOR
from veritrail.actions import Context, do_reclassify
from veritrail.declarations.templates import xlsx_template
from veritrail.regimes.model import Classification

pytestmark = pytest.mark.browser

PERIOD = datetime.now(UTC).year - 1
DMMP = "756-79-6"  # dimethyl methylphosphonate, Schedule 2B
TEA = "102-71-6"  # triethanolamine, Schedule 3B
SignIn = Callable[[Page, str], None]


def adnd(state: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "regime": "cwc",
        "type": "adnd",
        "state": state,
        "period": PERIOD,
        "data": {"lines": lines},
    }


def line(
    cas: str, activity: str, quantity: str, unit: str = "kg", partner: str | None = None
) -> dict[str, Any]:
    row = {"cas": cas, "activity": activity, "quantity": quantity, "unit": unit}
    return row | ({"partner_state": partner} if partner else {})


def test_sign_in_leads_to_the_dashboard(page: Page, users: Any, sign_in: SignIn) -> None:
    username = users.national("FRA")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    sign_in(page, username)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator("#deadlines")).to_contain_text("Chemical Weapons Convention")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("New declaration")


def test_form_shows_errors_next_to_cells_then_submits(
    page: Page, users: Any, sign_in: SignIn
) -> None:
    sign_in(page, users.national("FRA"))
    page.goto(f"/declarations/new?regime=cwc&type=adnd&period={PERIOD}")
    rows = page.locator("#rows-lines tr")
    expect(rows).to_have_count(1)
    page.fill("#f-lines-r0-cas", DMMP)
    page.select_option("#f-lines-r0-activity", "production")
    page.fill("#f-lines-r0-quantity", "-5")
    page.select_option("#f-lines-r0-unit", "kg")
    # Two more rows through htmx; the third is removed again.
    page.get_by_role("button", name="Add row").click()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    second.locator("input[name$='.cas']").fill(TEA)
    second.locator("select[name$='.activity']").select_option("export")
    second.locator("input[name$='.quantity']").fill("40")
    second.locator("select[name$='.unit']").select_option("t")
    page.get_by_role("button", name="Add row").click()
    expect(rows).to_have_count(3)
    rows.nth(2).get_by_role("button", name="Remove row").click()
    expect(rows).to_have_count(2)

    page.get_by_role("button", name="Submit", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("2 errors")
    quantity_cell = page.locator("td:has(#f-lines-r0-quantity)")
    expect(quantity_cell.locator(".field-error")).to_have_text("Quantity: must be at least 0")
    expect(page.locator("#f-lines-r0-quantity")).to_have_attribute("aria-invalid", "true")
    partner_cell = page.locator("td:has(#f-lines-r1-partner_state)")
    expect(partner_cell.locator(".field-error")).to_contain_text("is required")
    # The message sits right under its input, inside the same cell.
    field_box = page.locator("#f-lines-r0-quantity").bounding_box()
    error_box = quantity_cell.locator(".field-error").bounding_box()
    assert field_box and error_box and 0 <= error_box["y"] - field_box["y"] < 80
    summary.get_by_role("link", name=re.compile("must be at least 0")).click()
    expect(page.locator("#f-lines-r0-quantity")).to_be_focused()

    page.fill("#f-lines-r0-quantity", "5")
    page.select_option("#f-lines-r1-partner_state", "DEU")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page).to_have_url(re.compile(r"/declarations/D-[0-9A-F]+$"))
    expect(page.locator(".flash")).to_contain_text("Declaration submitted as version 1.")
    expect(page.locator("table.content")).to_contain_text("Germany")
    expect(page.locator("#versions tbody tr")).to_have_count(1)


def test_xlsx_upload_lists_errors_by_cell(
    page: Page, users: Any, sign_in: SignIn, ctx: Context, tmp_path: Path
) -> None:
    sign_in(page, users.national("FRA"))
    dtype = ctx.registry.declaration_type("cwc", "adnd")
    rows = [line(DMMP, "production", "-1"), line("123-45-6", "import", "3")]
    path = tmp_path / "adnd.xlsx"
    path.write_bytes(
        xlsx_template(
            dtype, ctx.registry, period=PERIOD, state="FRA", prefill={"data": {"lines": rows}}
        )
    )
    page.goto("/declarations/upload")
    expect(page.get_by_role("link", name="XLSX").first).to_have_attribute(
        "href", re.compile(r"^/api/regimes/\w+/types/\w+/template\?format=xlsx")
    )
    page.set_input_files("#upload-file", str(path))
    page.get_by_role("button", name="Check and submit").click()
    errors = page.locator("#upload-errors")
    expect(errors).to_contain_text("nothing was stored")
    quantity = errors.locator("tr", has_text="lines!D2")
    expect(quantity).to_contain_text("must be at least 0")
    expect(errors.locator("tr", has_text="lines!A3")).to_contain_text("not a valid CAS")
    expect(errors.locator("tr", has_text="lines!C3")).to_contain_text("is required")
    page.goto("/declarations")
    expect(page.locator("main")).to_contain_text("No declarations match.")


def test_diff_after_an_amendment(page: Page, users: Any, sign_in: SignIn) -> None:
    username = users.national("FRA")
    declaration = users.submit(
        username, adnd("FRA", [line(DMMP, "production", "100"), line(TEA, "production", "5", "t")])
    )
    sign_in(page, username)
    page.goto(f"/declarations/{declaration}")
    page.get_by_role("link", name="Amend").first.click()
    expect(page.locator("h1")).to_contain_text("Aggregate national data")
    page.fill("#f-lines-r0-quantity", "150")
    page.locator("#row-lines-r1").get_by_role("button", name="Remove row").click()
    page.get_by_role("button", name="Add row").click()
    new_row = page.locator("#rows-lines tr").nth(1)
    new_row.locator("input[name$='.cas']").fill(TEA)
    new_row.locator("select[name$='.activity']").select_option("import")
    new_row.locator("select[name$='.partner_state']").select_option("DEU")
    new_row.locator("input[name$='.quantity']").fill("2")
    new_row.locator("select[name$='.unit']").select_option("t")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Amendment stored as version 2.")
    expect(page.locator("#versions tbody tr")).to_have_count(2)

    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.get_by_role("button", name="Show changes").click()
    expect(page).to_have_url(re.compile(r"/diff\?from=1&to=2$"))
    expect(page.locator("h1")).to_have_text("Changes from version 1 to version 2")
    changed = page.locator("tr.diff-changed td.cell-changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("del")).to_have_text("100")
    expect(changed.locator("ins")).to_have_text("150")
    expect(page.locator("tr.diff-added")).to_contain_text("Germany")
    expect(page.locator("tr.diff-removed")).to_contain_text(TEA)


def test_overview_filters_and_csv(page: Page, users: Any, sign_in: SignIn) -> None:
    france = users.national("FRA")
    users.submit(france, adnd("FRA", [line(DMMP, "production", "100")]))
    sign_in(page, users.analyst())
    expect(page).to_have_url(re.compile(r"/overview$"))
    matrix = page.locator("#status-matrix")
    page.select_option("#filter-regime", "cwc")
    expect(matrix.locator("thead th")).to_have_count(2)
    page.fill("#state-search", "Fran")
    expect(matrix.locator("tbody tr")).to_have_count(1)
    expect(matrix.locator("tbody tr td.cell")).to_have_class(re.compile("status-on_time"))
    expect(page.locator(".count[data-status='on_time']")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"/overview\?.*regime=cwc.*q=Fran"))

    page.select_option("#filter-status", "missing")
    expect(page.locator("#overview-table")).to_contain_text("No state matches these filters.")
    page.fill("#state-search", "")
    expect(matrix.locator("tbody tr").first).to_be_visible()
    expect(matrix.locator("tbody tr[data-state='FRA']")).to_have_count(0)
    expect(matrix.locator("td.status-on_time")).to_have_count(0)
    csv_link = page.locator("#csv-link")
    href = csv_link.get_attribute("href") or ""
    assert href.startswith("/api/status.csv?")
    assert f"period={PERIOD}" in href and "regime=cwc" in href and "status=missing" in href
    csv = page.request.get(href)
    assert csv.ok
    lines = csv.text().lstrip("\ufeff").splitlines()
    assert lines[0].startswith("state,regime,period,status")
    assert len(lines) > 100 and all(",missing," in row for row in lines[1:])


def test_chinese_interface(page: Page, users: Any, sign_in: SignIn) -> None:
    sign_in(page, users.national("CHN"))
    page.select_option("#lang-select", "zh")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作台")
    expect(page.get_by_role("navigation")).to_contain_text("新建申报")
    page.goto(f"/declarations/new?regime=cwc&type=adnd&period={PERIOD}")
    expect(page.locator("legend")).to_have_text("国家总数据")
    expect(page.get_by_role("button", name="提交", exact=True)).to_be_visible()


def test_another_states_declaration_is_not_found(page: Page, users: Any, sign_in: SignIn) -> None:
    german = users.submit(users.national("DEU"), adnd("DEU", [line(DMMP, "production", "9")]))
    do_reclassify(
        users.ctx,
        actor=OPERATOR,
        declaration_id=german,
        classification=Classification.RESTRICTED,
        reason="shared with the secretariat",
    )
    sign_in(page, users.national("FRA"))
    for address in (
        f"/declarations/{german}",
        f"/declarations/{german}/diff?from=1&to=1",
        f"/api/declarations/{german}/versions/1",
    ):
        response = page.goto(address)
        assert response is not None and response.status == 404, address
        expect(page.locator("body")).not_to_contain_text(DMMP)
    page.goto(f"/declarations/{german}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
