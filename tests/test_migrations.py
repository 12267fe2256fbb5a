"""Migrations keep the data of an installation that was already in use."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from veritrail.store.db import make_engine
from veritrail.store.migrate import is_current, upgrade


def test_upgrade_from_the_first_schema_keeps_every_row(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0001")
    assert not is_current(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisations (id, kind, name, state, created_at) "
                "VALUES ('na-FRA', 'national_authority', 'NA', 'FRA', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, password_hash, role, organisation_id, "
                "language, created_at) VALUES ('fra', 'F', 'x', 'na_submitter', 'na-FRA', 'fr', "
                "'2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO declarations (id, regime, type, state, period, status, "
                "classification, "
                "current_version, nothing_to_declare, created_at, created_by, updated_at) VALUES "
                "('D-1', 'cwc', 'adnd', 'FRA', 2024, 'submitted', 'protected', 1, 0, "
                "'2025-01-01 00:00:00', 'fra', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO declaration_versions (declaration_id, version, document, "
                "content_sha256, "
                "source_format, line_count, submitted_at, submitted_by) VALUES "
                "('D-1', 1, '{}', 'h', 'json', 0, '2025-01-01 00:00:00', 'fra')"
            )
        )
    upgrade(engine)
    assert is_current(engine)
    users = "SELECT active, failed_logins FROM users"
    with engine.connect() as conn:
        assert conn.execute(text(users)).one() == (1, 0)
        assert conn.execute(text("SELECT count(*) FROM declaration_versions")).scalar() == 1
        assert conn.execute(text("SELECT group_id FROM declarations")).scalar() is None
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
