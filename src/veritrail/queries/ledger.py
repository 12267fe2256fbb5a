"""Reads of the transparency log: checkpoints, tiles, receipts and consistency proofs.

Everything here is public by design: the log holds envelopes (hashes, ids,
times), never confidential content.
"""

from __future__ import annotations

import base64
from typing import Any

from veritrail.declarations.models import SubmissionResult
from veritrail.errors import InputError, NotFound
from veritrail.ledger import merkle
from veritrail.ledger.tiles import TileId
from veritrail.store import log
from veritrail.store.context import Context
from veritrail.store.models import LedgerCheckpoint


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint_note(ctx: Context) -> LedgerCheckpoint:
    """The latest signed checkpoint, with the cosignatures gathered so far."""
    with ctx.sessions() as session:
        found = log.latest_checkpoint(session)
    if found is None:
        raise NotFound("the log has signed no checkpoint yet")
    return found


def tile(ctx: Context, tile_id: TileId) -> bytes:
    with ctx.sessions() as session:
        _size, integrated = log.counters(session)
        return log.read_tile(session, tile_id, integrated)


def receipt_for_index(ctx: Context, index: int) -> dict[str, Any]:
    """The receipt of leaf ``index`` against the latest checkpoint.

    ``{"checkpoint", "index", "entry", "inclusion_proof"}`` as states verify it,
    plus the record it names and the log's verifier key for convenience (a
    state checks against the key it holds, not this one).
    """
    if index < 0:
        raise InputError("a leaf index is 0 or more")
    with ctx.sessions() as session:
        checkpoint = log.latest_checkpoint(session)
        if checkpoint is None or index >= checkpoint.size:
            size = 0 if checkpoint is None else checkpoint.size
            raise NotFound(
                f"the log has no signed entry {index} yet (signed size {size}); "
                "run `veritrail ledger integrate` or try again in a moment"
            )
        entry = log.entry_at(session, index)
        proof = merkle.inclusion_proof(
            index, checkpoint.size, log.hash_reader(session, checkpoint.size, ctx.tile_cache)
        )
    return {
        "checkpoint": checkpoint.note,
        "index": index,
        "entry": _b64(bytes(entry.entry)),
        "inclusion_proof": [_b64(h) for h in proof],
        "record": {"type": entry.record_type, "id": entry.record_id, "version": entry.version},
        "vkey": ctx.log_signer().verifier.vkey,
    }


def receipt_for_record(
    ctx: Context, record_type: str, record_id: str, version: int | None = None
) -> dict[str, Any]:
    """The receipt of a record version (the latest one committed when ``version`` is None)."""
    with ctx.sessions() as session:
        entries = log.entries_of(session, record_type, record_id, version)
    if not entries:
        which = f"version {version} of " if version is not None else ""
        raise NotFound(f"the log holds no entry for {which}{record_type} {record_id!r}")
    return receipt_for_index(ctx, entries[-1].idx)


def with_receipt(ctx: Context, result: SubmissionResult) -> SubmissionResult:
    """The submission result with its receipt, as every interface hands it back."""
    return result.model_copy(update={"receipt": receipt_for_index(ctx, result.log_index)})


def consistency(ctx: Context, old_size: int, new_size: int) -> list[str]:
    """RFC 9162 consistency proof between two sizes of the signed log, base64 hashes."""
    with ctx.sessions() as session:
        _size, integrated = log.counters(session)
        if not 0 <= old_size <= new_size:
            raise InputError(f"need 0 <= OLD_SIZE <= NEW_SIZE, got {old_size} and {new_size}")
        if new_size > integrated:
            raise InputError(
                f"the log's signed size is {integrated}; NEW_SIZE {new_size} is beyond it"
            )
        proof = merkle.consistency_proof(
            old_size, new_size, log.hash_reader(session, new_size, ctx.tile_cache)
        )
    return [_b64(h) for h in proof]


def log_summary(ctx: Context) -> dict[str, Any]:
    """What the public Verify page shows: origin, size, key, checkpoint, witnesses."""
    signer = ctx.log_signer()
    with ctx.sessions() as session:
        checkpoint = log.latest_checkpoint(session)
        size, integrated = log.counters(session)
    return {
        "origin": signer.name,
        "vkey": signer.verifier.vkey,
        "size": 0 if checkpoint is None else checkpoint.size,
        "pending": size - integrated,
        "checkpoint": None if checkpoint is None else checkpoint.note,
        "signed_at": None if checkpoint is None else checkpoint.created_at,
        "witnesses": list(ctx.settings.log_witnesses),
    }


__all__ = [
    "checkpoint_note",
    "consistency",
    "log_summary",
    "receipt_for_index",
    "receipt_for_record",
    "tile",
    "with_receipt",
]
