"""Search and the archive in a real browser, over five real United Nations documents in Chinese.

The documents go in with ``do_import_document`` before the page opens; the
upload test runs the import worker the server runs in production.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from corpus import MISSING, UN_ZH
from veritrail.actions import Context
from veritrail.actions.archive import do_import_document
from veritrail.actions.archive_jobs import IMPORT_JOB, import_handler
from veritrail.jobs.worker import Worker
from veritrail.queries.accounts import actor_for
from veritrail.regimes.model import Classification

pytestmark = pytest.mark.browser

CORPUS = UN_ZH
LETTER = "000_9a1c450181c83972.txt"  # A/75/649–S/2020/1197, on the OPCW
SignIn = Callable[[Page, str], None]


@pytest.fixture
def corpus(ctx: Context, users: Any) -> dict[str, str]:
    """The five documents, public, imported by the analyst: file name → document id."""
    files = sorted(CORPUS.glob("*.txt"))
    if len(files) != 5:
        pytest.skip(MISSING)
    analyst = actor_for(ctx, users.analyst())
    assert analyst is not None
    return {
        path.name: do_import_document(
            ctx,
            actor=analyst,
            data=path.read_bytes(),
            filename=path.name,
            classification=Classification.PUBLIC,
        ).id
        for path in files
    }


@pytest.fixture
def worker(ctx: Context) -> Iterator[Worker]:
    """The job worker the server starts with its lifespan (the test server runs without)."""
    running = Worker(
        ctx.sessions,
        {IMPORT_JOB: import_handler(ctx, functools.partial(actor_for, ctx))},
        interval=0.1,
    )
    running.start()
    yield running
    running.stop()


def _search_from_header(page: Page, query: str) -> None:
    box = page.get_by_role("search").get_by_label("Search", exact=True)
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.locator("#result-count")).to_be_visible()


def _total(page: Page) -> int:
    return int(page.locator("#result-count").get_attribute("data-total") or "-1")


def test_a_chinese_query_finds_highlights_narrows_and_opens_documents(
    page: Page, corpus: dict[str, str], sign_in: SignIn, tmp_path: Path
) -> None:
    sign_in(page, "analyst")
    _search_from_header(page, "化学武器")
    expect(page.locator("#search-q")).to_have_value("化学武器")
    total = _total(page)
    assert total >= 2
    results = page.locator("#results > li.result")
    expect(results.first.locator(".snippet mark").first).to_be_visible()
    expect(results.first.locator(".snippet")).to_have_attribute("dir", "auto")

    # A facet with fewer documents than the whole narrows the list to its count.
    options = page.locator("#facets .facet > ul a.facet-option")
    counts = [int(c) for c in options.locator(".count").all_inner_texts()]
    narrower = next(i for i, c in enumerate(counts) if c < total)
    option = options.nth(narrower)
    expected = counts[narrower]
    option.click()
    expect(page.locator("#result-count")).to_have_attribute("data-total", str(expected))
    expect(page.locator("#selected-filters .chip")).to_have_count(1)
    expect(results).to_have_count(min(expected, 10))
    page.locator("#selected-filters .chip-remove").click()
    expect(page.locator("#result-count")).to_have_attribute("data-total", str(total))

    # The letter on the OPCW: highlights, and the symbols found in it.
    letter = page.locator("#results > li.result", has_text=LETTER)
    letter.locator(".result-title a").click()
    page.wait_for_url(re.compile(rf"/archive/{corpus[LETTER]}\?q="))
    expect(page.locator("#document-text mark").first).to_be_visible()
    expect(page.locator("#document-text mark").first).to_have_text(re.compile("化学武器"))
    expect(page.locator("#document-languages")).to_have_text("中文")
    symbols = page.locator('#mentions [data-kind="symbols"]')
    expect(symbols.get_by_role("link", name="S/2020/1197", exact=True)).to_be_visible()

    with page.expect_download() as download:
        page.locator("#download-original").click()
    saved = tmp_path / "original.txt"
    download.value.save_as(saved)
    assert saved.read_bytes() == (CORPUS / LETTER).read_bytes()
    assert download.value.suggested_filename == LETTER

    symbols.get_by_role("link", name="S/2020/1197", exact=True).click()
    page.wait_for_url(re.compile(r"/search\?q=symbol"))
    expect(page.locator("#search-q")).to_have_value("symbol:S/2020/1197")
    expect(page.locator("#results > li.result").first).to_have_attribute("data-id", corpus[LETTER])


def test_traditional_characters_find_what_simplified_ones_find(
    page: Page, corpus: dict[str, str], sign_in: SignIn
) -> None:
    sign_in(page, "analyst")
    _search_from_header(page, "禁止化学武器组织")
    simplified = _total(page)
    first = page.locator("#results > li.result").first.get_attribute("data-id")
    assert simplified >= 1 and first in corpus.values()

    _search_from_header(page, "禁止化學武器組織")
    assert _total(page) == simplified
    expect(page.locator("#results > li.result").first).to_have_attribute("data-id", first or "")
    expect(page.locator("#results .snippet mark").first).to_be_visible()


def test_a_query_that_does_not_parse_is_marked_and_can_be_corrected(
    page: Page, corpus: dict[str, str], sign_in: SignIn
) -> None:
    sign_in(page, "analyst")
    page.goto("/search")
    box = page.locator("#search-q")
    box.fill('"化学武器')
    box.press("Enter")
    error = page.locator("#query-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The query cannot be read: ")
    expect(error.locator(".query-fault mark")).to_have_text('"')  # the quote never closed
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill('"化学武器"')
    box.press("Enter")
    expect(page.locator("#query-error")).to_have_count(0)
    assert _total(page) >= 1


def test_an_upload_is_followed_until_each_file_is_imported_or_refused(
    page: Page, users: Any, sign_in: SignIn, tmp_path: Path, worker: Worker
) -> None:
    good = tmp_path / "minutes.txt"
    good.write_text("Minutes of the verification working group: sampling and chain of custody.")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis file stops here")
    sign_in(page, users.analyst())
    page.goto("/search")
    page.locator("#archive-upload-link").click()
    page.wait_for_url("**/archive/upload")
    expect(page.locator("#archive-classification")).to_have_value("restricted")
    page.set_input_files("#archive-files", [str(good), str(broken)])
    page.get_by_label("Classification").select_option("public")
    page.get_by_role("button", name="Upload and read").click()
    page.wait_for_url(re.compile(r"/jobs/J-[0-9A-F]{16}$"))
    expect(page.locator("progress#job-bar")).to_be_visible()

    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator("#job-summary")).to_have_text(
        "1 imported, 0 already in the archive, 1 refused."
    )
    expect(page.locator("#job-bar")).to_have_attribute("value", "100")
    assert progress.get_attribute("hx-trigger") is None  # it stopped asking
    refused = page.locator('#job-files tr[data-status="refused"]')
    expect(refused).to_contain_text("broken.pdf")
    expect(refused.locator(".outcome-reason")).not_to_be_empty()
    page.locator('#job-files tr[data-status="imported"] a').click()
    page.wait_for_url(re.compile(r"/archive/A-[0-9A-F]{16}$"))
    expect(page.locator("#document-text")).to_contain_text("chain of custody")
