"""Every write to declarations: drafts, submissions and amendments.

Each ``do_*`` function owns one transaction that writes the record, its
version and its audit row together; nothing is stored from invalid input.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can, require
from veritrail.actions import audit, ledger
from veritrail.actions.case_jobs import enqueue_refresh
from veritrail.actions.signing_keys import check_submission_signature
from veritrail.declarations.document import ParsedDeclaration, canonical_bytes
from veritrail.declarations.models import Lifecycle, SubmissionResult
from veritrail.declarations.redact import annex_classifications
from veritrail.declarations.validate import validate
from veritrail.errors import Conflict, InputError, NotFound, Problem, ValidationFailed
from veritrail.reference import states
from veritrail.regimes.model import Classification, DeclarationType, SectionKind
from veritrail.store import outbox
from veritrail.store.blobs import keep_original
from veritrail.store.context import Context
from veritrail.store.models import Declaration, DeclarationVersion, Group


def new_declaration_id() -> str:
    return "D-" + uuid.uuid4().hex[:16].upper()


def _apply_state(parsed: ParsedDeclaration, state: str | None) -> dict[str, Any]:
    """The document with the state given on the command line or form filled in."""
    document = dict(parsed.document)
    if state is None:
        return document
    wanted = states.lookup(state)
    if wanted is None:
        raise ValidationFailed(
            [
                Problem(
                    "/state",
                    "unknown_state",
                    f"{state!r} is not a known state; use an ISO 3166-1 alpha-3 code such as FRA",
                )
            ]
        )
    declared = document.get("state")
    if declared in (None, ""):
        document["state"] = wanted.alpha3
    else:
        found = states.lookup(str(declared))
        if found is not None and found.alpha3 != wanted.alpha3:
            raise ValidationFailed(
                [
                    Problem(
                        parsed.locate("/state"),
                        "state_mismatch",
                        f"the file declares {found.alpha3} but is submitted for {wanted.alpha3}",
                    )
                ]
            )
    return document


def _line_count(document: dict[str, Any], dtype: DeclarationType) -> int:
    data = document.get("data") or {}
    return sum(len(data.get(s.id) or []) for s in dtype.sections if s.kind is SectionKind.TABLE)


def _locate_all(parsed: ParsedDeclaration, problems: list[Problem]) -> list[Problem]:
    if not parsed.locations:
        return problems
    return [
        Problem(parsed.locate(p.path), p.code, p.message, p.severity, field=p.path)
        for p in problems
    ]


def _find_target(
    session: Session, document: dict[str, Any], dtype: DeclarationType, actor: Actor, now: datetime
) -> Declaration:
    """The declaration this submission belongs to, existing or new."""
    if document.get("id"):
        found = session.get(Declaration, document["id"], with_for_update=True)
        readable = found is not None and can(
            actor,
            Action.DECLARATION_READ,
            Resource(
                owner_state=found.state,
                classification=Classification(found.classification),
                group_id=found.group_id,
            ),
            groups=actor.groups,
        )
        if found is None or not readable:
            raise NotFound(f"no declaration with id {document['id']!r} to amend")
        same = (found.regime, found.type, found.state, found.period) == (
            document["regime"],
            document["type"],
            document["state"],
            document["period"],
        )
        if not same:
            raise Conflict(
                f"declaration {found.id} is {found.regime}/{found.type} of {found.state} for "
                f"{found.period}; an amendment cannot change regime, type, state or period"
            )
        return found
    if dtype.expected == "every_party":
        existing = session.scalars(
            select(Declaration).where(
                Declaration.state == document["state"],
                Declaration.regime == document["regime"],
                Declaration.type == document["type"],
                Declaration.period == document["period"],
            )
        ).first()
        if existing is not None:
            if existing.status != Lifecycle.DRAFT:
                raise Conflict(
                    f"{existing.state} has already submitted {dtype.key} for {existing.period} "
                    f'as declaration {existing.id}; to amend it, put "id": "{existing.id}" '
                    "in the file",
                    id=existing.id,
                )
            return existing
    declaration = Declaration(
        id=new_declaration_id(),
        regime=document["regime"],
        type=document["type"],
        state=document["state"],
        period=document["period"],
        status=Lifecycle.DRAFT,
        classification=dtype.classification.value,
        current_version=0,
        created_at=now,
        created_by=actor.username,
        updated_at=now,
    )
    session.add(declaration)
    return declaration


def do_submit_declaration(
    ctx: Context,
    *,
    actor: Actor,
    parsed: ParsedDeclaration,
    original: bytes | None = None,
    filename: str | None = None,
    media_type: str = "application/json",
    state: str | None = None,
    language: str = "en",
    note: str | None = None,
    now: datetime | None = None,
    signature: str | None = None,
) -> SubmissionResult:
    """Validate and store a submission or an amendment, with its original file.

    Raises :class:`ValidationFailed` carrying every problem when the document is
    invalid, and stores nothing in that case. ``signature`` is the submitter's
    signed note over ``original`` (``veritrail declare sign``): it must be by an
    active key of the declaring state and name the SHA-256 of ``original``, or
    nothing is stored (:class:`InputError` says which key and what mismatched).
    """
    document = _apply_state(parsed, state)
    result = validate(document, ctx.registry, language=language)
    if not result.valid:
        raise ValidationFailed(_locate_all(parsed, result.problems))
    doc = result.document
    actor.require_submit(doc["state"])
    dtype = ctx.registry.declaration_type(doc["regime"], doc["type"])
    now = now or datetime.now(UTC)
    try:
        with ctx.sessions() as session, session.begin():
            declaration = _find_target(session, doc, dtype, actor, now)
            doc["id"] = declaration.id
            canonical = canonical_bytes(doc)
            digest = hashlib.sha256(canonical).hexdigest()
            amendment = declaration.current_version > 0
            if amendment:
                previous = session.scalars(
                    select(DeclarationVersion.content_sha256).where(
                        DeclarationVersion.declaration_id == declaration.id,
                        DeclarationVersion.version == declaration.current_version,
                    )
                ).one()
                if previous == digest:
                    raise Conflict(
                        f"identical to version {declaration.current_version} of "
                        f"{declaration.id}; nothing to amend"
                    )
            signing_key_id = None
            if signature is not None:
                signing_key_id = check_submission_signature(
                    session, signature=signature, state=declaration.state, original=original
                )
            original_sha = None
            if original is not None:
                original_sha = keep_original(ctx.blobs, session, original, media_type)
            version = declaration.current_version + 1
            session.add(
                DeclarationVersion(
                    declaration_id=declaration.id,
                    version=version,
                    document_json=canonical.decode("utf-8"),
                    content_sha256=digest,
                    original_sha256=original_sha,
                    original_filename=(filename or "")[-255:] or None,
                    source_format=parsed.source_format,
                    line_count=_line_count(doc, dtype),
                    submitted_at=now,
                    submitted_by=actor.username,
                    note=note,
                    signature=signature,
                    signing_key_id=signing_key_id,
                )
            )
            log_index = ledger.commit_version(
                session,
                actor=actor,
                record_type="declaration",
                record_id=declaration.id,
                version=version,
                content_sha256=digest,
                files={"original": original_sha} if original_sha else {},
                at=now,
            )
            declaration.current_version = version
            declaration.status = Lifecycle.AMENDED if amendment else Lifecycle.SUBMITTED
            declaration.nothing_to_declare = bool(doc.get("nothing_to_declare"))
            declaration.first_submitted_at = declaration.first_submitted_at or now
            declaration.updated_at = now
            declaration.draft = None
            audit.record(
                session,
                actor=actor,
                action="declaration.amend" if amendment else "declaration.submit",
                record_type="declaration",
                record_id=declaration.id,
                version=version,
                content_sha256=digest,
                original_sha256=original_sha,
            )
            outbox.touch(session, "declaration", declaration.id)
            enqueue_refresh(session, created_by=actor.username)
    except IntegrityError as exc:
        raise Conflict(
            "another submission for this declaration was stored at the same moment; "
            "reload it and submit again"
        ) from exc
    ledger.integrate(ctx)
    return SubmissionResult(
        id=declaration.id,
        version=version,
        state=declaration.state,
        regime=declaration.regime,
        type=declaration.type,
        period=declaration.period,
        status=Lifecycle(declaration.status),
        content_sha256=digest,
        original_sha256=original_sha,
        submitted_at=now,
        amendment=amendment,
        warnings=[p.as_dict() for p in _locate_all(parsed, result.warnings)],
        log_index=log_index,
    )


def do_save_draft(
    ctx: Context,
    *,
    actor: Actor,
    document: dict[str, Any],
    language: str = "en",
    now: datetime | None = None,
) -> tuple[str, list[Problem]]:
    """Keep unfinished work: stores the document as the draft of its declaration.

    The header (regime, type, state, period) must be valid; the data may still
    have problems, which are returned so the user sees them all.
    """
    result = validate(document, ctx.registry, language=language)
    header_paths = ("/regime", "/type", "/state", "/period", "/id", "/format", "")
    header_errors = [p for p in result.errors if p.path in header_paths]
    if header_errors or "state" not in result.document or "period" not in result.document:
        raise ValidationFailed(header_errors or result.errors)
    doc = result.document
    actor.require_submit(doc["state"])
    dtype = ctx.registry.declaration_type(doc["regime"], doc["type"])
    now = now or datetime.now(UTC)
    draft = dict(document)
    draft.update({k: doc[k] for k in ("regime", "type", "state", "period")})
    with ctx.sessions() as session, session.begin():
        declaration = _find_target(session, doc, dtype, actor, now)
        declaration.draft = draft
        declaration.updated_at = now
        audit.record(
            session,
            actor=actor,
            action="declaration.draft",
            record_type="declaration",
            record_id=declaration.id,
        )
        declaration_id = declaration.id
    return declaration_id, result.problems


def do_prefill_draft(
    ctx: Context,
    *,
    actor: Actor,
    regime: str,
    type_: str,
    state: str,
    period: int,
) -> str:
    """Start the declaration for ``period`` from the latest version of the last one."""
    actor.require_submit(state)
    with ctx.sessions() as session:
        last = session.scalars(
            select(Declaration)
            .where(
                Declaration.state == state,
                Declaration.regime == regime,
                Declaration.type == type_,
                Declaration.period < period,
                Declaration.current_version > 0,
            )
            .order_by(Declaration.period.desc())
        ).first()
        if last is None:
            raise NotFound(f"{state} has no earlier {regime}/{type_} declaration to start from")
        existing = session.scalars(
            select(Declaration.id).where(
                Declaration.state == state,
                Declaration.regime == regime,
                Declaration.type == type_,
                Declaration.period == period,
            )
        ).first()
        dtype = ctx.registry.declaration_type(regime, type_)
        if existing is not None and dtype.expected == "every_party":
            raise Conflict(
                f"{state} already has declaration {existing} for {regime}/{type_} {period}; "
                "open it instead of starting a new one"
            )
        document = json.loads(
            session.scalars(
                select(DeclarationVersion.document_json).where(
                    DeclarationVersion.declaration_id == last.id,
                    DeclarationVersion.version == last.current_version,
                )
            ).one()
        )
    draft = {k: v for k, v in document.items() if k != "id"}
    draft["period"] = period
    declaration_id, _problems = do_save_draft(ctx, actor=actor, document=draft)
    return declaration_id


def do_reclassify(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    classification: Classification,
    reason: str,
    group_id: str | None = None,
) -> None:
    """Change a declaration's classification (and need-to-know group); always logged.

    The actor must be allowed to reclassify at both the old and the new level,
    and to name a reason; highly protected material needs a need-to-know group.
    """
    reason = reason.strip()
    if not reason:
        raise InputError("say why the classification changes (reason)")
    if classification is Classification.HIGHLY_PROTECTED and not group_id:
        raise InputError("highly protected material needs a need-to-know group (group_id)")
    with ctx.sessions() as session, session.begin():
        row = session.get(Declaration, declaration_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no declaration with id {declaration_id!r}")
        old = Classification(row.classification)
        for level in (old, classification):
            require(
                actor,
                Action.DECLARATION_RECLASSIFY,
                Resource(owner_state=row.state, classification=level, group_id=group_id),
                groups=actor.groups | ({group_id} if group_id else set()),
            )
        if group_id is not None and session.get(Group, group_id) is None:
            raise NotFound(f"no need-to-know group {group_id!r}")
        row.classification = classification.value
        row.group_id = group_id
        audit.record(
            session,
            actor=actor,
            action="declaration.reclassify",
            record_type="declaration",
            record_id=row.id,
            old=old.value,
            new=classification.value,
            group_id=group_id,
            reason=reason[:1000],
        )
        outbox.touch(session, "declaration", row.id)


def do_reclassify_annex(
    ctx: Context,
    *,
    actor: Actor,
    declaration_id: str,
    section: str,
    classification: Classification,
    reason: str,
) -> None:
    """Raise or lower one confidential annex of one declaration; always logged.

    The section must be an annex of the declaration type (its regime pack classifies it),
    and the annex never goes below the declaration's own classification. The actor must be
    allowed to reclassify at both the old and the new level, and to name a reason. A
    highly protected annex is limited to the declaration's need-to-know group, which is
    named on the declaration first.
    """
    reason = reason.strip()
    if not reason:
        raise InputError("say why the classification changes (reason)")
    require(actor, Action.DECLARATION_RECLASSIFY)
    with ctx.sessions() as session, session.begin():
        row = session.get(Declaration, declaration_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no declaration with id {declaration_id!r}")
        dtype = ctx.registry.declaration_type(row.regime, row.type)
        own = Classification(row.classification)
        annexes = annex_classifications(dtype, own, row.annex_classification)
        if section not in annexes:
            known = ", ".join(sorted(dtype.annexes)) or "none"
            raise InputError(
                f"{section!r} is not a confidential annex of {dtype.key}; its annexes: {known}",
                section=section,
            )
        if not classification.at_least(own):
            raise InputError(
                f"an annex is never below its declaration: {row.id} is {own.value}, so the "
                f"annex may be {own.value} or higher",
                section=section,
            )
        old = annexes[section]
        hp = Classification.HIGHLY_PROTECTED
        if hp in (old, classification) and row.group_id is None:
            raise InputError(
                f"a highly protected annex is limited to its declaration's need-to-know group, "
                f"and {row.id} has none; name one first (PUT /api/declarations/{row.id}/"
                "classification with group_id)",
                section=section,
            )
        groups = actor.groups | ({row.group_id} if row.group_id else set())
        for level in (old, classification):
            require(
                actor,
                Action.DECLARATION_RECLASSIFY,
                Resource(owner_state=row.state, classification=level, group_id=row.group_id),
                groups=groups,
            )
        row.annex_classification = {
            **(row.annex_classification or {}),
            section: classification.value,
        }
        audit.record(
            session,
            actor=actor,
            action="declaration.reclassify_annex",
            record_type="declaration",
            record_id=row.id,
            section=section,
            old=old.value,
            new=classification.value,
            reason=reason[:1000],
        )
        outbox.touch(session, "declaration", row.id)


__all__ = [
    "do_prefill_draft",
    "do_reclassify",
    "do_reclassify_annex",
    "do_save_draft",
    "do_submit_declaration",
    "new_declaration_id",
]
