"""Everything an action or a query needs, built once per process from settings."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from veritrail.errors import ConfigurationError, InputError
from veritrail.ledger.note import Signer
from veritrail.regimes import Registry, registry
from veritrail.settings import Mode, Settings
from veritrail.store.blobs import BlobStore, LocalBlobStore
from veritrail.store.db import make_engine, make_sessionmaker
from veritrail.store.log import TileCache


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    registry: Registry
    tile_cache: TileCache = field(default_factory=TileCache, repr=False)
    # Long-lived helpers of layers above the store (the search provider), one per context.
    services: dict[str, Any] = field(default_factory=dict, repr=False)
    _signer: Signer | None = field(default=None, repr=False)
    _signer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, registry_: Registry | None = None) -> Context:
        engine = make_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            blobs=LocalBlobStore(settings.blob_dir),
            registry=registry_ or registry(),
        )

    def log_signer(self) -> Signer:
        """The key that signs the log's checkpoints; its name is the log's origin.

        Given as VERITRAIL_LOG_KEY (required in production), or generated into
        the data directory on first use in development.
        """
        with self._signer_lock:
            if self._signer is None:
                self._signer = _load_signer(self.settings)
            return self._signer

    def close(self) -> None:
        for service in self.services.values():
            closer = getattr(service, "close", None)
            if callable(closer):
                closer()
        self.services.clear()
        self.engine.dispose()


def _load_signer(settings: Settings) -> Signer:
    text = settings.log_key
    if not text:
        if settings.mode is Mode.PRODUCTION:  # pragma: no cover - refused at load
            raise ConfigurationError("production mode needs VERITRAIL_LOG_KEY")
        path = settings.log_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generated = Signer.generate(settings.log_origin)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            temporary.write_text(generated.private_key_text + "\n")
            temporary.chmod(0o600)
            # A hard link never replaces: if another process made a key first, keep it.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
            temporary.unlink()
        text = path.read_text().strip()
    try:
        return Signer.from_private_key_text(text)
    except InputError as exc:
        raise ConfigurationError(f"the log signing key is not usable: {exc}") from exc


__all__ = ["Context"]
