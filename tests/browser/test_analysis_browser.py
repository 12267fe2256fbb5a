"""The analysis dashboard and a clarification round trip in a real browser.

France declares exporting 40 t of phosgene to Germany, which declares importing
5 t; the checks open a case. The charts and the map must be drawn (not just
present), from this site alone; then an analyst asks France, the French
submitter answers in the portal, and the analyst sees the case answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from veritrail.access import OPERATOR
from veritrail.actions import Context
from veritrail.actions.accounts import do_add_facilities
from veritrail.actions.cases import do_refresh_cases
from veritrail.queries.accounts import actor_for
from veritrail.queries.cases import list_cases
from veritrail.store.models import Facility

pytestmark = pytest.mark.browser
PERIOD = datetime.now(UTC).year - 1
SignIn = Callable[[Page, str], None]
SITES = [
    ("F-FRA-1", "FRA", "Usine de Lyon", "cwc", 45.76, 4.84),
    ("F-DEU-1", "DEU", "Werk Leverkusen", "cwc", 51.03, 6.98),
    ("F-CHN-1", "CHN", "上海化工厂", "cwc", 31.23, 121.47),
    ("F-BRA-1", "BRA", "Laboratório Campinas", "bwc", -22.9, -47.06),
]

# Whether a canvas holds any painted pixel.
PAINTED = """canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
  return false;
}"""


def adnd(state: str, activity: str, partner: str, tonnes: str) -> dict[str, Any]:
    return {
        "regime": "cwc",
        "type": "adnd",
        "state": state,
        "period": PERIOD,
        "data": {
            "lines": [
                {
                    "cas": "75-44-5",
                    "activity": activity,
                    "partner_state": partner,
                    "quantity": tonnes,
                    "unit": "t",
                }
            ]
        },
    }


@pytest.fixture
def case_id(ctx: Context, users: Any) -> str:
    """The case the checks open on France's and Germany's planted difference."""
    analyst = actor_for(ctx, users.analyst())
    assert analyst is not None
    users.submit(users.national("FRA"), adnd("FRA", "export", "DEU", "40"))
    users.submit(users.national("DEU"), adnd("DEU", "import", "FRA", "5"))
    do_add_facilities(
        ctx,
        actor=OPERATOR,
        facilities=[
            Facility(
                id=id_,
                state=state,
                name=name,
                kind="chemical",
                regime=regime,
                latitude=lat,
                longitude=lon,
                operator=None,
            )
            for id_, state, name, regime, lat, lon in SITES
        ],
    )
    assert do_refresh_cases(ctx, actor=analyst).opened == 1
    cases, _ = list_cases(ctx, actor=analyst)
    return cases[0].id


def test_the_dashboard_draws_its_charts_and_map_from_this_site(
    page: Page, case_id: str, sign_in: SignIn, live_server: str
) -> None:
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith((live_server, "data:")):
            elsewhere.append(request.url)

    page.on("request", watch)
    sign_in(page, "analyst")
    page.get_by_role("link", name="Analysis").click()
    page.wait_for_url("**/analysis")
    for canvas_id in ("participation-chart", "discrepancy-chart"):
        canvas = page.locator(f"#{canvas_id}")
        expect(canvas).to_have_attribute("data-drawn", "true")
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 150
        assert canvas.evaluate(PAINTED), f"{canvas_id} is blank"
    expect(page.locator("#discrepancy-table tbody tr")).to_have_count(1)

    figures = page.locator("#facility-map")
    expect(figures).to_have_attribute("data-drawn", "true")
    countries = page.locator("#facility-map path.country")
    assert countries.count() > 100  # the world atlas at 1:110m has 177 countries
    assert int(figures.get_attribute("data-countries") or 0) == countries.count()
    markers = page.locator("#facility-map path.facility-marker")
    expect(markers).to_have_count(len(SITES))
    expect(page.locator("#facility-map .leaflet-tile")).to_have_count(0)
    expect(page.locator("#facility-map .map-legend li")).to_have_count(2)
    page.locator('#facility-map path.facility-marker[data-id="F-CHN-1"]').click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("上海化工厂")
    expect(popup).to_contain_text("China (CHN)")
    expect(popup).to_contain_text("Chemical Weapons Convention")
    assert not elsewhere, elsewhere

    # The findings table and its filter work without JavaScript's help.
    expect(page.locator("#finding-list tbody tr")).to_have_count(1)
    page.locator("#filter-kind").select_option("missing_import")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#finding-count")).to_have_attribute("data-total", "0")


def test_a_clarification_goes_to_the_state_and_comes_back_answered(
    page: Page, case_id: str, sign_in: SignIn
) -> None:
    sign_in(page, "analyst")
    page.get_by_role("link", name="Cases").click()
    page.wait_for_url("**/cases")
    page.locator(f'#case-list tr[data-case="{case_id}"] a').first.click()
    page.wait_for_url(f"**/cases/{case_id}")
    expect(page.locator("#case-figures")).to_contain_text("40,000 kg")
    expect(page.locator("#case-figures")).to_contain_text("5,000 kg")
    form = page.locator("#request-form")
    form.get_by_label("Germany").uncheck()
    form.get_by_label("Message to the states").fill("Please explain the difference of 35 t.")
    form.get_by_role("button", name="Send the request").click()
    expect(page.locator(".flash")).to_contain_text("Clarification requested from FRA.")
    expect(page.locator("#case-awaiting")).to_have_text("France")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "fra-na_submitter")
    page.get_by_role("link", name="Clarifications", exact=True).click()
    page.wait_for_url("**/clarifications")
    request = page.locator(f'#awaiting-list li[data-case="{case_id}"]')
    expect(request).to_be_visible()
    expect(page.locator(f'#case-list tr[data-case="{case_id}"]')).to_have_class("request-open")
    request.get_by_role("link").click()
    page.wait_for_url(f"**/clarifications/{case_id}")
    expect(page.locator("#request-notice")).to_contain_text(
        "Please explain the difference of 35 t."
    )
    expect(page.locator("#own-figure")).to_contain_text("40,000 kg")
    expect(page.locator("#own-figure")).not_to_contain_text("5,000")
    amend = page.get_by_role("link", name=re.compile("Amend the declaration"))
    expect(amend).to_have_attribute("href", re.compile(r"^/declarations/D-[0-9A-F]{16}/edit$"))
    page.get_by_label("Explanation").fill("Part of the shipment left in January of the next year.")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator(".flash")).to_contain_text("Your answer is sent to the secretariat.")
    expect(page.locator("#answer-form")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "analyst")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("h1 + .meta .badge")).to_have_text("Answered")
    expect(page.locator('#case-history li[data-kind="explained"]')).to_contain_text(
        "Part of the shipment left in January"
    )
    page.goto("/cases?status=answered")
    expect(page.locator(f'#case-list tr[data-case="{case_id}"]')).to_have_attribute(
        "data-status", "answered"
    )
