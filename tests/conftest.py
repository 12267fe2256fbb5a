"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests need ``VERITRAIL_TEST_DATABASE_URL`` (CI sets it); without it
they are skipped and the run ends by saying so. Each pytest-xdist worker gets
its own PostgreSQL database, migrated once; tables are emptied between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from veritrail.actions import Context
from veritrail.settings import Settings
from veritrail.store.db import make_engine
from veritrail.store.migrate import upgrade
from veritrail.store.models import Base

PG_ENV = "VERITRAIL_TEST_DATABASE_URL"


def _pg_url_for_worker(worker: str) -> str | None:
    base = os.environ.get(PG_ENV)
    if not base:
        return None
    url = make_url(base).set(drivername="postgresql+psycopg")
    # One database per run and worker, so that runs side by side never collide.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    name = f"veritrail_test_{run[:10]}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine | None]:
    # pytest-xdist names its workers gw0, gw1…; a run without it is one process.
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
    try:
        url = _pg_url_for_worker(worker_id)
    except Exception as exc:  # noqa: BLE001 - report any connection failure plainly
        if os.environ.get("VERITRAIL_REQUIRE_POSTGRES"):
            raise RuntimeError(f"PostgreSQL required but not reachable: {exc}") from exc
        url = None
    if url is None:
        yield None
        return
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    admin = create_engine(
        make_url(url).set(database=make_url(os.environ[PG_ENV]).database),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _empty_tables(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # The PostgreSQL search provider's own tables (and its watermark) go with them.
        conn.execute(text("DROP TABLE IF EXISTS search_entries, search_entries_new, search_meta"))
        # The log's counter row is part of the empty schema, as the migration leaves it.
        conn.execute(text("INSERT INTO ledger_state (id, size, integrated) VALUES (1, 0, 0)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_engine: Engine | None
) -> str:
    """A migrated, empty database: a SQLite file, or the worker's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'veritrail.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        return url
    if postgres_engine is None:
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to run this test on PostgreSQL")
    _empty_tables(postgres_engine)
    return postgres_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context.from_settings(settings)
    yield context
    context.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "postgresql" in r.nodeid]
    if skipped:
        terminalreporter.write_line(
            f"PostgreSQL: {len(skipped)} tests were SKIPPED because {PG_ENV} is not set; "
            "they ran on SQLite only.",
            yellow=True,
            bold=True,
        )
    unread = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if isinstance(r.longrepr, tuple) and "shared corpus" in str(r.longrepr[2])
    ]
    if unread:
        terminalreporter.write_line(
            f"Corpus: {len(unread)} tests were SKIPPED because the shared corpus of UN "
            "documents was not found (set VERITRAIL_CORPUS_DIR).",
            yellow=True,
            bold=True,
        )
