"""Checkpoints (C2SP tlog-checkpoint) and witness cosignatures (C2SP tlog-cosignature/v1).

A checkpoint is a signed note whose text names the log (its origin), the tree
size and the RFC 6962 root hash::

    veritrail.example/log
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — veritrail.example/log Az3grlgtzPICa5OS8npVmf1M…

A witness adds a cosignature line by a type 0x04 key: ``key ID || timestamp
(8 bytes, big-endian) || Ed25519(cosignature/v1\\ntime <t>\\n || body)``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger.merkle import HASH_SIZE
from veritrail.ledger.note import (
    COSIGNATURE_ED25519,
    OpenedNote,
    Signature,
    Signer,
    Verifier,
    open_note,
    parse_signature_line,
    sign_note,
)

MAX_TREE_SIZE = 2**63 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile("[\x00-\x1f]")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, size and root hash, with optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise InputError(f"checkpoint size {self.size!r} is not in 0..2^63-1")
        if len(self.root_hash) != HASH_SIZE:
            raise InputError(
                f"checkpoint root hash has {len(self.root_hash)} bytes; expected {HASH_SIZE}"
            )
        for number, line in enumerate(self.extensions, start=4):
            _check_line(line, f"checkpoint extension (line {number})")

    def body(self) -> str:
        """The note text: origin, size, base64 root and extension lines, each ending in newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint body (the note text, already verified)."""
        if not text.endswith("\n"):
            raise InputError("checkpoint does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InputError(
                f"checkpoint has {len(lines)} line(s); expected origin, size and root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise InputError(
                f"checkpoint line 2: size {size_text[:40]!r} is not a decimal number "
                "without leading zeros"
            )
        size = int(size_text)
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
            raise InputError(
                f"checkpoint line 3: root hash {root_text[:60]!r} is not base64"
            ) from exc
        if base64.b64encode(root).decode("ascii") != root_text:
            raise InputError(
                f"checkpoint line 3: root hash {root_text[:60]!r} is not canonical base64"
            )
        return cls(origin, size, root, tuple(extensions))


def _check_line(line: str, what: str) -> None:
    if not line:
        raise InputError(f"{what} is empty")
    bad = _CONTROL.search(line)
    if bad is not None:
        raise InputError(f"{what} holds control character {bad.group()!r}")


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a note signed by the log's key, whose name must be the origin."""
    if signer.name != checkpoint.origin:
        raise InputError(
            f"the log key is named {signer.name!r} but the checkpoint origin is "
            f"{checkpoint.origin!r}; they must be equal"
        )
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(note: str | bytes, verifier: Verifier) -> tuple[Checkpoint, OpenedNote]:
    """Verify a checkpoint note signed by the log key ``verifier`` and read its body.

    The key's name must be the checkpoint's origin. Other signatures (e.g.
    cosignatures) are left unverified in the returned note.
    """
    opened = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(opened.text)
    if checkpoint.origin != verifier.name:
        raise VerificationFailed(
            f"checkpoint origin {checkpoint.origin!r} is not the log key's name {verifier.name!r}"
        )
    return checkpoint, opened


def cosign(checkpoint: Checkpoint, signer: Signer, timestamp: int) -> str:
    """A tlog-cosignature/v1 line (without newline) by a cosigner key at ``timestamp``."""
    if signer.key_type != COSIGNATURE_ED25519:
        raise InputError(f"key {signer.name!r} is not a cosigner key (type 0x04)")
    return signer.signature_line(checkpoint.body(), timestamp=timestamp)


def verify_cosignature(
    checkpoint: Checkpoint, line_or_signature: str | Signature, verifier: Verifier
) -> int:
    """Check a cosignature by ``verifier`` over ``checkpoint``; returns its timestamp."""
    if verifier.key_type != COSIGNATURE_ED25519:
        raise InputError(f"key {verifier.name!r} is not a cosigner key (type 0x04)")
    sig = (
        parse_signature_line(line_or_signature)
        if isinstance(line_or_signature, str)
        else line_or_signature
    )
    who = f"{verifier.name}+{verifier.key_id.hex()}"
    if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        raise VerificationFailed(
            f"the signature is by {sig.name}+{sig.key_id.hex()}, not by cosigner {who}"
        )
    if not verifier.verify(checkpoint.body().encode(), sig.signature):
        raise VerificationFailed(f"invalid cosignature by {who}", key=who)
    return int.from_bytes(sig.signature[:8], "big")


def verified_cosignatures(
    checkpoint: Checkpoint, signatures: Sequence[Signature], witnesses: Sequence[Verifier]
) -> dict[str, int]:
    """The witnesses (by verifier key text) whose cosignature among ``signatures`` checks out,
    with its timestamp. Lines by unknown keys are ignored; a bad one by a known key raises."""
    found: dict[str, int] = {}
    for witness in witnesses:
        for sig in signatures:
            if (sig.name, sig.key_id) == (witness.name, witness.key_id):
                found[witness.vkey] = verify_cosignature(checkpoint, sig, witness)
                break
    return found


__all__ = [
    "Checkpoint",
    "cosign",
    "open_checkpoint",
    "sign_checkpoint",
    "verified_cosignatures",
    "verify_cosignature",
]
