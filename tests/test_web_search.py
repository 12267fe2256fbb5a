"""The search and archive pages through the ASGI app, over a real index and a real worker.

Search, the document view, downloads, uploads and their jobs, for readers of
different reach: what a reader may not see is absent from results, counts and
facets, and its pages answer "not found".
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape

from factories import make_user, web_sign_in
from veritrail.access import Actor, Role
from veritrail.actions import Context
from veritrail.actions.archive import do_import_document
from veritrail.regimes.model import Classification
from veritrail.server import create_app
from veritrail.settings import Settings

PASSWORD = "correct horse battery"
TOTAL = re.compile(r'data-total="(\d+)"')


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def analyst(ctx: Context) -> Actor:
    return make_user(ctx, "analyst", Role.ANALYST)


def sign_in(client: TestClient, username: str) -> str:
    return web_sign_in(client, username, PASSWORD, then="/search")


def put(
    ctx: Context,
    actor: Actor,
    text: str,
    name: str,
    *,
    classification: Classification = Classification.PUBLIC,
    state: str | None = None,
) -> str:
    """A plain-text file imported into the archive; its document id."""
    return do_import_document(
        ctx,
        actor=actor,
        data=text.encode(),
        filename=name,
        classification=classification,
        owner_state=state,
    ).id


def total(response: Response) -> int:
    found = TOTAL.search(response.text)
    assert found is not None, response.text[:2000]
    return int(found.group(1))


def facet_links(response: Response, facet: str) -> dict[str, str]:
    """The facet's options (value → link) as the page lists them."""
    block = re.search(rf'data-facet="{facet}".*?</section>', response.text, re.S)
    if block is None:
        return {}
    return {
        unescape(value): unescape(href)
        for href, value in re.findall(
            r'<a href="([^"]+)" class="facet-option[^"]*" data-value="([^"]+)"', block.group(0)
        )
    }


def assert_clean_html(response: Response) -> None:
    """Nothing in the page would need the CSP relaxed."""
    text = response.text
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"


def test_search_lists_results_with_facets_chips_and_pages(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    french = put(
        ctx,
        analyst,
        "Inspection report of the Marseille plant.\nThe inspection team counted drums.",
        "fra-inspection.txt",
        state="FRA",
    )
    german = put(
        ctx,
        analyst,
        "Inspection notes from Leverkusen.\nNo inspection finding was open.",
        "deu-inspection.txt",
        classification=Classification.RESTRICTED,
        state="DEU",
    )
    for n in range(11):
        put(ctx, analyst, f"Routine verification note number {n} of the year.", f"note-{n}.txt")
    sign_in(client, "analyst")

    # The header box is on every page, labelled for screen readers.
    home = client.get("/search")
    assert '<label class="visually-hidden" for="site-search">Search</label>' in home.text
    assert total(home) == 13  # the empty query: everything the analyst may see

    found = client.get("/search", params={"q": "inspection"})
    assert found.status_code == 200
    assert_clean_html(found)
    assert total(found) == 2
    assert f'href="/archive/{french}?q=inspection"' in found.text
    assert f'href="/archive/{german}?q=inspection"' in found.text
    assert "<mark>Inspection</mark>" in found.text or "<mark>inspection</mark>" in found.text
    assert "fra-inspection.txt" in found.text
    states = facet_links(found, "state")
    assert {"FRA", "DEU"} <= set(states)
    assert ">France<" in found.text and ">Germany<" in found.text
    assert set(facet_links(found, "classification")) == {"public", "restricted"}
    assert "/archive/upload" in found.text  # analysts may import

    # A facet narrows the results; its chip removes it again.
    narrowed = client.get(states["DEU"])
    assert parse_qs(urlsplit(states["DEU"]).query) == {"q": ["inspection"], "state": ["DEU"]}
    assert total(narrowed) == 1 and german in narrowed.text and french not in narrowed.text
    chip = re.search(r'<a href="([^"]+)" class="chip-remove"', narrowed.text)
    assert chip is not None
    assert total(client.get(unescape(chip.group(1)))) == 2

    # Ten to a page.
    notes = client.get("/search", params={"q": "verification"})
    assert total(notes) == 11 and notes.text.count('class="result"') == 10
    assert 'rel="next"' in notes.text and 'rel="prev"' not in notes.text
    second = client.get("/search", params={"q": "verification", "page": 2})
    assert second.text.count('class="result"') == 1 and 'rel="prev"' in second.text
    beyond = client.get("/search", params={"q": "verification", "page": 5})
    assert beyond.status_code == 303 and beyond.headers["location"].endswith("&page=2")


def test_a_national_viewer_sees_nothing_of_another_states_restricted_documents(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    make_user(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    own = put(
        ctx,
        analyst,
        "Declaration support file: centrifuge inventory of the Pierrelatte site.",
        "fra-own.txt",
        classification=Classification.RESTRICTED,
        state="FRA",
    )
    public = put(
        ctx,
        analyst,
        "Public statement on centrifuge exports by Germany.",
        "deu-public.txt",
        state="DEU",
    )
    secret = put(
        ctx,
        analyst,
        "Restricted centrifuge cascade layout of Gronau, zebrafinch annex.",
        "deu-restricted.txt",
        classification=Classification.RESTRICTED,
        state="DEU",
    )
    sign_in(client, "fra-viewer")

    found = client.get("/search", params={"q": "centrifuge"})
    assert total(found) == 2
    assert own in found.text and public in found.text
    assert secret not in found.text and "Gronau" not in found.text
    assert "deu-restricted.txt" not in found.text
    classifications = facet_links(found, "classification")
    assert set(classifications) == {"public", "restricted"}
    assert total(client.get(classifications["restricted"])) == 1  # only its own
    assert total(client.get("/search", params={"q": "zebrafinch"})) == 0
    assert total(client.get("/search")) == 2
    assert "/archive/upload" not in found.text  # a viewer may not import

    for path in (f"/archive/{secret}", f"/archive/{secret}/original", "/archive/A-NOTADOCUMENT"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert 'id="error-page"' in missing.text
        assert "Gronau" not in missing.text
    assert client.get(f"/archive/{own}").status_code == 200
    assert client.get("/archive/upload").status_code == 403


def test_signed_out_readers_are_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/search?q=x", "/archive/A-0000000000000000", "/archive/upload", "/jobs/J-1"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert 'id="site-search"' not in client.get("/login").text


@pytest.mark.parametrize(
    ("query", "position"),
    [('"chemical weapons', 1), ("nosuchfield:x", 1), ("(sarin OR", None)],
)
def test_a_query_that_does_not_parse_is_shown_on_the_page(
    client: TestClient, analyst: Actor, query: str, position: int | None
) -> None:
    sign_in(client, "analyst")
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400
    assert_clean_html(response)
    assert 'id="query-error"' in response.text and 'role="alert"' in response.text
    assert "The query cannot be read: " in response.text
    marked = re.search(r'data-position="(\d+)"', response.text)
    assert marked is not None
    if position is not None:
        assert int(marked.group(1)) == position
    # The box keeps the query, marked invalid, and the page stays usable.
    box = re.search(r'<input type="search" id="search-q"[^>]*>', response.text, re.S)
    assert box is not None and 'aria-invalid="true"' in box.group(0)
    assert f'value="{escape(query)}"' in box.group(0)
    assert 'class="query-fault"' in response.text and "<mark>" in response.text
    assert "How to write a query" in response.text


def test_markup_in_documents_is_shown_as_text(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    hostile = (
        'Chlorine <script>alert("owned")</script> report <img src=x onerror=alert(1)>\n'
        "The chlorine cylinders were tagged."
    )
    document_id = put(ctx, analyst, hostile, "<b>bold</b>.txt")
    sign_in(client, "analyst")

    found = client.get("/search", params={"q": "chlorine"})
    assert total(found) == 1
    # The text is shown, never run: no tag of it reaches the page.
    assert "<script>alert" not in found.text and "<img" not in found.text
    assert "&lt;script&gt;" in found.text
    assert "<b>bold</b>" not in found.text

    shown = client.get(f"/archive/{document_id}", params={"q": "chlorine"})
    assert shown.status_code == 200
    assert "<script>alert" not in shown.text and "<img" not in shown.text
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in shown.text
    assert "<mark>Chlorine</mark>" in shown.text and "<mark>chlorine</mark>" in shown.text


def test_arabic_snippets_run_right_to_left(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    put(ctx, analyst, "تقرير عن تدمير الأسلحة الكيميائية في المنشأة.", "ar.txt")
    sign_in(client, "analyst")
    found = client.get("/search", params={"q": "الأسلحة"})
    assert total(found) == 1
    snippet = re.search(r'<p class="snippet" dir="auto">(.*?)</p>', found.text, re.S)
    assert snippet is not None and "<mark>الأسلحة</mark>" in snippet.group(1)
    assert 'class="result-language">العربية<' in found.text


def test_document_page_shows_metadata_mentions_highlights_and_the_original(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    text = (
        "Letter dated 11 December 2020 on resolution 2118 (2013).\n"
        "See document S/2020/1197 and the statement of France.\n"
        "Sarin (CAS 107-44-8) is a Schedule 1 chemical.\n"
    )
    document_id = put(ctx, analyst, text, "letter.txt", state="FRA")
    sign_in(client, "analyst")

    response = client.get(f"/archive/{document_id}", params={"q": "sarin"})
    assert response.status_code == 200
    assert_clean_html(response)
    page = response.text
    assert "letter.txt" in page and "text/plain" in page
    assert "<mark>Sarin</mark>" in page
    assert 'href="/search?q=symbol%3AS%2F2020%2F1197"' in page
    assert "107-44-8" in page
    assert 'id="document-sha256"' in page
    assert f"/api/log/records/document/{document_id}/receipt" in page
    assert f'href="/archive/{document_id}/original"' in page

    original = client.get(f"/archive/{document_id}/original")
    assert original.status_code == 200
    assert original.content == text.encode()
    assert original.headers["content-disposition"] == 'attachment; filename="letter.txt"'


def _wait_for(client: TestClient, job_path: str) -> str:
    """The job's page once the job has ended (the app's own worker runs it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fragment = client.get(f"{job_path}/progress")
        assert fragment.status_code == 200
        if 'data-state="done"' in fragment.text or 'data-state="failed"' in fragment.text:
            assert "hx-trigger" not in fragment.text  # it stops asking
            return fragment.text
        assert 'hx-trigger="every 1s"' in fragment.text
        time.sleep(0.2)
    raise AssertionError(f"{job_path} did not end")


def test_uploads_are_queued_with_csrf_and_followed_by_their_owner_only(
    client: TestClient, ctx: Context, analyst: Actor
) -> None:
    make_user(ctx, "inspector", Role.INSPECTOR)
    csrf = sign_in(client, "analyst")
    form = client.get("/archive/upload")
    assert form.status_code == 200
    assert_clean_html(form)
    assert 'name="files"' in form.text and "multiple" in form.text
    assert '<option value="restricted" selected>' in form.text
    assert 'name="regime" value="cwc"' in form.text

    files = [
        (
            "files",
            ("minutes.txt", b"Minutes of the technical meeting on verification.", "text/plain"),
        ),
        ("files", ("broken.pdf", b"%PDF-1.7 this is not a PDF at all", "application/pdf")),
    ]
    refused = client.post("/archive/upload", data={"classification": "public"}, files=files)
    assert refused.status_code == 403
    forged = client.post(
        "/archive/upload", data={"classification": "public", "csrf": "x" * 43}, files=files
    )
    assert forged.status_code == 403

    nothing = client.post("/archive/upload", data={"csrf": csrf, "classification": "public"})
    assert nothing.status_code == 400 and 'id="upload-error"' in nothing.text

    queued = client.post(
        "/archive/upload",
        data={"csrf": csrf, "classification": "public", "regime": "cwc"},
        files=files,
    )
    assert queued.status_code == 303, queued.text
    job_path = queued.headers["location"]
    assert re.fullmatch(r"/jobs/J-[0-9A-F]{16}", job_path)
    job_page = client.get(job_path)
    assert job_page.status_code == 200
    assert_clean_html(job_page)
    assert "<progress" in job_page.text

    done = _wait_for(client, job_path)
    assert "1 imported, 0 already in the archive, 1 refused." in done
    imported = re.search(r'<a href="/archive/(A-[0-9A-F]{16})"', done)
    assert imported is not None
    assert 'data-status="refused"' in done and "broken.pdf" in done
    reason = re.search(r'<span class="outcome-reason">([^<]+)</span>', done)
    assert reason is not None and reason.group(1).strip()
    assert client.get(f"/archive/{imported.group(1)}").status_code == 200

    # Someone else's job is not found, page and fragment alike.
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, "inspector")
    assert other.get(job_path).status_code == 404
    assert other.get(f"{job_path}/progress").status_code == 404
