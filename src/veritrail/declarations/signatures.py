"""A national authority's own signature over a declaration file, made offline.

The signature is a C2SP signed note (Ed25519, :mod:`veritrail.ledger.note`)
whose text names the file by its SHA-256::

    veritrail declaration signature v1
    9775184eb3601a869bcd3ae0d71ddfb4c3de7fc433948c4312442a5863bd9803
    adnd.csv

    — fra-na-2025 Az3grlgtzPICa5OS8npVmf1M…

``veritrail declare sign`` writes it beside the file (``FILE.sig``) with no
server and no network; at submission it is checked against the keys the
state registered, and kept with the version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from veritrail.errors import InputError
from veritrail.ledger.note import (
    MAX_NOTE_BYTES,
    NOTE_ED25519,
    Signer,
    Verifier,
    parse_verifier_key,
    sign_note,
    split_note,
)
from veritrail.store.models import SigningKey

SIGNATURE_HEADER = "veritrail declaration signature v1"
SIGNATURE_SUFFIX = ".sig"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SignedFile:
    """What a signature's text says: the file's SHA-256 and the name it was signed under."""

    sha256: str
    filename: str


def signature_text(data: bytes, filename: str) -> str:
    """The note text that signs ``data`` under ``filename`` (its base name)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if not name or _CONTROL.search(name):
        raise InputError(
            f"the file name {filename!r} cannot go into a signature: give the file a name "
            "without control characters"
        )
    digest = hashlib.sha256(data).hexdigest()
    return f"{SIGNATURE_HEADER}\n{digest}\n{name}\n"


def sign_file(data: bytes, filename: str, signer: Signer) -> str:
    """The ``.sig`` note of ``data`` by ``signer``."""
    if signer.key_type != NOTE_ED25519:
        raise InputError(f"key {signer.name!r} is a cosigner key; sign with an Ed25519 note key")
    return sign_note(signature_text(data, filename), [signer])


def parse_signature_text(text: str) -> SignedFile:
    """Read the (verified) note text of a declaration signature."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[0] != SIGNATURE_HEADER or lines[3] != "":
        raise InputError(
            f"the signed text is not a Veritrail declaration signature (it should start with "
            f"{SIGNATURE_HEADER!r} and name the file's SHA-256 and name); sign the file with "
            "`veritrail declare sign FILE --key KEYFILE`",
            field="signature",
        )
    if not _SHA256.fullmatch(lines[1]):
        raise InputError(
            "the signature's second line is not a SHA-256 in lower-case hexadecimal",
            field="signature",
        )
    return SignedFile(sha256=lines[1], filename=lines[2])


def read_signature(data: bytes | str) -> str:
    """A ``.sig`` file's text, refused with the reason when it is not a signed note."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise InputError(f"a signature file is at most {MAX_NOTE_BYTES:,} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                "the signature file is not UTF-8 text; give the .sig file written by "
                "`veritrail declare sign`",
                field="signature",
            ) from exc
    split_note(data)  # the form of a note: text, blank line, signature lines
    return data


def signing_verifier(vkey: str) -> Verifier:
    """The verifier key text a state registers, checked to be an Ed25519 note key."""
    verifier = parse_verifier_key(vkey.strip())
    if verifier.key_type != NOTE_ED25519:
        raise InputError(
            f"verifier key {verifier.name!r} is a witness cosigner key (type "
            f"0x{verifier.key_type:02x}); register the key printed by `veritrail declare keygen`",
            field="vkey",
        )
    return verifier


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    REPLACED = "replaced"


class SigningKeyPublic(BaseModel):
    """A state's registered signing key: public by nature, never a private key."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(examples=["K-3F2A9C0D11E84B7A"])
    state: str = Field(description="ISO 3166-1 alpha-3 of the state the key signs for")
    organisation_id: str
    name: str = Field(description="The key's name, as it appears in signature lines")
    key_id: str = Field(description="The 4-byte key ID of the signed-note format, in hex")
    vkey: str = Field(description="The verifier key: <name>+<key ID>+<base64 public key>")
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    replaced_by: str | None = Field(description="The key that replaced this one on rotation")
    status: KeyStatus


def key_status(row: SigningKey) -> KeyStatus:
    if row.revoked_at is None:
        return KeyStatus.ACTIVE
    return KeyStatus.REPLACED if row.replaced_by else KeyStatus.REVOKED


def key_public(row: SigningKey) -> SigningKeyPublic:
    """The public shape of a stored key."""
    return SigningKeyPublic(
        id=row.id,
        state=row.state,
        organisation_id=row.organisation_id,
        name=row.name,
        key_id=row.vkey.split("+")[1],
        vkey=row.vkey,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        replaced_by=row.replaced_by,
        status=key_status(row),
    )


class SignerPublic(BaseModel):
    """Who signed a declaration version: the key, its name and its state."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    state: str


__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SUFFIX",
    "KeyStatus",
    "SignedFile",
    "SignerPublic",
    "SigningKeyPublic",
    "key_public",
    "key_status",
    "parse_signature_text",
    "read_signature",
    "sign_file",
    "signature_text",
    "signing_verifier",
]
