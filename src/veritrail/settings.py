"""The one settings class, read from ``VERITRAIL_*`` environment variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from veritrail.errors import ConfigurationError


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Veritrail configuration.

    In development the secret key is generated into the data directory on first
    use; in production every secret must be given explicitly.
    """

    model_config = SettingsConfigDict(env_prefix="VERITRAIL_", extra="ignore")

    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Path("./var")
    database_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    max_upload_bytes: int = 50 * 1024 * 1024
    max_json_depth: int = 32
    max_spreadsheet_cells: int = 2_000_000
    # Archive files (scanned PDFs are large) and the search backend: "tantivy", an index
    # on disk in the data directory, or "postgresql", full-text search in the database.
    max_archive_bytes: int = 200 * 1024 * 1024
    search_backend: Literal["tantivy", "postgresql"] = "tantivy"
    default_language: str = "en"
    # Optional single sign-on through OpenID Connect; off while oidc_issuer is unset.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(default=None, repr=False)
    oidc_username_claim: str = "preferred_username"
    oidc_label: str = "Single sign-on"
    # The transparency log: its origin line (the signing key's name) and the key.
    # In development the key is generated into the data directory on first use.
    log_origin: str = "localhost/veritrail"
    log_key: str | None = Field(default=None, repr=False)
    # Witnesses asked to cosign each checkpoint: "URL VKEY" per entry.
    log_witnesses: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _production_refuses_defaults(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("VERITRAIL_SECRET_KEY", self.secret_key),
                    ("VERITRAIL_DATABASE_URL", self.database_url),
                    ("VERITRAIL_LOG_KEY", self.log_key),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    "production mode refuses defaults; set " + ", ".join(missing)
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'veritrail.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    @property
    def log_key_file(self) -> Path:
        """Where development keeps the generated log signing key."""
        return self.data_dir / "log_key"

    def resolved_secret_key(self) -> str:
        """The secret key, generated into the data directory in development."""
        if self.secret_key:
            return self.secret_key
        if self.mode is Mode.PRODUCTION:  # pragma: no cover - refused at load
            raise ConfigurationError("production mode needs VERITRAIL_SECRET_KEY")
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()


__all__ = ["Mode", "Settings", "get_settings"]
