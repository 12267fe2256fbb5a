"""Everything an action or a query needs, built once per process from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from veritrail.regimes import Registry, registry
from veritrail.settings import Settings
from veritrail.store.blobs import BlobStore, LocalBlobStore
from veritrail.store.db import make_engine, make_sessionmaker


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    registry: Registry

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

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Context"]
