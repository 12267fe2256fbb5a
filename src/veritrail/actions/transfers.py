"""Loading transfer lines from another system's file: checked whole, stored whole.

The file is parsed and every line checked first (:mod:`veritrail.analysis.transfer_csv`);
one bad line refuses the file with every problem listed. A good file is stored in
one transaction: its original bytes as a blob, the import, its lines, and the
audit row that commits the import (the file's SHA-256) to the transparency log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from veritrail.access import Actor
from veritrail.access.policy import Action, require
from veritrail.actions import audit, ledger
from veritrail.analysis.transfer_csv import parse_transfers
from veritrail.errors import TooLarge
from veritrail.store.blobs import keep_original
from veritrail.store.context import Context
from veritrail.store.models import TransferImport, TransferLine

_BATCH = 5_000


@dataclass(frozen=True)
class TransfersImported:
    id: str
    filename: str
    sha256: str
    rows: int
    by_regime: dict[str, int]
    already: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "sha256": self.sha256,
            "rows": self.rows,
            "by_regime": self.by_regime,
            "already_imported": self.already,
        }


def new_import_id() -> str:
    return f"t-{secrets.token_hex(6)}"


def do_import_transfers(
    ctx: Context, *, actor: Actor, data: bytes, filename: str
) -> TransfersImported:
    """Check and store one CSV file of transfer lines; the same file twice is stored once."""
    require(actor, Action.TRANSFERS_IMPORT)
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "transfers.csv"
    limit = ctx.settings.max_upload_bytes
    if len(data) > limit:
        raise TooLarge(
            f"{filename} is {len(data):,} bytes; transfer files are accepted up to {limit:,} bytes",
            limit=limit,
        )
    sha256 = hashlib.sha256(data).hexdigest()
    with ctx.sessions() as session:
        earlier = session.scalars(
            select(TransferImport).where(TransferImport.sha256 == sha256)
        ).first()
        if earlier is not None:
            return TransfersImported(
                earlier.id, earlier.filename, sha256, earlier.rows, {}, already=True
            )
    parsed = parse_transfers(data, ctx.registry)
    by_regime: dict[str, int] = {}
    for line in parsed.lines:
        by_regime[line.regime] = by_regime.get(line.regime, 0) + 1
    import_id = new_import_id()
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        keep_original(ctx.blobs, session, data, "text/csv")
        session.add(
            TransferImport(
                id=import_id,
                sha256=sha256,
                filename=filename[-255:],
                rows=len(parsed.lines),
                imported_at=now,
                imported_by=actor.username,
            )
        )
        session.flush()
        rows = [
            {
                "import_id": import_id,
                "row": line.row,
                "regime": line.regime,
                "year": line.year,
                "reporting_state": line.reporting_state,
                "partner_state": line.partner_state,
                "direction": line.direction,
                "item": line.item,
                "quantity": line.quantity,
                "unit": line.unit,
                "amount": line.amount,
            }
            for line in parsed.lines
        ]
        for start in range(0, len(rows), _BATCH):
            session.execute(insert(TransferLine), rows[start : start + _BATCH])
        audit.record(
            session,
            actor=actor,
            action="transfers.import",
            record_type="transfer_import",
            record_id=import_id,
            version=1,
            sha256=sha256,
            filename=filename[-255:],
            rows=len(parsed.lines),
            by_regime=by_regime,
        )
    ledger.integrate(ctx)
    return TransfersImported(import_id, filename, sha256, len(parsed.lines), by_regime)


__all__ = ["TransfersImported", "do_import_transfers", "new_import_id"]
