"""Gathering witnesses' cosignatures on the log's latest checkpoint (C2SP tlog-witness).

A witness (a state can run its own, ``veritrail witness serve``) cosigns a
checkpoint only if it is consistent with every checkpoint it cosigned before,
so a log that showed two different histories would be caught. Witnesses are
configured as ``VERITRAIL_LOG_WITNESSES='["URL VKEY", ...]'``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from veritrail.errors import ConfigurationError, InputError, VeritrailError
from veritrail.ledger import merkle
from veritrail.ledger.note import Verifier, add_signatures, parse_verifier_key, split_note
from veritrail.ledger.witness import WitnessSizeConflict, submit_to_witness
from veritrail.store import log
from veritrail.store.context import Context
from veritrail.store.models import LedgerCheckpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogWitness:
    """A witness the log asks to cosign: where it answers, and its cosigning key."""

    url: str
    verifier: Verifier


def configured_witnesses(ctx: Context) -> list[LogWitness]:
    found = []
    for item in ctx.settings.log_witnesses:
        url, _, vkey = item.strip().partition(" ")
        if not url.startswith(("http://", "https://")) or not vkey.strip():
            raise ConfigurationError(
                f"VERITRAIL_LOG_WITNESSES entry {item!r}: write 'URL VKEY', e.g. "
                "'https://witness.example/ witness.example+1a2b3c4d+BA…'"
            )
        try:
            found.append(LogWitness(url, parse_verifier_key(vkey.strip())))
        except InputError as exc:
            raise ConfigurationError(f"witness key for {url}: {exc.message}") from exc
    return found


# The size each witness last cosigned, learned from its answers (per process).
_known_sizes: dict[str, int] = {}


def _has_cosignature(note: str, witness: Verifier) -> bool:
    return any((s.name, s.key_id) == (witness.name, witness.key_id) for s in split_note(note)[1])


def gather_cosignatures(ctx: Context) -> int:
    """Ask every configured witness to cosign the latest checkpoint; lines added."""
    witnesses = configured_witnesses(ctx)
    with ctx.sessions() as session:
        latest = log.latest_checkpoint(session)
    if latest is None or not witnesses:
        return 0
    added: list[str] = []
    for witness in witnesses:
        if _has_cosignature(latest.note, witness.verifier):
            continue
        old = min(_known_sizes.get(witness.url, 0), latest.size)
        for _attempt in range(2):
            with ctx.sessions() as session:
                proof = merkle.consistency_proof(
                    old, latest.size, log.hash_reader(session, latest.size, ctx.tile_cache)
                )
            try:
                lines = submit_to_witness(
                    witness.url, old, proof, latest.note, witness=witness.verifier
                )
            except WitnessSizeConflict as exc:
                old = exc.witness_size
                continue
            except VeritrailError as exc:
                logger.warning("witness %s: %s", witness.url, exc.message)
                break
            _known_sizes[witness.url] = latest.size
            added.extend(lines)
            break
    if added:
        with ctx.sessions() as session, session.begin():
            row = session.scalars(
                select(LedgerCheckpoint)
                .where(LedgerCheckpoint.size == latest.size)
                .with_for_update()
            ).one()
            row.note = add_signatures(row.note, added)
    return len(added)


__all__ = ["LogWitness", "configured_witnesses", "gather_cosignatures"]
