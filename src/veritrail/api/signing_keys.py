"""API routes of the keys national authorities sign their declarations with."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, Field

from veritrail.access import Actor
from veritrail.access.policy import Action
from veritrail.actions.signing_keys import (
    do_register_signing_key,
    do_revoke_signing_key,
    do_rotate_signing_key,
)
from veritrail.api.deps import CtxDep
from veritrail.api.permissions import requires
from veritrail.declarations.signatures import SigningKeyPublic
from veritrail.errors import InputError
from veritrail.queries.signing_keys import get_signing_key, list_signing_keys
from veritrail.reference import states

router = APIRouter(prefix="/signing-keys", tags=["signing keys"])

KeyReader = Annotated[Actor, Depends(requires(Action.SIGNING_KEY_READ))]
KeyManager = Annotated[Actor, Depends(requires(Action.SIGNING_KEY_MANAGE))]
KeyPath = Annotated[str, Path(max_length=32, pattern=r"^K-[0-9A-F]{16}$")]

VKEY_DESCRIPTION = (
    "The verifier key printed by `veritrail declare keygen`: "
    "`<name>+<key ID hex>+<base64 of 0x01 and the Ed25519 public key>`."
)


class SigningKeyCreate(BaseModel):
    """A verifier key to register for a state."""

    vkey: str = Field(min_length=1, max_length=400, description=VKEY_DESCRIPTION)
    state: str | None = Field(
        default=None,
        max_length=60,
        description="ISO 3166-1 alpha-3; a national authority's own state when omitted.",
        examples=["FRA"],
    )


class SigningKeyRotate(BaseModel):
    """The key that replaces an active one."""

    vkey: str = Field(min_length=1, max_length=400, description=VKEY_DESCRIPTION)


class SigningKeyRevoke(BaseModel):
    """Why a key is revoked (kept in the audit log)."""

    reason: str | None = Field(default=None, max_length=500, examples=["laptop lost"])


SignatureHeader = Annotated[
    str | None,
    Header(
        alias="Veritrail-Signature",
        max_length=16384,
        description="Optional: the `.sig` file of `veritrail declare sign`, base64-encoded. "
        "It must be by an active key of the declaring state and name the SHA-256 of the "
        "exact bytes sent.",
    ),
]


def decode_signature_header(value: str | None) -> str | None:
    """The signed note carried (base64) by the ``Veritrail-Signature`` header."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            "the Veritrail-Signature header is not base64; send the .sig file encoded, "
            "e.g. $(base64 -w0 FILE.sig)",
            field="Veritrail-Signature",
        ) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "the Veritrail-Signature header does not carry a .sig file (not UTF-8 text once "
            "decoded from base64)",
            field="Veritrail-Signature",
        ) from exc


def _state(value: str | None) -> str | None:
    if value is None:
        return None
    found = states.lookup(value)
    if found is None:
        raise InputError(f"{value!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
    return found.alpha3


@router.get("")
def signing_keys(
    ctx: CtxDep,
    actor: KeyReader,
    state: Annotated[str | None, Query(max_length=60, description="ISO 3166-1 alpha-3")] = None,
) -> list[SigningKeyPublic]:
    """Registered signing keys with their status (active, revoked, replaced), by state.

    A national authority sees its own state's keys; the secretariat every state's.
    """
    return list_signing_keys(ctx, actor=actor, state=_state(state))


@router.post("", status_code=201)
def register_signing_key(
    body: SigningKeyCreate, ctx: CtxDep, actor: KeyManager
) -> SigningKeyPublic:
    """Register an Ed25519 verifier key that signs a state's declarations.

    Generate the key pair offline with `veritrail declare keygen NAME -o KEYFILE`
    and send the verifier key it prints; the private key never leaves your machine.
    A national authority submitter registers keys for its own state, an
    administrator for any state. The registration is committed to the
    transparency log. A key is registered once, and never again after revocation.
    """
    return do_register_signing_key(ctx, actor=actor, vkey=body.vkey, state=_state(body.state))


@router.post("/{key_id}/revoke")
def revoke_signing_key(
    key_id: KeyPath,
    ctx: CtxDep,
    actor: KeyManager,
    body: SigningKeyRevoke | None = None,
) -> SigningKeyPublic:
    """Revoke a key at once: submissions it signs are refused from now on.

    Versions it signed before keep showing it. Revoking a revoked key changes
    nothing. The revocation is committed to the transparency log.
    """
    do_revoke_signing_key(
        ctx, actor=actor, key_id=key_id, reason=body.reason if body is not None else None
    )
    return get_signing_key(ctx, actor=actor, key_id=key_id)


@router.post("/{key_id}/rotate", status_code=201)
def rotate_signing_key(
    key_id: KeyPath, body: SigningKeyRotate, ctx: CtxDep, actor: KeyManager
) -> SigningKeyPublic:
    """Replace an active key by a new one; answers with the new key.

    The old key is revoked and names its successor (`replaced_by`); both
    changes are committed to the transparency log in one transaction.
    """
    return do_rotate_signing_key(ctx, actor=actor, key_id=key_id, vkey=body.vkey)


__all__ = ["SignatureHeader", "decode_signature_header", "router"]
