"""What the checks read: submitted declarations (current versions) and imported lines.

Callers pass the reading policy as a SQL condition (``where``), so a check sees
exactly the declarations its actor may read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from veritrail.store.models import Declaration, DeclarationVersion, TransferImport, TransferLine


@dataclass(frozen=True, slots=True)
class Submitted:
    """The current version of one submitted declaration."""

    id: str
    version: int
    regime: str
    type: str
    state: str
    period: int
    classification: str
    first_submitted_at: datetime | None
    nothing_to_declare: bool
    data: dict[str, Any]

    def rows(self, section: str) -> list[dict[str, Any]]:
        value = self.data.get(section)
        return value if isinstance(value, list) else []

    def form(self, section: str) -> dict[str, Any]:
        value = self.data.get(section)
        return value if isinstance(value, dict) else {}


def submitted(
    session: Session,
    *,
    types: Sequence[tuple[str, str]] | None = None,
    years: Sequence[int] | None = None,
    where: ColumnElement[bool] | None = None,
) -> Iterator[Submitted]:
    """Current versions of submitted declarations of ``types`` ((regime, type) pairs)."""
    query = (
        select(Declaration, DeclarationVersion.document_json)
        .join(
            DeclarationVersion,
            and_(
                DeclarationVersion.declaration_id == Declaration.id,
                DeclarationVersion.version == Declaration.current_version,
            ),
        )
        .where(Declaration.current_version > 0)
        .order_by(Declaration.regime, Declaration.period, Declaration.state, Declaration.id)
    )
    if types is not None:
        regimes = sorted({r for r, _ in types})
        query = query.where(Declaration.regime.in_(regimes))
    if years is not None:
        query = query.where(Declaration.period.in_(sorted(set(years))))
    if where is not None:
        query = query.where(where)
    wanted = set(types) if types is not None else None
    for row, document in session.execute(query):
        if wanted is not None and (row.regime, row.type) not in wanted:
            continue
        data = orjson.loads(document).get("data") or {}
        yield Submitted(
            id=row.id,
            version=row.current_version,
            regime=row.regime,
            type=row.type,
            state=row.state,
            period=row.period,
            classification=row.classification,
            first_submitted_at=row.first_submitted_at,
            nothing_to_declare=row.nothing_to_declare,
            data=data,
        )


def imported_lines(
    session: Session, *, regimes: Sequence[str], years: Sequence[int] | None = None
) -> Iterator[TransferLine]:
    """Imported transfer lines of ``regimes``: import by import, oldest first, in file order."""
    query = (
        select(TransferLine)
        .join(TransferImport, TransferImport.id == TransferLine.import_id)
        .where(TransferLine.regime.in_(sorted(set(regimes))))
        .order_by(TransferImport.imported_at, TransferImport.id, TransferLine.row)
    )
    if years is not None:
        query = query.where(TransferLine.year.in_(sorted(set(years))))
    yield from session.scalars(query)


__all__ = ["Submitted", "imported_lines", "submitted"]
