"""The public Verify page in a real browser: a receipt from the log, checked in plain words."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from veritrail.actions import Context
from veritrail.store.models import DeclarationVersion

pytestmark = pytest.mark.browser

PERIOD = datetime.now(UTC).year - 1
SignIn = Callable[[Page, str], None]


def _declaration(state: str) -> dict[str, Any]:
    line = {"cas": "756-79-6", "activity": "production", "quantity": "12.5", "unit": "kg"}
    return {
        "regime": "cwc",
        "type": "adnd",
        "state": state,
        "period": PERIOD,
        "data": {"lines": [line]},
    }


def _check(page: Page, receipt: Path, document: Path | None = None) -> None:
    page.goto("/verify")
    page.set_input_files("#verify-receipt", str(receipt))
    page.set_input_files("#verify-document", str(document) if document else [])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict")).to_be_visible()


def test_receipts_are_checked_in_plain_words(
    page: Page, users: Any, ctx: Context, tmp_path: Path, sign_in: SignIn
) -> None:
    username = users.national("FRA")
    declaration_id = users.submit(username, _declaration("FRA"))
    with ctx.sessions() as session:
        canonical = session.scalars(
            select(DeclarationVersion.document_json).where(
                DeclarationVersion.declaration_id == declaration_id
            )
        ).one()
    document = tmp_path / "declaration.json"
    document.write_text(canonical, encoding="utf-8")

    # Signed out: the navigation offers the page, and the public log hands out the receipt.
    page.goto("/verify")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Verify")).to_have_attribute("aria-current", "page")
    expect(page.locator("#log-origin")).to_have_text("localhost/veritrail")
    expect(page.locator("#log-vkey")).to_contain_text("localhost/veritrail+")
    expect(page.locator("#log-checkpoint")).to_contain_text("localhost/veritrail\n")
    response = page.request.get(f"/api/log/records/declaration/{declaration_id}/receipt")
    assert response.ok, response.text()
    receipt_data = response.json()
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(receipt_data), encoding="utf-8")

    _check(page, receipt)
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-result", "genuine")
    expect(verdict.get_by_role("heading")).to_have_text("This receipt is genuine.")
    expect(page.locator("#verdict-entry")).to_contain_text(
        f"commits declaration {declaration_id} version 1, submitted by na-FRA on"
    )
    expect(verdict).to_contain_text("No document was given")

    _check(page, receipt, document)
    expect(page.locator("#verdict-document")).to_have_text(
        "The document you gave matches its content hash."
    )

    other = tmp_path / "other.json"
    other.write_text(canonical.replace('"12.5"', '"13"'), encoding="utf-8")
    _check(page, receipt, other)
    expect(verdict).to_have_attribute("data-result", "document")
    expect(verdict.get_by_role("heading")).to_have_text(
        "This receipt is genuine, but the document you gave does not match it."
    )

    # A receipt whose entry was altered: the proof no longer leads to the signed root.
    entry = base64.b64decode(receipt_data["entry"]).replace(b'"version":1', b'"version":7')
    tampered = tmp_path / "tampered.json"
    tampered.write_text(
        json.dumps({**receipt_data, "entry": base64.b64encode(entry).decode()}), encoding="utf-8"
    )
    _check(page, tampered, document)
    expect(verdict).to_have_attribute("data-result", "proof")
    expect(verdict.get_by_role("heading")).to_have_text(
        "The proof does not lead to the signed root."
    )
    verdict.get_by_text("Technical details").click()
    expect(verdict).to_contain_text("does not lead to the root")

    # A file over the receipt limit is refused before it is sent, with the page's words.
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (1024 * 1024 + 1))
    page.set_input_files("#verify-receipt", str(huge))
    message = page.locator("#verify-receipt").evaluate("input => input.validationMessage")
    assert "it is not a receipt" in message

    # Signed in, the page is in the main navigation too.
    sign_in(page, username)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/verify$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a receipt")
