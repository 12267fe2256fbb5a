"""Alembic environment: the connection is handed in by ``veritrail.store.migrate``."""

from __future__ import annotations

from alembic import context

from veritrail.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through migrate.upgrade
    raise RuntimeError("run migrations with `veritrail db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
