"""``veritrail audit``: every stored record and file, recomputed and compared with the log.

Finds records altered in the database, files altered or lost in the blob
store, records the log never received, entries whose record is gone, and a log
whose entries no longer hash to its tiles and signed checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from veritrail.errors import VeritrailError
from veritrail.ledger import merkle, tiles
from veritrail.ledger.checkpoint import open_checkpoint
from veritrail.ledger.envelope import Envelope
from veritrail.store import log
from veritrail.store.commitments import (
    ACCESS_BATCH,
    access_batch_content,
    audit_content,
    goes_to_log,
)
from veritrail.store.context import Context
from veritrail.store.models import (
    AccessEvent,
    AuditEvent,
    DeclarationVersion,
    LedgerEntry,
    LedgerTile,
)

Progress = Callable[[int, int], None]
CHUNK = 5000


@dataclass(frozen=True)
class Finding:
    kind: str  # altered, missing_entry, extra_entry, altered_file, missing_file, log
    record: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "record": self.record, "message": self.message}


@dataclass
class AuditReport:
    entries: int = 0
    records: int = 0
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Auditor:
    def __init__(self, ctx: Context, session: Session, report: AuditReport) -> None:
        self.ctx = ctx
        self.session = session
        self.report = report
        self.seen_versions: set[tuple[str, int]] = set()
        self.seen_events: set[int] = set()

    def add(self, kind: str, record: str, message: str) -> None:
        self.report.findings.append(Finding(kind, record, message))

    def check_file(self, record: str, name: str, digest: str) -> None:
        self.report.files += 1
        if not self.ctx.blobs.exists(digest):
            self.add("missing_file", record, f"the {name} file {digest} is not in the blob store")
            return
        actual = _sha(self.ctx.blobs.get(digest))
        if actual != digest:
            self.add("altered_file", record, f"the {name} file {digest} now hashes to {actual}")

    def declaration(self, index: int, env: Envelope) -> None:
        record = f"declaration {env.record_id} version {env.version}"
        row = self.session.scalars(
            select(DeclarationVersion).where(
                DeclarationVersion.declaration_id == env.record_id,
                DeclarationVersion.version == env.version,
            )
        ).first()
        if row is None:
            self.add("extra_entry", record, f"log entry {index} names a version that is not stored")
            return
        self.seen_versions.add((row.declaration_id, row.version))
        actual = _sha(row.document_json.encode("utf-8"))
        if actual != env.content_sha256 or row.content_sha256 != env.content_sha256:
            self.add(
                "altered",
                record,
                f"content hashes to {actual}; the log (entry {index}) committed "
                f"{env.content_sha256}",
            )
        original = env.files.get("original")
        if (row.original_sha256 or None) != original:
            self.add(
                "altered",
                record,
                f"its original file is recorded as {row.original_sha256}; the log committed "
                f"{original}",
            )
        if original:
            self.check_file(record, "original", original)

    def audit_event(self, index: int, env: Envelope) -> None:
        record = f"{env.record_type} {env.record_id}"
        event = self.session.scalars(
            select(AuditEvent).where(AuditEvent.ledger_index == index)
        ).first()
        if event is None:
            self.add("extra_entry", record, f"log entry {index} names a change that is not stored")
            return
        self.seen_events.add(event.id)
        actual = _sha(audit_content(event))
        if actual != env.content_sha256:
            self.add(
                "altered",
                f"{record} ({event.action})",
                f"the audit row hashes to {actual}; the log (entry {index}) committed "
                f"{env.content_sha256}",
            )

    def access_batch(self, index: int, env: Envelope) -> None:
        first, last = (int(x) for x in env.record_id.split("-"))
        events = list(
            self.session.scalars(
                select(AccessEvent)
                .where(AccessEvent.id >= first, AccessEvent.id <= last)
                .order_by(AccessEvent.id)
            )
        )
        actual = _sha(access_batch_content(events))
        if actual != env.content_sha256:
            self.add(
                "altered",
                f"access log rows {env.record_id}",
                f"the rows hash to {actual}; the log (entry {index}) committed "
                f"{env.content_sha256}",
            )


def _check_entries(auditor: _Auditor, size: int, progress: Progress | None) -> list[bytes]:
    leaves: list[bytes] = []
    done = 0
    while done < size:
        rows = auditor.session.execute(
            select(LedgerEntry.idx, LedgerEntry.entry)
            .where(LedgerEntry.idx >= done, LedgerEntry.idx < done + CHUNK)
            .order_by(LedgerEntry.idx)
        ).all()
        if not rows:
            break
        for index, raw in rows:
            data = bytes(raw)
            if index != len(leaves):
                auditor.add("log", f"entry {len(leaves)}", "the log's entries have a gap")
                return leaves
            leaves.append(merkle.leaf_hash(data))
            try:
                env = Envelope.from_bytes(data)
            except VeritrailError as exc:
                auditor.add("log", f"entry {index}", exc.message)
                continue
            if env.record_type == "declaration":
                auditor.declaration(index, env)
            elif env.record_type == ACCESS_BATCH:
                auditor.access_batch(index, env)
            else:
                auditor.audit_event(index, env)
        done += len(rows)
        if progress is not None:
            progress(done, size)
    return leaves


def _check_tiles(auditor: _Auditor, leaves: list[bytes]) -> None:
    session = auditor.session
    checkpoint = log.latest_checkpoint(session)
    if checkpoint is None:
        if leaves:
            auditor.add("log", "checkpoint", "the log holds entries but no signed checkpoint")
        return
    try:
        opened, _ = open_checkpoint(checkpoint.note, auditor.ctx.log_signer().verifier)
    except VeritrailError as exc:
        auditor.add("log", f"checkpoint {checkpoint.size}", exc.message)
        return
    signed = leaves[: opened.size]
    if len(signed) < opened.size:
        auditor.add(
            "log",
            "entries",
            f"the checkpoint signs {opened.size} entries; {len(leaves)} are stored",
        )
        return
    rebuilt = tiles.build_tiles(signed)
    stored = {(t.level, t.idx): bytes(t.hashes) for t in session.scalars(select(LedgerTile))}
    for tile_id in tiles.tiles_for_size(opened.size):
        key = (tile_id.level or 0, tile_id.index)
        width = tile_id.width * merkle.HASH_SIZE
        if stored.get(key, b"")[:width] != rebuilt.get(key, b"")[:width]:
            auditor.add("log", tile_id.path, "the stored tile does not match the entries")
    root = merkle.tree_root(
        opened.size, tiles.TileHashReader(opened.size, lambda lv, ix: rebuilt.get((lv, ix), b""))
    )
    if root != opened.root_hash:
        auditor.add(
            "log",
            f"checkpoint {opened.size}",
            "the stored entries do not hash to the signed root: entries were altered",
        )


def run_audit(ctx: Context, *, progress: Progress | None = None) -> AuditReport:
    """Recompute everything; the report lists every finding (an empty list is a clean audit)."""
    report = AuditReport()
    with ctx.sessions() as session:
        auditor = _Auditor(ctx, session, report)
        size, _integrated = log.counters(session)
        leaves = _check_entries(auditor, size, progress)
        report.entries = len(leaves)
        _check_tiles(auditor, leaves)
        for declaration_id, version in session.execute(
            select(DeclarationVersion.declaration_id, DeclarationVersion.version)
        ):
            report.records += 1
            if (declaration_id, version) not in auditor.seen_versions:
                auditor.add(
                    "missing_entry",
                    f"declaration {declaration_id} version {version}",
                    "stored, but the log has no entry for it",
                )
        for event_id, action, record_type, record_id in session.execute(
            select(AuditEvent.id, AuditEvent.action, AuditEvent.record_type, AuditEvent.record_id)
        ):
            if goes_to_log(action) and event_id not in auditor.seen_events:
                report.records += 1
                auditor.add(
                    "missing_entry",
                    f"{record_type} {record_id} ({action})",
                    "a change the log should commit has no entry",
                )
    return report


__all__ = ["AuditReport", "Finding", "run_audit"]
