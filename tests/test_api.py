"""The HTTP API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import adnd, make_user
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context
from veritrail.actions.tokens import do_create_token, grantable_scopes
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import DeclarationVersion

PASSWORD = "correct horse battery"
# The API token of each test user, created afresh for every test by ``make_api_user``.
TOKENS: dict[str, str] = {}


class Bearer(httpx.Auth):
    """Sends the current test's API token of ``username`` as ``Authorization: Bearer``."""

    def __init__(self, username: str) -> None:
        self.username = username

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["authorization"] = f"Bearer {TOKENS[self.username]}"
        yield request


def make_api_user(ctx: Context, username: str, role: Role, state: str | None = None) -> None:
    """A stored user with an API token carrying every scope its role holds."""
    make_user(ctx, username, role, state, password=PASSWORD)
    TOKENS[username] = do_create_token(
        ctx,
        actor=OPERATOR,
        username=username,
        name="tests",
        scopes=grantable_scopes(role),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    ).token


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    TOKENS.clear()
    make_api_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    make_api_user(ctx, "deu", Role.NA_SUBMITTER, "DEU")
    make_api_user(ctx, "analyst", Role.ANALYST)
    with TestClient(create_app(settings, ctx)) as test_client:
        yield test_client


FRA = Bearer("fra")
DEU = Bearer("deu")
ANALYST = Bearer("analyst")


def _post(client: TestClient, doc: object, auth: httpx.Auth = FRA, **kw: object):  # type: ignore[no-untyped-def]
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return client.post(
        "/api/declarations",
        content=body,
        auth=auth,
        headers={"content-type": "application/json"},
        **kw,
    )  # type: ignore[arg-type]


def _count(ctx: Context) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DeclarationVersion)) or 0)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/api/openapi.json").json()
    assert "/api/declarations" in spec["paths"]
    assert "/api/declarations/{declaration_id}/diff" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text


def test_anonymous_callers_get_nothing(client: TestClient) -> None:
    for path in ("/api/declarations", "/api/regimes", "/api/status?period=2025"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    assert client.get("/api/declarations", auth=("fra", "wrong password")).status_code == 401
    # A password alone never reaches the API: it would bypass the second factor.
    assert client.get("/api/declarations", auth=("fra", PASSWORD)).status_code == 401
    wrong = client.get("/api/declarations", headers={"authorization": "Bearer vt_nope"})
    assert wrong.status_code == 401 and "not known" in wrong.json()["message"]


def test_submit_amend_diff_and_read_back(client: TestClient) -> None:
    created = _post(client, adnd())
    assert created.status_code == 201, created.text
    body = created.json()
    declaration_id = body["id"]
    assert body["version"] == 1 and body["state"] == "FRA"

    amended = adnd(id=declaration_id)
    amended["data"]["lines"][0]["quantity"] = "125"
    assert _post(client, amended).json()["version"] == 2

    detail = client.get(f"/api/declarations/{declaration_id}", auth=FRA).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    v1 = client.get(f"/api/declarations/{declaration_id}/versions/1", auth=FRA).json()
    assert v1["data"]["lines"][0]["quantity"] == "120" and v1["id"] == declaration_id
    original = client.get(f"/api/declarations/{declaration_id}/versions/1/original", auth=FRA)
    assert json.loads(original.content) == adnd()
    diff = client.get(f"/api/declarations/{declaration_id}/diff?from=1&to=2", auth=FRA).json()
    assert diff["summary"]["rows_changed"] == 1
    listed = client.get("/api/declarations?state=FRA", auth=ANALYST).json()
    assert [d["id"] for d in listed] == [declaration_id]


def test_invalid_submission_lists_every_error_and_stores_nothing(
    client: TestClient, ctx: Context
) -> None:
    bad = adnd(
        lines=[
            {"cas": "64-17-5", "activity": "export", "quantity": "-1", "unit": "t"},
            {
                "cas": "75-44-5",
                "activity": "export",
                "partner_state": "Atlantis",
                "quantity": "abc",
                "unit": "t",
            },
        ]
    )
    response = _post(client, bad)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["path"], e["code"]) for e in errors} >= {
        ("/data/lines/0/cas", "unknown_code"),
        ("/data/lines/0/quantity", "negative"),
        ("/data/lines/0/partner_state", "required"),
        ("/data/lines/1/partner_state", "unknown_state"),
        ("/data/lines/1/quantity", "not_a_number"),
    }
    assert all(e["message"] for e in errors)
    assert _count(ctx) == 0


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"regime": "cwc",', b"\x00\xff\xfe garbage", "[" * 5000, b'{"a": NaN}', b""],
    ids=["truncated", "cut", "binary", "deep", "nan", "empty"],
)
def test_malformed_bodies_are_4xx_with_a_message(
    client: TestClient, ctx: Context, body: bytes | str
) -> None:
    data = body.encode() if isinstance(body, str) else body
    response = _post(client, data)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["message"]
    assert _count(ctx) == 0


def test_oversized_body_is_refused_before_parsing(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path / "small", database_url=database_url, max_upload_bytes=1000
    )
    ctx = Context.from_settings(settings)
    make_api_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    with TestClient(create_app(settings, ctx)) as client:
        response = _post(client, b"{" + b" " * 5000 + b"}")
        assert response.status_code == 413
        assert "1,000 bytes" in response.json()["message"]
    ctx.close()


def test_national_authority_cannot_see_or_submit_for_another_state(client: TestClient) -> None:
    theirs = _post(client, adnd(state="DEU"), auth=DEU).json()["id"]
    assert client.get(f"/api/declarations/{theirs}", auth=FRA).status_code == 404
    assert client.get(f"/api/declarations/{theirs}/versions/1", auth=FRA).status_code == 404
    assert client.get("/api/declarations", auth=FRA).json() == []
    refused = _post(client, adnd(state="DEU"), auth=FRA)
    assert refused.status_code == 403
    assert _post(client, adnd(), auth=ANALYST).status_code == 403


def test_validate_endpoint_stores_nothing(client: TestClient, ctx: Context) -> None:
    ok = client.post(
        "/api/declarations/validate",
        content=json.dumps(adnd()),
        auth=FRA,
        headers={"content-type": "application/json"},
    )
    assert ok.status_code == 200 and ok.json()["valid"] is True
    bad = client.post(
        "/api/declarations/validate",
        content=json.dumps(adnd(period=1800)),
        auth=FRA,
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "/period"
    assert _count(ctx) == 0


def test_templates_schema_and_regimes(client: TestClient) -> None:
    regimes = {r["id"] for r in client.get("/api/regimes", auth=FRA).json()}
    assert {"cwc", "bwc", "unscr1540", "att"} <= regimes
    schema = client.get("/api/regimes/cwc/types/adnd/schema", auth=FRA).json()
    assert schema["type"] == "object"
    for fmt in ("json", "csv", "xlsx"):
        response = client.get(f"/api/regimes/cwc/types/adnd/template?format={fmt}", auth=FRA)
        assert response.status_code == 200 and response.content
    assert client.get("/api/regimes/cwc/types/nope/schema", auth=FRA).status_code == 404


def test_status_table_and_csv_export(client: TestClient) -> None:
    _post(client, adnd(period=2025))
    cells = client.get("/api/status?period=2025&regime=cwc", auth=ANALYST).json()
    by_state = {c["state"]: c["status"] for c in cells}
    assert by_state["DEU"] in ("missing", "not_yet_due") and "FRA" in by_state
    exported = client.get("/api/status.csv?period=2025&regime=cwc", auth=ANALYST)
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["state", "regime", "period", "status"]
    assert len(rows) == len(cells) + 1
    mine = client.get("/api/status?period=2025", auth=FRA).json()
    assert {c["state"] for c in mine} == {"FRA"}


def test_reference_data(client: TestClient, ctx: Context) -> None:
    from veritrail.access import OPERATOR
    from veritrail.actions.accounts import do_add_facilities
    from veritrail.store.models import Facility

    do_add_facilities(
        ctx,
        actor=OPERATOR,
        facilities=[
            Facility(
                id="F-FRA-1",
                state="FRA",
                name="Site A",
                kind="chemical",
                regime="cwc",
                latitude=48.85,
                longitude=2.35,
                operator=None,
            ),
            Facility(
                id="F-DEU-1",
                state="DEU",
                name="Site B",
                kind="chemical",
                regime="cwc",
                latitude=52.52,
                longitude=13.4,
                operator="B GmbH",
            ),
        ],
    )
    states = client.get("/api/states", auth=FRA).json()
    assert len(states) == 195
    china = next(s for s in states if s["alpha3"] == "CHN")
    assert china["names"]["zh"] == "中国" and set(china["names"]) == {
        "ar",
        "en",
        "es",
        "fr",
        "ru",
        "zh",
    }
    assert [f["id"] for f in client.get("/api/facilities", auth=FRA).json()] == ["F-FRA-1"]
    both = client.get("/api/facilities", auth=ANALYST).json()
    assert {f["id"] for f in both} == {"F-FRA-1", "F-DEU-1"}
    assert client.get("/api/facilities?state=Germany", auth=ANALYST).json()[0]["id"] == "F-DEU-1"


def test_reclassification_and_access_log_over_the_api(client: TestClient, ctx: Context) -> None:
    declaration_id = _post(client, adnd()).json()["id"]
    make_api_user(ctx, "auditor", Role.AUDITOR)
    auditor = Bearer("auditor")
    read = client.get(
        f"/api/declarations/{declaration_id}/versions/1?purpose=reconciliation", auth=ANALYST
    )
    assert read.status_code == 200
    log = client.get("/api/access-log", auth=auditor).json()
    assert [(e["actor"], e["record_id"], e["purpose"]) for e in log] == [
        ("analyst", declaration_id, "reconciliation")
    ]
    assert client.get("/api/access-log", auth=ANALYST).status_code == 403
    change = {"classification": "restricted", "reason": "released to states parties"}
    path = f"/api/declarations/{declaration_id}/classification"
    assert client.put(path, json=change, auth=auditor).status_code == 403
    assert client.put(path, json=change, auth=ANALYST).status_code == 204
    assert (
        client.put(path, json={"classification": "secret", "reason": "x"}, auth=ANALYST).status_code
        == 422
    )


def test_cursor_paging(client: TestClient) -> None:
    for period in (2021, 2022, 2023):
        assert _post(client, adnd(period=period)).status_code == 201
    everything = client.get("/api/declarations", auth=FRA).json()
    first = client.get("/api/declarations?limit=2", auth=FRA).json()
    last = first[-1]
    cursor = f"{last['updated_at']},{last['id']}"
    rest = client.get("/api/declarations", params={"before": cursor}, auth=FRA).json()
    assert [d["id"] for d in first + rest] == [d["id"] for d in everything]
    bad = client.get("/api/declarations?before=yesterday", auth=FRA)
    assert bad.status_code == 400 and "updated_at,id" in bad.json()["message"]
