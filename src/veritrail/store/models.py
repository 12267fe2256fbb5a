"""Tables of Veritrail. Rows never leave the store: interfaces use pydantic models."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from veritrail.store.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Organisation(Base):
    """A secretariat division, a state's national authority, a laboratory or an observer."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    state: Mapped[str | None] = mapped_column(String(3), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # TOTP second factor: the shared secret, encrypted with the server's key.
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class ApiToken(Base):
    """A scoped, expiring credential for a machine client; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Group(Base):
    """A need-to-know group: the people working on one case, inspection or investigation."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # case, inspection, investigation
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class AccessEvent(Base):
    """One read of protected or highly protected material; never updated or deleted."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    classification: Mapped[str] = mapped_column(String(20))
    client: Mapped[str | None] = mapped_column(String(100))
    purpose: Mapped[str | None] = mapped_column(String(300))


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(64))
    regime: Mapped[str] = mapped_column(String(32))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(300))


class Blob(Base):
    """An original file as received, stored in the blob store under its SHA-256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Declaration(Base):
    """A declaration of one state for one regime, type and period, across its versions."""

    __tablename__ = "declarations"
    __table_args__ = (
        Index("ix_declarations_srtp", "state", "regime", "type", "period"),
        # Each alternative of the reading policy walks one of these in page order.
        Index("ix_declarations_state_updated", "state", "updated_at", "id"),
        Index(
            "ix_declarations_classification_updated", "classification", "updated_at", "id", "state"
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    regime: Mapped[str] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(3), index=True)
    period: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))  # draft, submitted, amended
    classification: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id"))
    # Annexes reclassified on this declaration: {section id: classification}; others
    # keep the classification their regime pack gives them.
    annex_classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    nothing_to_declare: Mapped[bool] = mapped_column(Boolean, default=False)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    first_submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[DeclarationVersion]] = relationship(
        back_populates="declaration", order_by="DeclarationVersion.version"
    )


class DeclarationVersion(Base):
    """One submitted version; never updated once written."""

    __tablename__ = "declaration_versions"
    __table_args__ = (UniqueConstraint("declaration_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # The canonical bytes exactly as hashed, so the stored text is the evidence.
    document_json: Mapped[str] = mapped_column("document", Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    original_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(16))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    # The submitter's own Ed25519 signature over the original file (a signed note),
    # checked at submission against the state's registered keys.
    signature: Mapped[str | None] = mapped_column(Text)
    signing_key_id: Mapped[str | None] = mapped_column(ForeignKey("signing_keys.id"))

    declaration: Mapped[Declaration] = relationship(back_populates="versions")

    @property
    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.document_json)
        return data


class AuditEvent(Base):
    """Who did what to which record, when; written with the change it records."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The leaf that commits this change to the transparency log, for the kinds of
    # change that go there (accounts, keys, classification).
    ledger_index: Mapped[int | None] = mapped_column(BigInteger)


class SigningKey(Base):
    """A national authority's Ed25519 public key for signing declarations offline.

    Registration, rotation and revocation are committed to the log; a revoked
    key stays on record so earlier signatures can still be shown.
    """

    __tablename__ = "signing_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(3), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    replaced_by: Mapped[str | None] = mapped_column(String(32))


class LedgerState(Base):
    """The log's one row of counters: entries appended, and entries hashed into tiles.

    Appending updates ``size`` first, so the write lock (SQLite) or row lock
    (PostgreSQL) it takes orders every append; integration moves ``integrated``
    up to ``size`` after the records' transactions have committed.
    """

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    integrated: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerEntry(Base):
    """One leaf of the transparency log: the exact envelope bytes that were hashed."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_record", "record_type", "record_id", "version"),)

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)


class LedgerTile(Base):
    """The hashes of one C2SP tlog-tiles tile so far (up to 256 hashes of 32 bytes)."""

    __tablename__ = "ledger_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    """Every checkpoint the log signed, with the witnesses' cosignatures gathered since."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "AccessEvent",
    "ApiToken",
    "AuditEvent",
    "Group",
    "GroupMember",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerState",
    "LedgerTile",
    "SigningKey",
    "Base",
    "Blob",
    "Declaration",
    "DeclarationVersion",
    "Facility",
    "Organisation",
    "User",
]


class ArchiveDocument(Base):
    """A file in the archive, its extracted text and what was found in it.

    The original is a content-addressed blob; its SHA-256 is unique here, so the
    same file is never imported twice. The record is committed to the log once,
    as version 1; reclassification is an audited, logged change.
    """

    __tablename__ = "archive_documents"
    __table_args__ = (
        Index("ix_archive_documents_classification", "classification", "imported_at", "id"),
        Index("ix_archive_documents_owner", "owner_state", "imported_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), unique=True)
    source_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    pages: Mapped[int] = mapped_column(Integer, default=1)
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    # Languages of each page, where a document mixes them: [[page, language], ...].
    page_languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mentions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document_date: Mapped[str | None] = mapped_column(String(10))  # ISO date, when known
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    author: Mapped[str | None] = mapped_column(String(300))
    owner_state: Mapped[str | None] = mapped_column(String(3))
    regimes: Mapped[list[str]] = mapped_column(JSON, default=list)
    classification: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    ledger_index: Mapped[int | None] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchOutbox(Base):
    """Records whose search entry must be refreshed, written with the change itself.

    The indexer applies rows in ``id`` order and remembers the last one applied in
    the index (its watermark), so a crash between commit and indexing loses nothing.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Job(Base):
    """Background work (an upload to read, an index to rebuild) and how far it got."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(100))


class TransferImport(Base):
    """A file of transfer lines loaded from another system, kept as its original blob.

    Its lines stand for a state's declaration of that regime and year where the
    state submitted none in Veritrail. The import is an audited, logged action.
    """

    __tablename__ = "transfer_imports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(100))


class TransferLine(Base):
    """One imported transfer line, as given and with its quantity normalised."""

    __tablename__ = "transfer_lines"
    __table_args__ = (Index("ix_transfer_lines_regime_year", "regime", "year"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("transfer_imports.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)  # line of the file, the header being line 1
    regime: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    reporting_state: Mapped[str] = mapped_column(String(3))
    partner_state: Mapped[str] = mapped_column(String(3))
    direction: Mapped[str] = mapped_column(String(6))  # export, import
    item: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[str] = mapped_column(String(40))  # as given, a decimal
    unit: Mapped[str] = mapped_column(String(8))  # as given: g, kg, t, items
    amount: Mapped[float] = mapped_column(Float)  # in the regime's reconciliation unit


class Case(Base):
    """A discrepancy case: a finding an analyst follows up with the states concerned.

    ``fingerprint`` names what was found (a transfer pair and item, a state's
    figure, a facility), so checks run again find their case instead of opening
    another. Every change is an audited, logged action and raises ``version``.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_updated", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    check: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    regime: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    states: Mapped[list[str]] = mapped_column(JSON, default=list)
    item: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    explanation: Mapped[str] = mapped_column(Text)
    finding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(24))  # open, awaiting_state, answered, closed
    classification: Mapped[str] = mapped_column(String(20))
    # The need-to-know group of a highly protected case: that of the declaration it rests on.
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id"))
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    # States asked to clarify that have not answered yet.
    awaiting: Mapped[list[str]] = mapped_column(JSON, default=list)
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    closure_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseState(Base):
    """Which states a case concerns, one row each, so a state's cases are found by index."""

    __tablename__ = "case_states"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)


class CaseEvent(Base):
    """One step in a case's history: opened, assigned, asked, answered, re-evaluated, closed."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(3))  # the state asked or answering
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer)  # the case's version after this step

    case: Mapped[Case] = relationship(back_populates="events")
