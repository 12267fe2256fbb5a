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
from veritrail.ledger import tiles
from veritrail.ledger.envelope import Envelope
from veritrail.ledger.logcheck import check_log
from veritrail.store import log
from veritrail.store.commitments import (
    ACCESS_BATCH,
    access_batch_content,
    audit_content,
    document_content,
    goes_to_log,
)
from veritrail.store.context import Context
from veritrail.store.models import (
    AccessEvent,
    ArchiveDocument,
    AuditEvent,
    DeclarationVersion,
    LedgerEntry,
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
        self.seen_documents: set[str] = set()

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

    def document(self, index: int, env: Envelope) -> None:
        record = f"document {env.record_id}"
        row = self.session.get(ArchiveDocument, env.record_id)
        if row is None:
            self.add("extra_entry", record, f"log entry {index} names a document not stored")
            return
        self.seen_documents.add(row.id)
        actual = _sha(document_content(row))
        if actual != env.content_sha256 or row.content_sha256 != env.content_sha256:
            self.add(
                "altered",
                record,
                f"content hashes to {actual}; the log (entry {index}) committed "
                f"{env.content_sha256}",
            )
        original = env.files.get("original")
        if row.sha256 != original:
            self.add(
                "altered",
                record,
                f"its original file is recorded as {row.sha256}; the log committed {original}",
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


def _check_entries(auditor: _Auditor, size: int, progress: Progress | None) -> int:
    """Check every entry against its record; how many contiguous entries there are."""
    count = 0
    while count < size:
        rows = auditor.session.execute(
            select(LedgerEntry.idx, LedgerEntry.entry)
            .where(LedgerEntry.idx >= count, LedgerEntry.idx < count + CHUNK)
            .order_by(LedgerEntry.idx)
        ).all()
        if not rows:
            break
        for index, raw in rows:
            if index != count:
                auditor.add("log", f"entry {count}", "the log's entries have a gap")
                return count
            count += 1
            try:
                env = Envelope.from_bytes(bytes(raw))
            except VeritrailError as exc:
                auditor.add("log", f"entry {index}", exc.message)
                continue
            if "audit" in env.files:
                auditor.audit_event(index, env)
            elif env.record_type == "declaration":
                auditor.declaration(index, env)
            elif env.record_type == "document":
                auditor.document(index, env)
            elif env.record_type == ACCESS_BATCH:
                auditor.access_batch(index, env)
            else:
                auditor.add("log", f"entry {index}", f"unknown record type {env.record_type!r}")
        if progress is not None:
            progress(count, size)
    return count


def _check_log(auditor: _Auditor, entries: int) -> None:
    """The stored tiles and checkpoint, checked as a state checks the public log."""
    session = auditor.session
    checkpoint = log.latest_checkpoint(session)
    if checkpoint is None:
        if entries:
            auditor.add("log", "checkpoint", "the log holds entries but no signed checkpoint")
        return

    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            return checkpoint.note.encode()
        return log.read_tile(session, tiles.parse_tile_path(path), checkpoint.size)

    try:
        check_log(fetch, auditor.ctx.log_signer().verifier)
    except VeritrailError as exc:
        auditor.add("log", f"checkpoint {checkpoint.size}", exc.message)


def run_audit(ctx: Context, *, progress: Progress | None = None) -> AuditReport:
    """Recompute everything; the report lists every finding (an empty list is a clean audit)."""
    report = AuditReport()
    with ctx.sessions() as session:
        auditor = _Auditor(ctx, session, report)
        size, _integrated = log.counters(session)
        report.entries = _check_entries(auditor, size, progress)
        _check_log(auditor, report.entries)
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
        for (document_id,) in session.execute(select(ArchiveDocument.id)):
            report.records += 1
            if document_id not in auditor.seen_documents:
                auditor.add(
                    "missing_entry",
                    f"document {document_id}",
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
