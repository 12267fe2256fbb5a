"""Checking a receipt someone brings, step by step, to say in plain words what failed.

The checks are those of :func:`veritrail.ledger.receipt.check_receipt`, the
same a state runs offline with ``veritrail verify receipt``; they are taken
one at a time here so that the answer names the step that failed: the file
is not a receipt, the checkpoint's signature, the inclusion proof, or the
document. By default the receipt is checked against this server's own log
key; a state may give the copy of the key it holds instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from veritrail.errors import InputError, TooLarge, VerificationFailed
from veritrail.ledger.checkpoint import open_checkpoint
from veritrail.ledger.envelope import Envelope
from veritrail.ledger.note import Verifier, parse_verifier_key
from veritrail.ledger.receipt import (
    MAX_RECEIPT_BYTES,
    check_receipt,
    load_receipt,
    match_document,
)
from veritrail.store.context import Context


class Step(StrEnum):
    """The check that failed."""

    KEY = "key"  # the verifier key given is not a key
    READ = "read"  # the file is not a receipt
    SIGNATURE = "signature"  # the checkpoint is not signed by the key
    PROOF = "proof"  # the inclusion proof does not lead to the signed root
    DOCUMENT = "document"  # the document is not what the entry commits to


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one receipt; ``failed`` is None when every check passed."""

    vkey: str
    own_key: bool  # checked against this server's log key
    failed: Step | None = None
    reason: str = ""
    origin: str | None = None
    size: int | None = None  # the signed size of the receipt's checkpoint
    index: int | None = None
    entry: Envelope | None = None
    document_sha256: str | None = None
    document_matches: str | None = None  # "content" or the name of a file hash
    files: dict[str, str] = field(default_factory=dict)

    @property
    def genuine(self) -> bool:
        """The receipt itself checks out (signature and proof), whatever the document."""
        return self.entry is not None

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def time(self) -> datetime | None:
        return self.entry.time if self.entry else None


def _verifier(ctx: Context, vkey: str | None) -> tuple[Verifier, bool]:
    own = ctx.log_signer().verifier
    if vkey is None or not vkey.strip():
        return own, True
    given = parse_verifier_key(vkey.strip())
    return given, given == own


def verify_receipt(
    ctx: Context,
    *,
    receipt: bytes,
    document: bytes | None = None,
    vkey: str | None = None,
) -> Verdict:
    """Check a receipt (and the document it should commit to) against a log key.

    Raises :class:`TooLarge` for a receipt over 1 MB or a document over the
    configured upload limit; every other failure is the verdict's ``failed``.
    """
    if len(receipt) > MAX_RECEIPT_BYTES:
        raise TooLarge(
            f"a receipt is at most {MAX_RECEIPT_BYTES:,} bytes; this file has {len(receipt):,}"
        )
    limit = ctx.settings.max_upload_bytes
    if document is not None and len(document) > limit:
        raise TooLarge(
            f"the document is {len(document):,} bytes; documents up to {limit:,} bytes are "
            "checked here (VERITRAIL_MAX_UPLOAD_BYTES): check a larger one offline with "
            "`veritrail verify receipt`"
        )
    try:
        verifier, own = _verifier(ctx, vkey)
    except InputError as exc:
        return Verdict(
            vkey=(vkey or "").strip()[:400], own_key=False, failed=Step.KEY, reason=exc.message
        )
    verdict: dict[str, Any] = {"vkey": verifier.vkey, "own_key": own}
    try:
        data = load_receipt(receipt)
        if not isinstance(data.get("checkpoint"), str):
            raise InputError("the receipt's checkpoint is not the text of a signed note")
    except InputError as exc:
        return Verdict(**verdict, failed=Step.READ, reason=exc.message)
    try:
        checkpoint, _opened = open_checkpoint(data["checkpoint"], verifier)
    except (InputError, VerificationFailed) as exc:
        return Verdict(**verdict, failed=Step.SIGNATURE, reason=exc.message)
    verdict.update(origin=checkpoint.origin, size=checkpoint.size)
    try:
        result = check_receipt(data, verifier, None)
    except InputError as exc:
        return Verdict(**verdict, failed=Step.READ, reason=exc.message)
    except VerificationFailed as exc:
        return Verdict(**verdict, failed=Step.PROOF, reason=exc.message)
    verdict.update(index=result.index, entry=result.envelope, files=dict(result.envelope.files))
    if document is None:
        return Verdict(**verdict)
    verdict["document_sha256"] = hashlib.sha256(document).hexdigest()
    try:
        matched = match_document(result.envelope, document)
    except VerificationFailed as exc:
        return Verdict(**verdict, failed=Step.DOCUMENT, reason=exc.message)
    return Verdict(**verdict, document_matches=matched)


__all__ = ["Step", "Verdict", "verify_receipt"]
