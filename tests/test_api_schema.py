"""Property-based tests of the HTTP API against its own OpenAPI schema (Schemathesis).

Every operation of ``/api/openapi.json`` gets generated requests, on SQLite and on
PostgreSQL, against a database holding two users and one submitted declaration:

* anonymous callers never get a server error, and outside the public endpoints they
  get an error object and nothing else: no declaration, no state data;
* a national submitter and a secretariat analyst, each with an API token, never get
  a server error, and what they get conforms to the schema.

The operations are driven by hand (``operation.as_strategy`` under ``hypothesis.given``)
rather than by ``schemathesis.pytest.from_fixture``: its lazy loader sets
``Item._nodeid``, which pytest 9.2 no longer has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from factories import adnd, make_user
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.tokens import do_create_token, grantable_scopes
from veritrail.declarations.document import ParsedDeclaration
from veritrail.queries.accounts import actor_for
from veritrail.server import create_app
from veritrail.settings import Settings

# Answer to anyone: liveness and the API's own description. (`/api/docs` is public too,
# but it is HTML for people and not part of the schema.)
# The transparency log is public by design: it holds hashes and ids, never content.
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/api/docs",
        "/api/openapi.json",
        "/api/log",
        "/api/log/receipts/{index}",
        "/api/log/records/{record_type}/{record_id}/receipt",
        "/api/log/consistency",
        "/log/checkpoint",
        "/log/tile/{tile_path}",
    }
)

# Few examples per operation: the point is breadth over every operation on two
# databases, not depth; a run stays well under two minutes on two cores.
FEW_EXAMPLES = hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    # Examples found in one test's database must not replay into another's.
    database=None,
)


@dataclass(frozen=True)
class World:
    declaration_id: str
    tokens: dict[str, str]


def _token(ctx: Context, username: str, role: Role) -> str:
    return do_create_token(
        ctx,
        actor=OPERATOR,
        username=username,
        name="schemathesis",
        scopes=grantable_scopes(role),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    ).token


@pytest.fixture
def world(ctx: Context) -> World:
    make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    make_user(ctx, "analyst", Role.ANALYST)
    fra = actor_for(ctx, "fra")
    assert fra is not None
    declaration = do_submit_declaration(ctx, actor=fra, parsed=ParsedDeclaration(adnd(), "json"))
    return World(
        declaration_id=declaration.id,
        tokens={
            "fra": _token(ctx, "fra", Role.NA_SUBMITTER),
            "analyst": _token(ctx, "analyst", Role.ANALYST),
        },
    )


@pytest.fixture
def api_schema(settings: Settings, ctx: Context, world: World) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(settings, ctx))


def _cases(operation: APIOperation, world: World) -> st.SearchStrategy[Case]:
    """Valid and invalid requests; half the valid ones name the stored declaration, so
    that they get past "not found" into the code that reads it."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if any(p.name == "declaration_id" for p in operation.path_parameters):
        aimed = {"declaration_id": world.declaration_id}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=aimed))
    return st.one_of(strategies)


def _every_operation(schema: OpenApiSchema, world: World, check: Callable[[Case], None]) -> None:
    """Run ``check`` on generated cases of every operation; report every operation that
    fails (with its smallest failing case), not just the first."""
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @FEW_EXAMPLES
        @hypothesis.given(case=_cases(operation, world))
        def run(case: Case) -> None:
            check(case)

        try:
            run()
        # Schemathesis' check failures come as a FailureGroup, a BaseExceptionGroup.
        except (Exception, FailureGroup) as exc:  # noqa: BLE001 - collected, reported below
            failures.append(f"{operation.label}: {exc}")
    assert operations > 10, "the schema lists the API's operations"
    assert not failures, "\n\n".join(failures)


def _no_server_error(case: Case, response: Response) -> None:
    assert response.status_code < 500, (
        f"{response.status_code} {response.text[:500]}\n{case.as_curl_command()}"
    )


def test_anonymous_callers_get_errors_and_no_data(api_schema: OpenApiSchema, world: World) -> None:
    def check(case: Case) -> None:
        response = case.call()
        _no_server_error(case, response)
        if case.operation.path in PUBLIC_PATHS:
            return
        where = f"{case.as_curl_command()}\n{response.status_code} {response.text[:500]}"
        assert 400 <= response.status_code < 500, where
        assert response.headers["content-type"] == ["application/json"], where
        body = response.json()
        assert isinstance(body, dict) and {"code", "message"} <= body.keys(), where
        # A 422 also lists what was wrong with the request itself; nothing else comes along.
        assert body.keys() <= {"code", "message", "errors"}, where
        assert world.declaration_id not in response.text, where
        assert "75-44-5" not in response.text, where

    _every_operation(api_schema, world, check)


def _documented_or_client_error(ctx: CheckContext, response: Response, case: Case) -> None:
    """Schemathesis' ``status_code_conformance``, except that any 4xx is a fine answer.

    FastAPI documents only the success status and 422 of each route; 401, 403, 404,
    409, 413 and 415 are deliberate answers of the policy and of the input checks,
    rendered in one place (``server.py``) as an error object.
    """
    documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
    assert response.status_code in documented or 400 <= response.status_code < 500, (
        f"undocumented status {response.status_code}"
    )


def _successes_match_their_schema(ctx: CheckContext, response: Response, case: Case) -> None:
    """Schemathesis' ``response_schema_conformance``, on 2xx answers only."""
    if 200 <= response.status_code < 300:
        response_schema_conformance(ctx, response, case)


@pytest.mark.parametrize("caller", ["fra", "analyst"])
def test_signed_in_callers_get_answers_that_match_the_schema(
    api_schema: OpenApiSchema, world: World, caller: str
) -> None:
    headers = {"authorization": f"Bearer {world.tokens[caller]}"}

    def check(case: Case) -> None:
        response = case.call(headers=headers)
        _no_server_error(case, response)
        assert response.status_code != 401, f"the token was refused: {response.text}"
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                _documented_or_client_error,
                content_type_conformance,
                _successes_match_their_schema,
            ],
            headers=headers,
        )

    _every_operation(api_schema, world, check)


# Regressions found by the tests above.

HUGE = (2**31, 2**63, 2**64)


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize(
    ("caller", "path"),
    [
        ("fra", "/api/declarations/{id}/versions/{n}"),
        ("fra", "/api/declarations/{id}/versions/{n}/original"),
        ("fra", "/api/declarations/{id}/diff?from=1&to={n}"),
        ("fra", "/api/declarations?offset={n}"),
        ("fra", "/api/facilities?offset={n}"),
        ("auditor", "/api/access-log?before_id={n}"),
    ],
)
def test_numbers_beyond_what_the_database_holds_are_refused_not_crashed(
    settings: Settings, ctx: Context, world: World, caller: str, path: str, huge: int
) -> None:
    """A version past INTEGER (2**31 on PostgreSQL) or an offset or id past BIGINT (2**63,
    SQLite's limit too) reached the database and answered 500; now the bound is part of
    the parameter: 422 when it is beyond, an ordinary answer below."""
    make_user(ctx, "auditor", Role.AUDITOR)
    token = _token(ctx, "auditor", Role.AUDITOR) if caller == "auditor" else world.tokens[caller]
    with TestClient(create_app(settings, ctx), raise_server_exceptions=False) as client:
        url = path.format(id=world.declaration_id, n=huge)
        response = client.get(url, headers={"authorization": f"Bearer {token}"})
        assert response.status_code < 500, response.text
        if huge >= 2**63 or "version" in path or "to=" in path:
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "invalid_request"


def test_file_answers_document_their_content_types(api_schema: OpenApiSchema) -> None:
    """The CSV status table, templates and original files answered with content types
    the schema did not list (it said application/json)."""
    paths = api_schema.raw_schema["paths"]
    documented = {
        path: set(paths[path]["get"]["responses"]["200"]["content"])
        for path in (
            "/api/status.csv",
            "/api/regimes/{regime}/types/{type_}/template",
            "/api/declarations/{declaration_id}/versions/{version}/original",
        )
    }
    assert documented["/api/status.csv"] == {"text/csv"}
    assert {"application/json", "text/csv"} <= documented[
        "/api/regimes/{regime}/types/{type_}/template"
    ]
    assert (
        "application/json"
        in documented["/api/declarations/{declaration_id}/versions/{version}/original"]
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/declarations/{id}/diff?from=1&to=2&purpose=audit%00",
        "/api/declarations/{id}%00",
        "/api/declarations?state=FR%00A",
        "/api/status?period=2024&regime=cwc%00",
    ],
)
def test_a_nul_character_in_a_parameter_is_refused_not_crashed(
    settings: Settings, ctx: Context, world: World, path: str
) -> None:
    """PostgreSQL text cannot hold NUL: a parameter carrying one reached a query and
    answered 500 there; now every API route refuses it first, naming the parameter."""
    with TestClient(create_app(settings, ctx), raise_server_exceptions=False) as client:
        url = path.format(id=world.declaration_id)
        response = client.get(url, headers={"authorization": f"Bearer {world.tokens['fra']}"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"
    assert "NUL" in response.json()["message"]


def test_a_nul_character_in_a_json_body_is_refused_not_crashed(
    settings: Settings, ctx: Context, world: World
) -> None:
    """A group id with NUL in a reclassification reached a PostgreSQL query (500)."""
    with TestClient(create_app(settings, ctx), raise_server_exceptions=False) as client:
        response = client.put(
            f"/api/declarations/{world.declaration_id}/classification",
            content=b'{"classification": "protected", "group_id": "\\u0000", "reason": "x"}',
            headers={
                "authorization": f"Bearer {world.tokens['analyst']}",
                "content-type": "application/json",
            },
        )
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["message"]
