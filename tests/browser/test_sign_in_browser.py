"""Signing in through a real browser: the TOTP step, enrolment and the lock-out."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from factories import totp_code
from veritrail.access import OPERATOR
from veritrail.actions import Context
from veritrail.actions.login import MAX_FAILURES, do_set_totp_secret

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"  # noqa: S105 - the users fixture's (conftest.PASSWORD)


def fill_password(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_with_a_totp_code(page: Page, users: Any, ctx: Context) -> None:
    username = users.analyst()
    page.goto("/overview")
    expect(page).to_have_url(re.compile(r"/login\?next=/overview$"))
    fill_password(page, username)
    expect(page).to_have_url(re.compile(r"/login/code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Authentication code")

    page.get_by_label("Code").fill("000000" if totp_code(ctx, username) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid, or was used already")

    page.get_by_label("Code").fill(totp_code(ctx, username))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/overview$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_enrolment_shows_a_qr_code_and_signs_in(page: Page, users: Any, ctx: Context) -> None:
    username = users.national("FRA")
    do_set_totp_secret(ctx, actor=OPERATOR, username=username, secret=None)
    page.goto("/login")
    fill_password(page, username)
    expect(page).to_have_url(re.compile(r"/login/enrol$"))
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    href = page.locator("#totp-uri").get_attribute("href")
    assert href is not None and f"secret={secret}" in href
    page.get_by_label("Code shown by the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")


def test_lock_out_is_shown_after_five_failures(page: Page, users: Any, ctx: Context) -> None:
    username = users.national("FRA")
    page.goto("/login")
    for _ in range(MAX_FAILURES - 1):
        fill_password(page, username, "not the password")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    fill_password(page, username, "not the password")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This account is locked after too many failed sign-in attempts")
    expect(alert).to_contain_text(re.compile(r"Try again after \d{4}-\d\d-\d\d \d\d:\d\d UTC"))

    # The right password does not open a locked account either.
    fill_password(page, username)
    expect(page.get_by_role("alert")).to_contain_text("locked")
    expect(page).to_have_url(re.compile(r"/login$"))
