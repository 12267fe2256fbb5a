"""A live Veritrail server and headless Chromium for the browser tests.

Each test gets a server on a free 127.0.0.1 port, over the migrated empty
database of the ``settings``/``ctx`` fixtures (SQLite, and PostgreSQL when
configured), and a fresh browser context. A test fails when the page logs a
console error, throws, violates the CSP or loads a sub-resource that fails.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)

from factories import enrol_if_needed, totp_code
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import do_create_organisation, do_create_user
from veritrail.declarations.document import ParsedDeclaration
from veritrail.queries.accounts import actor_for
from veritrail.server import create_app
from veritrail.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PASSWORD = "browser-test-password"
PERIOD = datetime.now(UTC).year - 1


@dataclass
class Users:
    """Creates organisations and users on demand: ``users.national("FRA")``."""

    ctx: Context
    made: set[str] = field(default_factory=set)

    def _organisation(self, id: str, kind: str, state: str | None = None) -> None:
        if id not in self.made:
            do_create_organisation(
                self.ctx,
                actor=OPERATOR,
                id=id,
                kind=kind,
                name=f"{kind} {state or ''}".strip(),
                state=state,
            )
            self.made.add(id)

    def national(self, state: str, role: Role = Role.NA_SUBMITTER) -> str:
        self._organisation(f"na-{state}", "national_authority", state)
        username = f"{state.lower()}-{role.value}"
        do_create_user(
            self.ctx,
            actor=OPERATOR,
            username=username,
            password=PASSWORD,
            role=role,
            organisation_id=f"na-{state}",
        )
        enrol_if_needed(self.ctx, username, role)
        return username

    def submit(self, username: str, document: dict[str, Any]) -> str:
        """Store a declaration as ``username``, early enough to count as on time."""
        actor = actor_for(self.ctx, username)
        assert actor is not None
        moment = min(datetime.now(UTC), datetime(PERIOD + 1, 1, 2, 12, tzinfo=UTC))
        return do_submit_declaration(
            self.ctx, actor=actor, parsed=ParsedDeclaration(document, "json"), now=moment
        ).id

    def analyst(self) -> str:
        self._organisation("secretariat", "secretariat")
        do_create_user(
            self.ctx,
            actor=OPERATOR,
            username="analyst",
            password=PASSWORD,
            role=Role.ANALYST,
            organisation_id="secretariat",
        )
        enrol_if_needed(self.ctx, "analyst", Role.ANALYST)
        return "analyst"


@pytest.fixture
def users(ctx: Context) -> Users:
    return Users(ctx)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(settings: Settings, ctx: Context) -> Iterator[str]:
    """The app served by uvicorn in a background thread; yields its base URL."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, ctx), log_level="warning", access_log=False, ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Problems:
    """What went wrong in the page while a test drove it."""

    items: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        # A page answered with an error status (a 404 page, a form sent back with
        # its errors as 422) is logged by Chromium as a failed load; sub-resources
        # that fail are caught by ``response`` below instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.items.append(f"console: {message.text}")

    def response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.items.append(
                f"{response.status} for {response.request.resource_type} {response.url}"
            )


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh browser context; fails the test on any console error."""
    context = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = Problems()
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.items.append(f"page error: {error}"))
    page.on("response", problems.response)
    yield page
    context.close()
    assert not problems.items, "\n".join(problems.items)


def _sign_in(page: Page, ctx: Context, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url or "/login/code" in url)
    if "/login/code" in page.url:
        page.get_by_label("Code").fill(totp_code(ctx, username))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def sign_in(ctx: Context) -> Callable[[Page, str], None]:
    """``sign_in(page, username)`` through the sign-in form, and the TOTP step if asked."""
    return lambda page, username: _sign_in(page, ctx, username)
