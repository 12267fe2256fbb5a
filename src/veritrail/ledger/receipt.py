"""Checking a receipt offline, with nothing but the log's verifier key.

A receipt is ``{"checkpoint", "index", "entry", "inclusion_proof"}``: a signed
checkpoint, the leaf index, the exact entry bytes (base64) and the RFC 9162
inclusion proof. A state that also holds the document can check that the entry
names its hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger import merkle
from veritrail.ledger.checkpoint import Checkpoint, open_checkpoint
from veritrail.ledger.envelope import Envelope
from veritrail.ledger.note import Verifier

MAX_RECEIPT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReceiptCheck:
    checkpoint: Checkpoint
    index: int
    envelope: Envelope
    document_matches: str | None  # which hash the document matched: "content" or a file's name


def load_receipt(data: bytes) -> dict[str, Any]:
    """Parse receipt JSON, refusing anything that is not one, with the reason."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise InputError(f"a receipt is at most {MAX_RECEIPT_BYTES} bytes; this is {len(data)}")
    try:
        receipt = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the receipt is not JSON: {exc}") from exc
    if not isinstance(receipt, dict):
        raise InputError(
            "the receipt is a JSON object with checkpoint, index, entry, inclusion_proof"
        )
    missing = [k for k in ("checkpoint", "index", "entry", "inclusion_proof") if k not in receipt]
    if missing:
        raise InputError("the receipt lacks " + ", ".join(missing))
    return receipt


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{what} is a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{what} is not valid base64") from exc


def check_receipt(
    receipt: dict[str, Any], verifier: Verifier, document: bytes | None = None
) -> ReceiptCheck:
    """Verify signature, inclusion and (if given) the document; raise VerificationFailed."""
    if not isinstance(receipt.get("checkpoint"), str):
        raise InputError("the receipt's checkpoint is the signed note text")
    index = receipt.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise InputError("the receipt's index is a whole number, 0 or more")
    proof_items = receipt.get("inclusion_proof")
    if not isinstance(proof_items, list):
        raise InputError("the receipt's inclusion_proof is a list of base64 hashes")
    proof = [_b64(h, f"inclusion_proof[{i}]") for i, h in enumerate(proof_items)]
    if any(len(h) != merkle.HASH_SIZE for h in proof):
        raise VerificationFailed("an inclusion-proof hash is not 32 bytes")
    entry = _b64(receipt.get("entry"), "entry")
    checkpoint, _opened = open_checkpoint(receipt["checkpoint"], verifier)
    if index >= checkpoint.size:
        raise VerificationFailed(
            f"the receipt's index {index} is outside the checkpoint's {checkpoint.size} entries"
        )
    merkle.verify_inclusion(
        merkle.leaf_hash(entry), index, checkpoint.size, proof, checkpoint.root_hash
    )
    envelope = Envelope.from_bytes(entry)
    matched = None if document is None else match_document(envelope, document)
    return ReceiptCheck(checkpoint, index, envelope, matched)


def match_document(envelope: Envelope, document: bytes) -> str:
    """Which hash of the entry the document has: "content" or a file's name."""
    digest = hashlib.sha256(document).hexdigest()
    if digest == envelope.content_sha256:
        return "content"
    for name, file_hash in envelope.files.items():
        if file_hash == digest:
            return name
    raise VerificationFailed(
        f"the document's SHA-256 {digest} is neither the content hash nor a file hash "
        f"the entry commits to (content {envelope.content_sha256})"
    )


__all__ = ["MAX_RECEIPT_BYTES", "ReceiptCheck", "check_receipt", "load_receipt", "match_document"]
