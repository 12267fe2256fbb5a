"""Screenshots of the main pages over the demo world, for the README.

Loads the demo into a temporary directory, serves Veritrail on a free local
port and drives Debian's Chromium through Playwright:

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Writes dashboard.png, form-errors.png, diff.png, overview.png, analysis.png and
clarification.png.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from veritrail.access.totp import code_at
from veritrail.actions import Context
from veritrail.demo import DEMO_PASSWORD, load_demo
from veritrail.queries import list_declarations, version_document
from veritrail.queries.accounts import actor_for, second_factor_secret
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.migrate import upgrade

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]


def serve(settings: Settings, ctx: Context) -> tuple[uvicorn.Server, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, ctx), log_level="warning",
                                           ws="none", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def sign_in(page: Page, ctx: Context, username: str) -> None:
    """Password, then the TOTP code the demo account's secret gives now."""
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if page.url.endswith("/login/code"):
        secret = second_factor_secret(ctx, username=username)
        assert secret is not None, f"{username} has no second factor"
        page.get_by_label("Code").fill(code_at(secret, datetime.now(UTC)))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/login" not in url)


def amend_in_browser(page: Page, ctx: Context, username: str) -> str:
    """Amend one of the user's ADND declarations in the form: a changed, a removed, an added row."""
    actor = actor_for(ctx, username)
    assert actor is not None
    found = None
    for declaration in list_declarations(ctx, actor=actor, regime="cwc", type_="adnd"):
        document = version_document(ctx, actor=actor, declaration_id=declaration.id)
        rows = document["data"].get("lines") or []
        if len(rows) >= 3:
            found = declaration.id, rows
            break
    if found is None:
        raise SystemExit(f"the demo holds no ADND declaration of {username} with three lines")
    declaration_id, rows = found
    taken = {(r["cas"], r["activity"]) for r in rows}
    cas = next(r["cas"] for r in rows if (r["cas"], "consumption") not in taken)
    page.goto(f"/declarations/{declaration_id}/edit")
    quantity = page.locator("#f-lines-r0-quantity")
    quantity.fill(str(round(float(quantity.input_value()) * 1.25 + 1, 3)))
    page.locator("#row-lines-r1").get_by_role("button", name="Remove row").click()
    table = page.locator("#rows-lines tr")
    count = table.count()
    page.get_by_role("button", name="Add row").click()
    expect(table).to_have_count(count + 1)
    added = table.last
    added.locator("input[name$='.cas']").fill(cas)
    added.locator("select[name$='.activity']").select_option("consumption")
    added.locator("input[name$='.quantity']").fill("2.5")
    added.locator("select[name$='.unit']").select_option("t")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    if summary.count():
        raise SystemExit("the amendment was refused: " + summary.inner_text())
    page.locator(".flash-success").wait_for()
    return declaration_id


def shoot(out: Path, ctx: Context, base_url: str) -> None:
    year = datetime.now(UTC).year
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900},
                                      device_scale_factor=1, locale="en-GB")
        page = context.new_page()

        sign_in(page, ctx, "fra-submitter")
        page.goto(f"/?period={year - 1}")
        page.screenshot(path=out / "dashboard.png", full_page=True)

        page.goto(f"/declarations/new?regime=cwc&type=adnd&period={year}")
        page.fill("#f-lines-r0-cas", "756-79-6")
        page.select_option("#f-lines-r0-activity", "export")
        page.fill("#f-lines-r0-quantity", "-12")
        page.select_option("#f-lines-r0-unit", "t")
        page.get_by_role("button", name="Add row").click()
        row = page.locator("#rows-lines tr").nth(1)
        row.locator("input[name$='.cas']").fill("102-71-7")
        row.locator("select[name$='.activity']").select_option("production")
        row.locator("input[name$='.quantity']").fill("1,5 t")
        page.get_by_role("button", name="Validate").click()
        page.locator("#error-summary").wait_for()
        page.screenshot(path=out / "form-errors.png", full_page=True)

        declaration = amend_in_browser(page, ctx, "fra-submitter")
        page.goto(f"/declarations/{declaration}/diff")
        page.screenshot(path=out / "diff.png", full_page=True)

        sign_in(page, ctx, "analyst")

        page.goto(f"/overview?period={year - 1}")
        page.screenshot(path=out / "overview.png")

        page.goto("/analysis")
        page.locator("#facility-map path").first.wait_for()
        page.wait_for_timeout(800)  # the charts' animation
        page.screenshot(path=out / "analysis.png", full_page=False)

        sign_in(page, ctx, "chn-submitter")
        page.goto("/clarifications")
        page.locator("a[href^='/clarifications/c-']").first.click()
        page.screenshot(path=out / "clarification.png", full_page=True)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="veritrail-shots-") as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/veritrail.sqlite3")
        ctx = Context.from_settings(settings)
        upgrade(ctx.engine)
        started = time.monotonic()
        load_demo(ctx)
        print(f"demo loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
        server, base_url = serve(settings, ctx)
        try:
            shoot(args.out, ctx, base_url)
        finally:
            server.should_exit = True
            ctx.close()
    for name in ("dashboard", "form-errors", "diff", "overview", "analysis", "clarification"):
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
