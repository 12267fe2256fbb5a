"""The web pages, through the ASGI app: status codes, redirects, access and the CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from factories import CSRF_FIELD, enrol_if_needed, web_sign_in
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import do_create_organisation, do_create_user
from veritrail.declarations.document import ParsedDeclaration
from veritrail.declarations.templates import xlsx_template
from veritrail.queries.accounts import actor_for
from veritrail.server import create_app
from veritrail.settings import Settings

PASSWORD = "correct-horse-battery"
PERIOD = datetime.now(UTC).year - 1


def make_users(ctx: Context) -> None:
    """A France and a Germany submitter, a France viewer and a secretariat analyst."""
    for state in ("FRA", "DEU"):
        do_create_organisation(
            ctx,
            actor=OPERATOR,
            id=f"na-{state}",
            kind="national_authority",
            name=f"National authority {state}",
            state=state,
        )
        do_create_user(
            ctx,
            actor=OPERATOR,
            username=f"{state.lower()}-submitter",
            password=PASSWORD,
            role=Role.NA_SUBMITTER,
            organisation_id=f"na-{state}",
        )
    do_create_user(
        ctx,
        actor=OPERATOR,
        username="fra-viewer",
        password=PASSWORD,
        role=Role.NA_VIEWER,
        organisation_id="na-FRA",
    )
    do_create_organisation(ctx, actor=OPERATOR, id="sec", kind="secretariat", name="Secretariat")
    do_create_user(
        ctx,
        actor=OPERATOR,
        username="analyst",
        password=PASSWORD,
        role=Role.ANALYST,
        organisation_id="sec",
    )
    for username, role in (
        ("fra-submitter", Role.NA_SUBMITTER),
        ("deu-submitter", Role.NA_SUBMITTER),
        ("fra-viewer", Role.NA_VIEWER),
        ("analyst", Role.ANALYST),
    ):
        enrol_if_needed(ctx, username, role)


def adnd(state: str, quantity: str = "12.5", **extra: object) -> dict[str, object]:
    return {
        "regime": "cwc",
        "type": "adnd",
        "state": state,
        "period": PERIOD,
        "data": {
            "lines": [
                {"cas": "756-79-6", "activity": "production", "quantity": quantity, "unit": "kg"}
            ]
        },
        **extra,
    }


def submit(ctx: Context, username: str, document: dict[str, object]) -> str:
    actor = actor_for(ctx, username)
    assert actor is not None
    # Early in the year after the period, so that the declaration counts as on time.
    moment = min(datetime.now(UTC), datetime(PERIOD + 1, 1, 2, 12, tzinfo=UTC))
    return do_submit_declaration(
        ctx, actor=actor, parsed=ParsedDeclaration(document, "json"), now=moment
    ).id


@pytest.fixture
def app_ctx(settings: Settings, ctx: Context) -> Context:
    make_users(ctx)
    return ctx


@pytest.fixture
def client(settings: Settings, app_ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, app_ctx), follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str) -> str:
    return web_sign_in(client, username, PASSWORD, then="/declarations")


def assert_clean_html(response: object) -> None:
    """The CSP is sent and nothing in the page would need it relaxed."""
    text = response.text  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "javascript:" not in text


PAGES_SIGNED_OUT = [
    "/",
    "/overview",
    "/declarations",
    "/declarations/new",
    "/declarations/upload",
    "/declarations/D-0000000000000000",
]


@pytest.mark.parametrize("path", PAGES_SIGNED_OUT)
def test_pages_redirect_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=" + path.split("?")[0])


def test_login_page_is_clean(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert_clean_html(response)


def test_national_pages(client: TestClient, app_ctx: Context) -> None:
    declaration = submit(app_ctx, "fra-submitter", adnd("FRA"))
    submit(app_ctx, "fra-submitter", adnd("FRA", quantity="13", id=declaration))
    sign_in(client, "fra-submitter")
    pages = {
        "/": "Deadlines for",
        f"/?period={PERIOD - 1}": "Deadlines for",
        "/declarations": declaration,
        "/declarations/new": "New declaration",
        f"/declarations/new?regime=bwc&type=cover&period={PERIOD}": "<form",
        f"/declarations/new?regime=cwc&type=ocpf&period={PERIOD}": "Add row",
        "/declarations/upload": "/api/regimes/cwc/types/adnd/template?format=xlsx",
        f"/declarations/{declaration}": "Content SHA-256",
        f"/declarations/{declaration}/edit": "Amending version 2",
        f"/declarations/{declaration}/diff?from=1&to=2": "Changes from version 1 to version 2",
        "/declarations/row?regime=cwc&type=adnd&section=lines": "data-remove-row",
    }
    for path, expected in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert expected in response.text, path
        assert_clean_html(response)
    dashboard = client.get("/").text
    assert "Chemical Weapons Convention" in dashboard and "On time" in dashboard
    # A new ADND for a period already declared opens the existing declaration instead.
    again = client.get(f"/declarations/new?regime=cwc&type=adnd&period={PERIOD}")
    assert again.headers["location"] == f"/declarations/{declaration}/edit"
    # The overview is the secretariat's; a national user is sent to the dashboard.
    assert client.get("/overview").headers["location"] == "/"


def test_another_states_declaration_is_not_found(client: TestClient, app_ctx: Context) -> None:
    german = submit(app_ctx, "deu-submitter", adnd("DEU"))
    sign_in(client, "fra-submitter")
    for path in (
        f"/declarations/{german}",
        f"/declarations/{german}/diff?from=1&to=1",
        f"/declarations/{german}/edit",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text
        assert_clean_html(response)


def test_viewer_may_not_fill_in(client: TestClient) -> None:
    sign_in(client, "fra-viewer")
    assert client.get("/").status_code == 200
    response = client.get("/declarations/new")
    assert response.status_code == 403
    assert "Not allowed" in response.text


def test_secretariat_pages(client: TestClient, app_ctx: Context) -> None:
    declaration = submit(app_ctx, "fra-submitter", adnd("FRA"))
    sign_in(client, "analyst")
    assert client.get("/").headers["location"] == "/overview"
    overview = client.get(f"/overview?period={PERIOD}&regime=cwc")
    assert overview.status_code == 200
    assert_clean_html(overview)
    assert 'data-state="FRA"' in overview.text
    assert f"/api/status.csv?period={PERIOD}&amp;regime=cwc" in overview.text
    table = client.get(f"/overview/table?period={PERIOD}&regime=cwc&q=fran")
    assert table.status_code == 200
    assert 'data-state="FRA"' in table.text and 'data-state="DEU"' not in table.text
    assert table.headers["hx-replace-url"].startswith("/overview?")
    assert "<html" not in table.text
    only_missing = client.get(f"/overview/table?period={PERIOD}&regime=cwc&status=on_time")
    assert 'data-state="FRA"' in only_missing.text and 'data-state="DEU"' not in only_missing.text
    detail = client.get(f"/declarations/{declaration}")
    assert detail.status_code == 200 and "Amend" not in detail.text
    assert client.get("/declarations/new").status_code == 403


def test_form_shows_errors_inline_then_submits(client: TestClient) -> None:
    csrf = sign_in(client, "fra-submitter")
    form = {
        "csrf": csrf,
        "regime": "cwc",
        "type": "adnd",
        "period": str(PERIOD),
        "lines.r1.cas": "756-79-6",
        "lines.r1.activity": "export",
        "lines.r1.quantity": "-3",
        "lines.r1.unit": "kg",
        "action": "submit",
    }
    response = client.post("/declarations/form", data=form)
    assert response.status_code == 422
    assert_clean_html(response)
    # The error sits in the quantity cell of the first row, and in the summary.
    cell = re.search(
        r'id="f-lines-r0-quantity"[^>]*>\s*<span class="field-error"[^>]*>'
        r"<span>([^<]+)</span>",
        response.text,
    )
    assert cell is not None and "at least 0" in cell.group(1)
    assert 'href="#f-lines-r0-quantity"' in response.text
    assert 'id="f-lines-r0-partner_state-err"' in response.text  # export needs a partner
    form.update({"lines.r1.quantity": "3", "lines.r1.partner_state": "DEU"})
    response = client.post("/declarations/form", data=form)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Declaration submitted as version 1." in page.text


def test_save_draft_validate_and_nothing_to_declare(client: TestClient) -> None:
    csrf = sign_in(client, "fra-submitter")
    base = {"csrf": csrf, "regime": "cwc", "type": "adnd", "period": str(PERIOD)}
    saved = client.post(
        "/declarations/form", data={**base, "action": "save", "lines.a.cas": "not-a-cas"}
    )
    assert saved.status_code == 200
    assert "Draft saved" in saved.text and "not a valid CAS" in saved.text
    draft_id = re.search(r'name="id" value="(D-[0-9A-F]+)"', saved.text)
    assert draft_id is not None
    edit = client.get(f"/declarations/{draft_id.group(1)}/edit")
    assert 'value="not-a-cas"' in edit.text
    checked = client.post(
        "/declarations/form",
        data={**base, "action": "validate", "id": draft_id.group(1), "nothing_to_declare": "true"},
    )
    assert checked.status_code == 200 and "No errors found" in checked.text
    done = client.post(
        "/declarations/form",
        data={**base, "action": "submit", "id": draft_id.group(1), "nothing_to_declare": "true"},
    )
    assert done.headers["location"] == f"/declarations/{draft_id.group(1)}"


def test_forms_refuse_a_missing_csrf_token(client: TestClient) -> None:
    sign_in(client, "fra-submitter")
    response = client.post(
        "/declarations/form", data={"regime": "cwc", "type": "adnd", "period": str(PERIOD)}
    )
    assert response.status_code == 403


def test_prefill_from_last_year(client: TestClient, app_ctx: Context) -> None:
    csrf = sign_in(client, "fra-submitter")
    data = {"csrf": csrf, "regime": "cwc", "type": "adnd", "period": str(PERIOD)}
    nothing = client.post("/declarations/prefill", data=data)
    assert nothing.status_code == 303 and "/declarations/new?" in nothing.headers["location"]
    assert "no earlier declaration" in client.get(nothing.headers["location"]).text
    submit(app_ctx, "fra-submitter", {**adnd("FRA"), "period": PERIOD - 1})
    started = client.post("/declarations/prefill", data=data)
    assert started.status_code == 303 and started.headers["location"].endswith("/edit")
    assert 'value="756-79-6"' in client.get(started.headers["location"]).text


def test_upload_lists_errors_with_cells_and_stores_nothing(
    client: TestClient, app_ctx: Context
) -> None:
    csrf = sign_in(client, "fra-submitter")
    dtype = app_ctx.registry.declaration_type("cwc", "adnd")
    rows = [
        {"cas": "756-79-6", "activity": "production", "quantity": -1, "unit": "kg"},
        {"cas": "123-45-6", "activity": "import", "quantity": 5, "unit": "kg"},
    ]
    book = xlsx_template(
        dtype, app_ctx.registry, period=PERIOD, state="FRA", prefill={"data": {"lines": rows}}
    )
    files = {"file": ("adnd.xlsx", book, "application/octet-stream")}
    response = client.post("/declarations/upload", data={"csrf": csrf, "state": "FRA"}, files=files)
    assert response.status_code == 422
    assert_clean_html(response)
    assert "lines!D2" in response.text and "lines!A3" in response.text
    assert "lines!C3" in response.text  # an import needs its partner state
    assert client.get("/declarations").text.count("/declarations/D-") == 0
    rows[0]["quantity"] = 1
    rows[1].update({"cas": "756-79-6", "partner_state": "DEU"})
    book = xlsx_template(
        dtype, app_ctx.registry, period=PERIOD, state="FRA", prefill={"data": {"lines": rows}}
    )
    files = {"file": ("adnd.xlsx", book, "application/octet-stream")}
    stored = client.post("/declarations/upload", data={"csrf": csrf, "state": "FRA"}, files=files)
    assert stored.status_code == 303
    page = client.get(stored.headers["location"])
    assert "adnd.xlsx" in page.text and "/versions/1/original" in page.text


def test_upload_of_a_non_declaration_is_refused_plainly(client: TestClient) -> None:
    csrf = sign_in(client, "fra-submitter")
    files = {"file": ("picture.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")}
    response = client.post("/declarations/upload", data={"csrf": csrf}, files=files)
    assert response.status_code == 415
    assert "PNG image" in response.text


def test_chinese_interface(client: TestClient) -> None:
    csrf = sign_in(client, "fra-submitter")
    response = client.post("/language", data={"lang": "zh", "csrf": csrf, "next": "/"})
    assert response.status_code == 303
    dashboard = client.get("/")
    assert '<html lang="zh" dir="ltr">' in dashboard.text
    assert "工作台" in dashboard.text and "您的申报" in dashboard.text
    form = client.post(
        "/declarations/form",
        data={
            "csrf": csrf,
            "regime": "cwc",
            "type": "adnd",
            "period": str(PERIOD),
            "lines.a.cas": "756-79-6",
            "lines.a.activity": "production",
            "lines.a.quantity": "-1",
            "lines.a.unit": "kg",
            "action": "validate",
        },
    )
    assert "数量: 必须至少为 0" in form.text


def test_arabic_is_right_to_left(client: TestClient) -> None:
    csrf = sign_in(client, "fra-submitter")
    client.post("/language", data={"lang": "ar", "csrf": csrf, "next": "/"})
    page = client.get("/")
    assert '<html lang="ar" dir="rtl">' in page.text and "لوحة المتابعة" in page.text


def test_a_nul_character_in_a_form_is_refused_not_crashed(client: TestClient) -> None:
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "fra\x00", "password": "x", "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "NUL" in response.text
