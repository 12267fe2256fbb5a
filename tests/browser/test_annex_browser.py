"""Confidential annexes in a real browser: another state reads around them, the owner reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from factories import annexed
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_reclassify
from veritrail.regimes.model import Classification

pytestmark = pytest.mark.browser

PERIOD = datetime.now(UTC).year - 1
SECRET = "ANNEX-SECRET-BROWSER"
SignIn = Callable[[Page, str], None]


def test_another_state_sees_the_public_declaration_with_its_annex_withheld(
    page: Page, users: Any, sign_in: SignIn, ctx: Context
) -> None:
    owner = users.national("FRA")
    declaration = users.submit(owner, annexed("bwc", "form_a2", "FRA", PERIOD, secret=SECRET))
    do_reclassify(
        ctx,
        actor=OPERATOR,
        declaration_id=declaration,
        classification=Classification.PUBLIC,
        reason="France publishes its confidence-building measures",
    )

    sign_in(page, users.national("DEU", Role.NA_VIEWER))
    page.goto(f"/declarations/{declaration}")
    expect(page.locator("h1")).to_contain_text("Form A, part 2")
    expect(page.locator("#content-programme")).to_be_visible()
    expect(page.locator("#withheld-facilities")).to_have_text(
        "This annex is withheld: it is classified Protected, beyond what you may read."
    )
    expect(page.locator("#content-facilities .annex-classification")).to_have_text(
        "Confidential annex: Protected"
    )
    assert SECRET not in page.content()
    version = page.request.get(f"/api/declarations/{declaration}/versions/1")
    assert version.ok and SECRET not in version.text()
    assert version.json()["data"]["facilities"] == {"withheld": True, "classification": "protected"}
    # Refused before saying whether there is a file at all.
    assert page.request.get(f"/api/declarations/{declaration}/versions/1/original").status == 403
    export = page.request.get(f"/api/declarations/{declaration}/versions/1/export?format=csv")
    assert export.ok and SECRET not in export.text() and "withheld,classification" in export.text()

    page.context.clear_cookies()
    sign_in(page, users.national("FRA", Role.NA_VIEWER))
    page.goto(f"/declarations/{declaration}")
    facilities = page.locator("#content-facilities")
    expect(facilities.locator(".annex-classification")).to_have_text(
        "Confidential annex: Protected"
    )
    expect(page.locator("#withheld-facilities")).to_have_count(0)
    expect(page.locator("table.content").last).to_contain_text(SECRET)
    version = page.request.get(f"/api/declarations/{declaration}/versions/1")
    assert version.ok and SECRET in version.text()
