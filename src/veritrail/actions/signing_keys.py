"""Writes to a state's signing keys, and the check of a signature at submission.

National authorities sign their declaration files offline with Ed25519 keys
(``veritrail declare keygen`` / ``declare sign``) and register the public
halves here. Registration, rotation (a new key replaces an active one) and
revocation each write an audit row whose action starts with ``signing_key.``,
so they are committed to the transparency log in the same transaction.

A revoked key stays on record, so that versions it signed still show their
signer; it never signs a new submission and can never be registered again.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can, require
from veritrail.actions import audit, ledger
from veritrail.declarations.signatures import (
    SigningKeyPublic,
    key_public,
    parse_signature_text,
    read_signature,
    signing_verifier,
)
from veritrail.errors import Conflict, Forbidden, InputError, NotFound, VerificationFailed
from veritrail.ledger.note import Signature, Verifier, open_note, parse_verifier_key, split_note
from veritrail.reference import states
from veritrail.store.context import Context
from veritrail.store.models import Organisation, SigningKey

# Enough for a few people or machines signing for one authority, with room to rotate.
MAX_ACTIVE_KEYS = 10


def new_key_id() -> str:
    return "K-" + uuid.uuid4().hex[:16].upper()


def _state(actor: Actor, state: str | None) -> str:
    if state is None or not state.strip():
        if actor.state is None:
            raise InputError(
                "name the state whose key this is (--state, or `state`)", field="state"
            )
        return actor.state
    found = states.lookup(state.strip())
    if found is None:
        raise InputError(
            f"{state!r} is not a known state; use an ISO 3166-1 alpha-3 code such as FRA",
            field="state",
        )
    return found.alpha3


def _require_manage(actor: Actor, state: str) -> None:
    if actor.is_national and actor.state != state and can(actor, Action.SIGNING_KEY_MANAGE):
        raise Forbidden(f"you may only manage the signing keys of {actor.state}, not of {state}")
    require(actor, Action.SIGNING_KEY_MANAGE, Resource(owner_state=state))


def _organisation(session: Session, actor: Actor, state: str) -> str:
    if actor.state == state and actor.organisation_id:
        return actor.organisation_id
    found = session.scalars(
        select(Organisation.id)
        .where(Organisation.state == state, Organisation.kind == "national_authority")
        .order_by(Organisation.id)
    ).first()
    if found is None:
        raise NotFound(
            f"{state} has no national authority organisation to hold its keys; "
            "create one under Administration → Organisations first"
        )
    return found


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


def _add_key(
    session: Session,
    *,
    actor: Actor,
    verifier: Verifier,
    state: str,
    now: datetime,
    replacing: str | None = None,
) -> SigningKey:
    """A new active key for ``state``, refused when it or its name and ID are known."""
    same = session.scalars(
        select(SigningKey).where(
            SigningKey.vkey.startswith(f"{verifier.name}+{verifier.key_id.hex()}+", autoescape=True)
        )
    ).first()
    if same is not None:
        if same.vkey == verifier.vkey:
            where = same.state
            if same.revoked_at:
                where += f", revoked on {_when(same.revoked_at)}"
            raise Conflict(
                f"this key is registered already as {same.id} ({where}); a key is registered "
                "once and never again after revocation: generate a new one with "
                "`veritrail declare keygen`",
                key=same.id,
            )
        raise Conflict(
            f"another key with the name {verifier.name!r} and key ID {verifier.key_id.hex()} "
            f"is registered ({same.id}); generate the new key under another name",
            key=same.id,
        )
    active = session.scalar(
        select(func.count())
        .select_from(SigningKey)
        .where(
            SigningKey.state == state,
            SigningKey.revoked_at.is_(None),
            *([SigningKey.id != replacing] if replacing else []),
        )
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise Conflict(
            f"{state} has {active} active signing keys, the most it may have; "
            "revoke one it no longer uses first"
        )
    row = SigningKey(
        id=new_key_id(),
        state=state,
        organisation_id=_organisation(session, actor, state),
        name=verifier.name,
        vkey=verifier.vkey,
        created_at=now,
        created_by=actor.username,
    )
    session.add(row)
    return row


def _visible_for_update(session: Session, actor: Actor, key_id: str) -> SigningKey:
    row = session.get(SigningKey, key_id, with_for_update=True)
    # Another state's key is reported as absent, so identifiers reveal nothing.
    if row is None or not can(actor, Action.SIGNING_KEY_READ, Resource(owner_state=row.state)):
        raise NotFound(f"no signing key {key_id!r}")
    return row


def do_register_signing_key(
    ctx: Context,
    *,
    actor: Actor,
    vkey: str,
    state: str | None = None,
    now: datetime | None = None,
) -> SigningKeyPublic:
    """Register a verifier key (``<name>+<key ID>+<key>``) to sign ``state``'s declarations.

    A national authority submitter registers keys of its own state; an
    administrator or the local operator those of any state.
    """
    state = _state(actor, state)
    _require_manage(actor, state)
    verifier = signing_verifier(vkey)
    now = now or datetime.now(UTC)
    try:
        with ctx.sessions() as session, session.begin():
            row = _add_key(session, actor=actor, verifier=verifier, state=state, now=now)
            audit.record(
                session,
                actor=actor,
                action="signing_key.register",
                record_type="signing_key",
                record_id=row.id,
                state=state,
                vkey=row.vkey,
            )
            public = key_public(row)
    except IntegrityError as exc:
        raise Conflict("this key was registered at the same moment; reload and check") from exc
    ledger.integrate(ctx)
    return public


def do_rotate_signing_key(
    ctx: Context,
    *,
    actor: Actor,
    key_id: str,
    vkey: str,
    now: datetime | None = None,
) -> SigningKeyPublic:
    """Replace an active key by a new one: the old is revoked and points at its successor.

    Returns the new key. Versions the old key signed keep showing it.
    """
    verifier = signing_verifier(vkey)
    now = now or datetime.now(UTC)
    try:
        with ctx.sessions() as session, session.begin():
            old = _visible_for_update(session, actor, key_id)
            _require_manage(actor, old.state)
            if old.revoked_at is not None:
                raise Conflict(
                    f"key {old.id} was revoked on {_when(old.revoked_at)}; there is nothing to "
                    "rotate: register the new key instead",
                    key=old.id,
                )
            new = _add_key(
                session, actor=actor, verifier=verifier, state=old.state, now=now, replacing=old.id
            )
            old.revoked_at = now
            old.revoked_by = actor.username
            old.replaced_by = new.id
            audit.record(
                session,
                actor=actor,
                action="signing_key.register",
                record_type="signing_key",
                record_id=new.id,
                state=new.state,
                vkey=new.vkey,
                replaces=old.id,
            )
            audit.record(
                session,
                actor=actor,
                action="signing_key.rotate",
                record_type="signing_key",
                record_id=old.id,
                state=old.state,
                vkey=old.vkey,
                replaced_by=new.id,
            )
            public = key_public(new)
    except IntegrityError as exc:
        raise Conflict("this key was registered at the same moment; reload and check") from exc
    ledger.integrate(ctx)
    return public


def do_revoke_signing_key(
    ctx: Context,
    *,
    actor: Actor,
    key_id: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Revoke a key at once: it signs no further submission. False when it was revoked already."""
    now = now or datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        row = _visible_for_update(session, actor, key_id)
        _require_manage(actor, row.state)
        if row.revoked_at is not None:
            return False
        row.revoked_at = now
        row.revoked_by = actor.username
        audit.record(
            session,
            actor=actor,
            action="signing_key.revoke",
            record_type="signing_key",
            record_id=row.id,
            state=row.state,
            vkey=row.vkey,
            reason=(reason or "").strip()[:500] or None,
        )
    ledger.integrate(ctx)
    return True


def _matching(keys: list[SigningKey], sig: Signature) -> list[SigningKey]:
    prefix = f"{sig.name}+{sig.key_id.hex()}+"
    return [k for k in keys if k.vkey.startswith(prefix)]


def _unusable(state: str, signatures: list[Signature], keys: list[SigningKey]) -> InputError:
    """Why none of the signature lines is by an active key of ``state``, for the submitter."""
    for sig in signatures:
        for key in _matching(keys, sig):
            if key.state != state:
                return InputError(
                    f"the file is signed by key {key.name} ({key.id}) of {key.state}; a "
                    f"declaration of {state} is signed with one of {state}'s registered keys",
                    field="signature",
                    key=key.id,
                )
            successor = f", replaced by {key.replaced_by}" if key.replaced_by else ""
            return InputError(
                f"the file is signed by key {key.name} ({key.id}), which was revoked on "
                f"{_when(key.revoked_at)}{successor}; sign it again with an active key of {state}",
                field="signature",
                key=key.id,
            )
    named = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
    active = ", ".join(f"{k.name} ({k.id})" for k in keys if k.state == state and not k.revoked_at)
    return InputError(
        f"the file is signed by key {named}, which is not registered for {state}; register its "
        f"verifier key first (`veritrail declare keys register VKEY --state {state}`) or sign "
        f"with a registered one ({state}'s active keys: {active or 'none'})",
        field="signature",
    )


def check_submission_signature(
    session: Session, *, signature: str, state: str, original: bytes | None
) -> str:
    """Check a submitter's signature inside the submission's transaction; the key's id.

    The note must be signed by an active key of ``state`` and name the SHA-256
    of ``original``, the exact bytes submitted. Raises :class:`InputError`
    saying which key and what did not match.
    """
    if original is None:
        raise InputError(
            "a signature covers the file it was made for; submit that file with it",
            field="signature",
        )
    note = read_signature(signature)
    _text, signatures = split_note(note)
    names = sorted({s.name for s in signatures})
    keys = list(
        session.scalars(
            select(SigningKey).where(SigningKey.name.in_(names)).order_by(SigningKey.created_at)
        )
    )
    usable = [
        key
        for sig in signatures
        for key in _matching(keys, sig)
        if key.state == state and key.revoked_at is None
    ]
    if not usable:
        raise _unusable(state, signatures, keys)
    # Lock the keys used, so that a revocation in flight waits for this submission or wins.
    locked = list(
        session.scalars(
            select(SigningKey)
            .where(SigningKey.id.in_([k.id for k in usable]), SigningKey.revoked_at.is_(None))
            .with_for_update()
        )
    )
    by_vkey = {k.vkey: k for k in locked}
    try:
        opened = open_note(note, [parse_verifier_key(k.vkey) for k in locked])
    except VerificationFailed as exc:
        which = ", ".join(f"{k.name} ({k.id})" for k in locked) or "?"
        raise InputError(
            f"the signature by key {which} does not verify: the .sig file was altered, or made "
            "with another key of that name; sign the file again with "
            "`veritrail declare sign FILE --key KEYFILE`",
            field="signature",
        ) from exc
    first = opened.verified[0]
    key = next(
        k for vkey, k in by_vkey.items() if vkey.startswith(f"{first.name}+{first.key_id.hex()}+")
    )
    signed = parse_signature_text(opened.text)
    actual = hashlib.sha256(original).hexdigest()
    if signed.sha256 != actual:
        raise InputError(
            f"the signature by key {key.name} ({key.id}) is for a file with SHA-256 "
            f"{signed.sha256} (signed as {signed.filename!r}), but the file submitted has "
            f"SHA-256 {actual}; sign this exact file (`veritrail declare sign FILE --key KEYFILE`)",
            field="signature",
            key=key.id,
        )
    return key.id


__all__ = [
    "MAX_ACTIVE_KEYS",
    "check_submission_signature",
    "do_register_signing_key",
    "do_revoke_signing_key",
    "do_rotate_signing_key",
    "new_key_id",
]
