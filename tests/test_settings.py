"""Settings, the secret key, and the content-addressed blob store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from veritrail.errors import ConfigurationError, NotFound
from veritrail.settings import Mode, Settings
from veritrail.store.blobs import LocalBlobStore
from veritrail.store.db import make_engine


def test_defaults_live_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert (
        settings.resolved_database_url == f"sqlite:///{(tmp_path / 'veritrail.sqlite3').resolve()}"
    )
    key = settings.resolved_secret_key()
    assert len(key) > 40 and settings.resolved_secret_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("VERITRAIL_MAX_UPLOAD_BYTES", "1234")
    settings = Settings()
    assert settings.data_dir == tmp_path / "x" and settings.max_upload_bytes == 1234


def test_production_refuses_defaults() -> None:
    with pytest.raises(ConfigurationError, match="VERITRAIL_SECRET_KEY"):
        Settings(mode=Mode.PRODUCTION)
    with pytest.raises(ConfigurationError, match="VERITRAIL_LOG_KEY"):
        Settings(mode=Mode.PRODUCTION, secret_key="s" * 40, database_url="postgresql://h/db")
    ok = Settings(
        mode=Mode.PRODUCTION,
        secret_key="s" * 40,
        database_url="postgresql://h/db",
        log_key="PRIVATE+KEY+log.example/veritrail+00000000+AQ==",
    )
    assert ok.resolved_secret_key() == "s" * 40


def test_unsupported_database_url_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        make_engine("mysql://root@localhost/x")
    with pytest.raises(ConfigurationError, match="not a database URL"):
        make_engine("not a url")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_blob_store_is_content_addressed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    data = "申报 declaration".encode()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.path(digest) == tmp_path / "blobs" / digest[:2] / digest[2:4] / digest
    assert store.put(data) == digest and store.get(digest) == data
    assert not list((tmp_path / "blobs").rglob(".incoming-*"))
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(NotFound):
        store.get("../../etc/passwd")
