"""Public shapes of declarations, shared by the API, the CLI and the web."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Lifecycle(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AMENDED = "amended"


class ReportingStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOTHING_TO_DECLARE = "nothing_to_declare"
    NOT_YET_DUE = "not_yet_due"
    DRAFT = "draft"


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionPublic(_Public):
    version: int
    content_sha256: str
    original_sha256: str | None
    original_filename: str | None
    source_format: str
    submitted_at: datetime
    submitted_by: str
    line_count: int
    note: str | None = None


class DeclarationPublic(_Public):
    id: str
    regime: str
    type: str
    state: str
    period: int
    status: Lifecycle
    classification: str
    current_version: int
    nothing_to_declare: bool
    created_at: datetime
    created_by: str
    first_submitted_at: datetime | None
    updated_at: datetime
    due: date
    reporting: ReportingStatus


class AnnexPublic(_Public):
    """A confidential annex of a declaration, and whether it is withheld from the reader."""

    section: str
    classification: str
    withheld: bool


class DeclarationDetail(DeclarationPublic):
    versions: list[VersionPublic]
    draft: dict[str, Any] | None = None
    annexes: list[AnnexPublic] = []


class SubmissionResult(_Public):
    """What a submitter gets back: the stored version and the checks' warnings."""

    id: str
    version: int
    state: str
    regime: str
    type: str
    period: int
    status: Lifecycle
    content_sha256: str
    original_sha256: str | None
    submitted_at: datetime
    amendment: bool
    warnings: list[dict[str, Any]]
    log_index: int = Field(description="the leaf of the transparency log that commits this version")
    receipt: dict[str, Any] | None = Field(
        default=None,
        description="proof that the log includes this version, verifiable offline "
        "(`veritrail verify receipt`)",
    )


class StatusCell(_Public):
    state: str
    regime: str
    period: int
    status: ReportingStatus
    due: date
    declarations: int
    submitted_at: datetime | None


__all__ = [
    "AnnexPublic",
    "DeclarationDetail",
    "DeclarationPublic",
    "Lifecycle",
    "ReportingStatus",
    "StatusCell",
    "SubmissionResult",
    "VersionPublic",
]
