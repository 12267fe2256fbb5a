"""Signed notes (C2SP signed-note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then signature lines::

    <text>
    (blank line)
    — <key name> base64(4-byte key ID || signature)

Two key types are supported, told apart by the type byte that enters the key
ID and the key texts:

- ``0x01`` (:data:`NOTE_ED25519`): an Ed25519 signature over the note text,
  what the log signs its checkpoints with;
- ``0x04`` (:data:`COSIGNATURE_ED25519`): a C2SP tlog-cosignature/v1, a
  timestamped Ed25519 signature over ``cosignature/v1\\ntime <t>\\n`` and the
  note text, what witnesses add to checkpoints.

Key texts are those of the reference implementation (golang.org/x/mod/sumdb/note):
``<name>+<key ID hex>+<base64(type || public key)>`` for verifiers and
``PRIVATE+KEY+<name>+<key ID hex>+<base64(type || 32-byte seed)>`` for signers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from veritrail.errors import InputError, TooLarge, VerificationFailed

NOTE_ED25519 = 0x01
COSIGNATURE_ED25519 = 0x04
KEY_TYPES = {NOTE_ED25519: "Ed25519 note signature", COSIGNATURE_ED25519: "Ed25519 cosignature/v1"}

MAX_NOTE_BYTES = 1_000_000
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1

_SIG_PREFIX = "— "  # em dash U+2014, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_ED25519_SIGNATURE_SIZE = 64
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def check_key_name(name: str, what: str = "key name") -> None:
    """Refuse a key name that is empty or holds a space, a ``+`` or a control character."""
    if not name:
        raise InputError(f"{what} is empty")
    for ch in name:
        if ch.isspace() or ch == "+" or ord(ch) < 0x20:
            raise InputError(f"{what} {name!r} contains {ch!r}: spaces and '+' are not allowed")
    try:
        name.encode()
    except UnicodeEncodeError as exc:
        raise InputError(f"{what} {name!r} is not valid Unicode text") from exc


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """What a tlog-cosignature/v1 signs: a header, the time, then the note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def _b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 (RFC 4648 section 4)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise InputError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise InputError(f"{what} is not canonical base64")
    return raw


def _check_key_type(key_type: int, what: str) -> None:
    if key_type not in KEY_TYPES:
        known = ", ".join(f"0x{t:02x} ({d})" for t, d in KEY_TYPES.items())
        raise InputError(f"{what} has key type 0x{key_type:02x}; supported: {known}")


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures made by one named key."""

    name: str
    key_id: bytes
    public_key: bytes
    key_type: int = NOTE_ED25519

    @classmethod
    def from_public_key(
        cls, name: str, public_key: bytes, *, key_type: int = NOTE_ED25519
    ) -> Verifier:
        """The verifier of a raw 32-byte Ed25519 public key under ``name``."""
        check_key_name(name)
        _check_key_type(key_type, f"key {name!r}")
        if len(public_key) != 32:
            raise InputError(
                f"key {name!r}: an Ed25519 public key has 32 bytes, not {len(public_key)}"
            )
        return cls(name, key_id(name, key_type, public_key), public_key, key_type)

    @property
    def vkey(self) -> str:
        """The verifier key text ``<name>+<key ID hex>+<base64(type || public key)>``."""
        encoded = base64.b64encode(bytes([self.key_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the key ID) signs the note text ``message``.

        For a cosigner key the signature is ``timestamp (8 bytes) || Ed25519
        signature`` and the signed message is :func:`cosignature_message`.
        """
        if self.key_type == COSIGNATURE_ED25519:
            if len(signature) != 8 + _ED25519_SIGNATURE_SIZE:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            message, signature = cosignature_message(message, timestamp), signature[8:]
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        return self.vkey


def parse_verifier_key(text: str) -> Verifier:
    """Read a verifier key text ``<name>+<8 hex digits>+<base64(type || public key)>``."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InputError(f"verifier key {text!r}: expected <name>+<key ID>+<public key>")
    name, hex_id, encoded = parts
    check_key_name(name, "verifier key name")
    raw_id = _parse_hex_id(hex_id, f"verifier key {name!r}")
    key = _b64decode(encoded, f"verifier key {name!r}: the public key")
    if len(key) != 33:
        raise InputError(
            f"verifier key {name!r}: the public key is {len(key)} bytes; expected a type byte "
            "and a 32-byte Ed25519 key"
        )
    key_type, public_key = key[0], key[1:]
    _check_key_type(key_type, f"verifier key {name!r}")
    if key_id(name, key_type, public_key) != raw_id:
        raise InputError(f"verifier key {name!r}: key ID {hex_id} does not match its public key")
    return Verifier(name, raw_id, public_key, key_type)


def _parse_hex_id(hex_id: str, what: str, *, echo: bool = True) -> bytes:
    if len(hex_id) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        shown = f" {hex_id!r}" if echo else ""
        raise InputError(f"{what}: key ID{shown} is not 8 hexadecimal digits")
    return bytes.fromhex(hex_id)


class Signer:
    """A named Ed25519 private key that signs notes (type 0x01) or cosigns (0x04)."""

    def __init__(self, name: str, seed: bytes, *, key_type: int = NOTE_ED25519) -> None:
        check_key_name(name)
        _check_key_type(key_type, f"key {name!r}")
        if len(seed) != 32:
            raise InputError(f"key {name!r}: an Ed25519 seed has 32 bytes, not {len(seed)}")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        public_key = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.verifier = Verifier(name, key_id(name, key_type, public_key), public_key, key_type)

    @classmethod
    def generate(cls, name: str, *, key_type: int = NOTE_ED25519) -> Signer:
        """A new random key under ``name``."""
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(name, seed, key_type=key_type)

    @classmethod
    def from_private_key_text(cls, text: str) -> Signer:
        """Read ``PRIVATE+KEY+<name>+<key ID hex>+<base64(type || seed)>``.

        Error messages never repeat the secret part of the text.
        """
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise InputError("private key text does not start with PRIVATE+KEY+")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise InputError("private key text: expected PRIVATE+KEY+<name>+<key ID>+<key>")
        name, hex_id, encoded = parts
        check_key_name(name, "private key name")
        raw_id = _parse_hex_id(hex_id, f"private key {name!r}", echo=False)
        try:
            raw = base64.b64decode(encoded.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            raise InputError(f"private key {name!r}: the key is not valid base64") from None
        if len(raw) != 33:
            raise InputError(f"private key {name!r}: expected a type byte and a 32-byte seed")
        key_type = raw[0]
        _check_key_type(key_type, f"private key {name!r}")
        signer = cls(name, raw[1:], key_type=key_type)
        if signer.key_id != raw_id:
            raise InputError(f"private key {name!r}: key ID {hex_id} does not match the key")
        return signer

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def key_type(self) -> int:
        return self.verifier.key_type

    @property
    def public_key(self) -> bytes:
        return self.verifier.public_key

    @property
    def private_key_text(self) -> str:
        """The secret key text; keep it out of logs and out of version control."""
        encoded = base64.b64encode(bytes([self.key_type]) + self._seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """Sign note text; the result goes after the key ID in a signature line.

        A cosigner (type 0x04) returns ``timestamp (8 bytes, big-endian) ||
        Ed25519 signature`` at ``timestamp`` (seconds since the epoch, now if
        omitted); a note signer takes no timestamp.
        """
        if self.key_type != COSIGNATURE_ED25519:
            if timestamp is not None:
                raise InputError(f"key {self.name!r} signs notes; only cosigners take a timestamp")
            return self._key.sign(message)
        when = int(time.time()) if timestamp is None else timestamp
        if not 0 <= when <= MAX_TIMESTAMP:
            raise InputError(f"cosignature timestamp {when} is outside 0..2^63-1")
        stamp = when.to_bytes(8, "big")
        return stamp + self._key.sign(cosignature_message(message, when))

    def signature_line(self, text: str, *, timestamp: int | None = None) -> str:
        """The signature line (without newline) of this key over note ``text``."""
        check_note_text(text)
        sig = self.sign(text.encode(), timestamp=timestamp)
        return Signature(self.name, self.key_id, sig).line

    def __repr__(self) -> str:
        return f"Signer({self.verifier.vkey!r})"


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name, its 4-byte ID and the signature after the ID."""

    name: str
    key_id: bytes
    signature: bytes = field(repr=False)

    @property
    def line(self) -> str:
        """The signature line, without its final newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {encoded}"


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text may be trusted: at least one known key signed it."""

    text: str
    verified: list[Signature]
    unverified: list[Signature]


def parse_signature_line(line: str) -> Signature:
    """Read ``— <name> <base64(key ID || signature)>`` (a final newline is allowed)."""
    if line.endswith("\n"):
        line = line[:-1]
    if "\n" in line:
        raise InputError("a signature line holds a newline")
    if not line.startswith(_SIG_PREFIX):
        raise InputError(f"signature line {line[:60]!r} does not start with '— '")
    name, sep, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not encoded:
        raise InputError(f"signature line {line[:60]!r}: expected '— <name> <signature>'")
    check_key_name(name, "signature key name")
    raw = _b64decode(encoded, f"signature by {name!r}")
    if len(raw) < 5:
        raise InputError(f"signature by {name!r} is too short ({len(raw)} bytes)")
    return Signature(name, raw[:4], raw[4:])


def check_note_text(text: str) -> None:
    """Refuse note text that cannot be signed: it must be UTF-8 text ending in a newline,
    with no control character other than newline, and at most 1 MB."""
    if not text.endswith("\n"):
        raise InputError("note text must end with a newline")
    if len(_check_characters(text, "note text")) > MAX_NOTE_BYTES:
        raise TooLarge(f"note text is larger than {MAX_NOTE_BYTES} bytes")


def _check_characters(text: str, what: str) -> bytes:
    """The UTF-8 encoding of ``text``, refused if it holds a control character but newline."""
    try:
        encoded = text.encode()
    except UnicodeEncodeError as exc:
        raise InputError(f"{what} is not valid Unicode text (position {exc.start})") from exc
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise InputError(f"{what}, line {line}: control character {bad.group()!r} is not allowed")
    return encoded


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The note ``text`` signed by each signer, in order (one line per key)."""
    if not signers:
        raise InputError("a note needs at least one signer")
    check_note_text(text)
    message = text.encode()
    lines: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for signer in signers:
        if (signer.name, signer.key_id) in seen:
            continue
        seen.add((signer.name, signer.key_id))
        lines.append(Signature(signer.name, signer.key_id, signer.sign(message)).line)
    return text + "\n" + "".join(line + "\n" for line in lines)


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """The text and signature lines of a note, checked for form but not verified.

    Never trust the text before :func:`open_note` verified it.
    """
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise TooLarge(f"note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"note is not valid UTF-8 (byte {exc.start})") from exc
    elif len(note) > MAX_NOTE_BYTES:
        raise TooLarge(f"note is larger than {MAX_NOTE_BYTES} bytes")
    if len(_check_characters(note, "note")) > MAX_NOTE_BYTES:
        raise TooLarge(f"note is larger than {MAX_NOTE_BYTES} bytes")
    split = note.rfind("\n\n")
    if split < 0:
        raise InputError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise InputError("note has no signature lines after its last blank line")
    if not block.endswith("\n"):
        raise InputError("note does not end with a newline")
    raw_lines = block[:-1].split("\n")
    if len(raw_lines) > MAX_SIGNATURES:
        raise InputError(f"note has {len(raw_lines)} signatures; at most {MAX_SIGNATURES}")
    return text, [parse_signature_line(line) for line in raw_lines]


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Verify a note's signatures against the known ``verifiers``.

    Signatures by unknown keys (name and key ID) are kept as unverified; repeats
    are dropped. Raises :class:`VerificationFailed` when a known key's signature
    is bad or when no known key signed, :class:`InputError` for a malformed note.
    """
    text, signatures = split_note(note)
    known = _index(verifiers)
    message = text.encode()
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    seen_unknown: set[Signature] = set()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in seen_unknown:
                seen_unknown.add(sig)
                unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not verifier.verify(message, sig.signature):
            raise VerificationFailed(
                f"invalid signature by key {sig.name}+{sig.key_id.hex()}",
                key=f"{sig.name}+{sig.key_id.hex()}",
            )
        verified.append(sig)
    if not verified:
        names = ", ".join(sorted({f"{v.name}+{v.key_id.hex()}" for v in verifiers})) or "none"
        raise VerificationFailed(f"note has no signature by a known key (known: {names})")
    return OpenedNote(text, verified, unverified)


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if ident in known and known[ident] != verifier:
            raise InputError(
                f"two different known keys share name and ID {ident[0]}+{ident[1].hex()}"
            )
        known[ident] = verifier
    return known


def add_signatures(note: str, lines: Sequence[str]) -> str:
    """Append signature lines (e.g. witness cosignatures) to a note, unverified.

    A line by a key (name and key ID) the note already carries is dropped, so
    adding the same cosignatures twice changes nothing.
    """
    text, existing = split_note(note)
    have = {(sig.name, sig.key_id) for sig in existing}
    signatures = list(existing)
    for line in lines:
        sig = parse_signature_line(line)
        if (sig.name, sig.key_id) in have:
            continue
        have.add((sig.name, sig.key_id))
        signatures.append(sig)
    if len(signatures) > MAX_SIGNATURES:
        raise InputError(f"a note carries at most {MAX_SIGNATURES} signatures")
    result = text + "\n" + "".join(sig.line + "\n" for sig in signatures)
    if len(result.encode()) > MAX_NOTE_BYTES:
        raise TooLarge(f"note would be larger than {MAX_NOTE_BYTES} bytes")
    return result


__all__ = [
    "COSIGNATURE_ED25519",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "NOTE_ED25519",
    "OpenedNote",
    "Signature",
    "Signer",
    "Verifier",
    "add_signatures",
    "check_key_name",
    "check_note_text",
    "cosignature_message",
    "key_id",
    "open_note",
    "parse_signature_line",
    "parse_verifier_key",
    "sign_note",
    "split_note",
]
