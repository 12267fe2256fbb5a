"""Signed notes: the reference implementation's vectors, round trips, and every malformed input.

The PeterNeumann and EnochRoot keys, notes and signatures come from
golang.org/x/mod/sumdb/note (note.go and note_test.go); the quasimodo note from
the C2SP signed-note specification.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from veritrail.errors import InputError, TooLarge, VerificationFailed
from veritrail.ledger.note import (
    COSIGNATURE_ED25519,
    MAX_SIGNATURES,
    NOTE_ED25519,
    Signature,
    Signer,
    Verifier,
    add_signatures,
    cosignature_message,
    key_id,
    open_note,
    parse_signature_line,
    parse_verifier_key,
    sign_note,
    split_note,
)

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"

QUASIMODO = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)


def _sig(name: str, b64: str) -> Signature:
    raw = base64.b64decode(b64)
    return Signature(name, raw[:4], raw[4:])


PETER = _sig("PeterNeumann", PETER_B64)
ENOCH = _sig("EnochRoot", ENOCH_B64)


# Keys -----------------------------------------------------------------------


def test_reference_keys_are_read_and_ids_computed() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    assert (peter.name, peter.key_id.hex(), peter.key_type) == ("PeterNeumann", "c74f20a3", 1)
    assert peter.vkey == PETER_VKEY == str(peter)
    assert key_id("PeterNeumann", NOTE_ED25519, peter.public_key) == bytes.fromhex("c74f20a3")
    assert parse_verifier_key(ENOCH_VKEY).key_id == bytes.fromhex("af0cfe78")

    signer = Signer.from_private_key_text(PETER_SKEY)
    assert signer.verifier == peter
    assert (signer.name, signer.key_id, signer.public_key) == (
        "PeterNeumann",
        peter.key_id,
        peter.public_key,
    )
    assert signer.private_key_text == PETER_SKEY
    assert PETER_SKEY not in repr(signer)


def test_key_id_is_the_spec_formula() -> None:
    signer = Signer.generate("veritrail.example/log")
    expected = hashlib.sha256(b"veritrail.example/log\n\x01" + signer.public_key).digest()[:4]
    assert signer.key_id == expected


@pytest.mark.parametrize("key_type", [NOTE_ED25519, COSIGNATURE_ED25519])
def test_generated_keys_round_trip(key_type: int) -> None:
    signer = Signer.generate("witness.example/w1", key_type=key_type)
    assert Signer.from_private_key_text(signer.private_key_text + "\n").verifier == signer.verifier
    assert parse_verifier_key(signer.verifier.vkey) == signer.verifier
    assert signer.verifier.vkey.startswith(f"witness.example/w1+{signer.key_id.hex()}+")
    assert base64.b64decode(signer.verifier.vkey.split("+", 2)[2])[0] == key_type


def test_same_key_different_type_has_a_different_id() -> None:
    seed = bytes(range(32))
    note_key = Signer("w", seed)
    cosigner = Signer("w", seed, key_type=COSIGNATURE_ED25519)
    assert note_key.public_key == cosigner.public_key
    assert note_key.key_id != cosigner.key_id


def test_every_mangled_verifier_key_is_refused() -> None:
    # As the reference implementation's TestNewVerifier: every proper substring,
    # and every one-character change.
    key = PETER_VKEY
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(InputError):
                    parse_verifier_key(key[i:j])
    for i in range(len(key)):
        with pytest.raises(InputError):
            parse_verifier_key(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])


def test_every_mangled_private_key_is_refused() -> None:
    key = PETER_SKEY
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(InputError):
                    Signer.from_private_key_text(key[i:j])
    for i in range(len(key)):
        with pytest.raises(InputError) as caught:
            Signer.from_private_key_text(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])
        assert "AYEKFALV" not in caught.value.message  # the secret is never echoed


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        # From the reference tests: a 41-byte key and an unknown algorithm, IDs adjusted.
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "base64"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key type 0x65"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "empty"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hexadecimal"),
        ("PeterNeumann+c74f20a3", "expected <name>"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
    ],
)
def test_malformed_verifier_keys_say_what_is_wrong(vkey: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        parse_verifier_key(vkey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        Signer.generate(name)
    with pytest.raises(InputError):
        Verifier.from_public_key(name, bytes(32))


def test_unsupported_key_types_and_sizes_are_refused() -> None:
    long_key = b"\x01" + bytes(40)
    long_vkey = f"n+{key_id('n', 1, long_key[1:]).hex()}+{base64.b64encode(long_key).decode()}"
    with pytest.raises(InputError, match="41 bytes"):
        parse_verifier_key(long_vkey)
    with pytest.raises(InputError, match="key type 0x02"):
        Signer.generate("a", key_type=2)
    with pytest.raises(InputError, match="32 bytes"):
        Verifier.from_public_key("a", bytes(31))
    with pytest.raises(InputError, match="32 bytes"):
        Signer("a", bytes(31))


# Signing and opening ---------------------------------------------------------


def test_sign_matches_the_reference_output() -> None:
    signer = Signer.from_private_key_text(PETER_SKEY)
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG
    assert signer.signature_line(TEXT) + "\n" == PETER_SIG


def test_open_reference_note_one_verified_one_not() -> None:
    opened = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [parse_verifier_key(PETER_VKEY)])
    assert opened.text == TEXT
    assert opened.verified == [PETER]
    assert opened.unverified == [ENOCH]


def test_open_reference_note_both_verified_as_str_and_bytes() -> None:
    verifiers = [parse_verifier_key(PETER_VKEY), parse_verifier_key(ENOCH_VKEY)]
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    for form in (note, note.encode()):
        opened = open_note(form, verifiers)
        assert opened.verified == [PETER, ENOCH]
        assert opened.unverified == []


def test_a_note_without_a_known_signature_is_refused() -> None:
    with pytest.raises(VerificationFailed, match="no signature by a known key"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    # Same name, other key: ignored, so nothing verifies.
    other = Signer.generate("PeterNeumann").verifier
    with pytest.raises(VerificationFailed, match="no signature by a known key"):
        open_note(TEXT + "\n" + PETER_SIG, [other])


def test_a_bad_signature_by_a_known_key_rejects_the_note() -> None:
    raw = PETER_SIG.encode()
    mangled = (raw[:60] + b"ABCD" + raw[60:]).decode()
    with pytest.raises(
        VerificationFailed, match="invalid signature by key PeterNeumann\\+c74f20a3"
    ):
        open_note(TEXT + "\n" + mangled, [parse_verifier_key(PETER_VKEY)])
    # Later lines by the same key are dropped, as in the reference: the first one decides.
    with pytest.raises(VerificationFailed):
        open_note(TEXT + "\n" + mangled + PETER_SIG, [parse_verifier_key(PETER_VKEY)])


def test_repeated_signatures_are_dropped() -> None:
    raw = ENOCH_SIG.encode()
    enoch_abcd = (raw[:60] + b"ABCD" + raw[60:]).decode()
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [parse_verifier_key(PETER_VKEY)])
    assert opened.verified == [PETER]
    assert opened.unverified == [ENOCH, parse_signature_line(enoch_abcd)]


def test_the_spec_example_note_splits_at_its_last_blank_line() -> None:
    text, signatures = split_note(QUASIMODO)
    assert text == QUASIMODO.split("\n\n— ")[0] + "\n"
    assert text.count("\n") == 4  # its own blank line stays in the text
    assert [s.name for s in signatures] == ["quasimodo.example/salvatore"]
    assert len(signatures[0].signature) == 64
    with pytest.raises(VerificationFailed):
        open_note(QUASIMODO, [Signer.generate("quasimodo.example/salvatore").verifier])


def test_round_trip_with_blank_lines_and_unicode() -> None:
    log = Signer.generate("veritrail.example/log")
    text = "первая строка\n\n第二行 — ٣\n\n"
    opened = open_note(sign_note(text, [log]), [log.verifier])
    assert opened.text == text
    assert [s.name for s in opened.verified] == [log.name]


def test_many_signers_in_order_and_once_each() -> None:
    signers = [Signer.generate(f"k{i}") for i in range(16)]
    note = sign_note(TEXT, [*signers, signers[0]])
    opened = open_note(note, [s.verifier for s in signers])
    assert [s.name for s in opened.verified] == [f"k{i}" for i in range(16)]


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + f"— Bad Name {PETER_B64}",
        TEXT + "\n" + f"— Bad Name {PETER_B64}\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("— ", "-- "),
        TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + "— PeterNeumann \n",
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # shorter than key ID + 1 byte
        TEXT + "\n" + "— PeterNeumann x08go/ZJ!\n",
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64
        TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1),
        "",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(InputError):
        open_note(note, [parse_verifier_key(PETER_VKEY)])


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [parse_verifier_key(PETER_VKEY)])
    with pytest.raises(InputError, match="Unicode"):
        open_note("\ud800" + TEXT + "\n" + PETER_SIG, [parse_verifier_key(PETER_VKEY)])


def test_oversized_notes_are_refused() -> None:
    big = "x" * 1_000_001 + "\n\n" + PETER_SIG
    with pytest.raises(TooLarge):
        open_note(big, [parse_verifier_key(PETER_VKEY)])
    with pytest.raises(TooLarge):
        open_note(big.encode(), [parse_verifier_key(PETER_VKEY)])
    with pytest.raises(TooLarge):
        sign_note("é" * 500_001 + "\n", [Signer.from_private_key_text(PETER_SKEY)])


def test_ambiguous_known_keys_are_refused() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    impostor = Verifier(peter.name, peter.key_id, bytes(32))
    with pytest.raises(InputError, match="share name and ID"):
        open_note(TEXT + "\n" + PETER_SIG, [peter, impostor])
    assert open_note(TEXT + "\n" + PETER_SIG, [peter, peter]).verified == [PETER]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no newline", "end with a newline"),
        ("tab\there\n", "line 1: control character"),
        ("ok\nbell\a\n", "line 2: control character"),
        ("\ud800\n", "Unicode"),
    ],
)
def test_unsignable_text_is_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        sign_note(text, [Signer.from_private_key_text(PETER_SKEY)])


def test_signing_needs_a_signer() -> None:
    with pytest.raises(InputError, match="at least one signer"):
        sign_note(TEXT, [])


# Cosigner keys and adding signatures -------------------------------------------


def test_cosigner_signature_is_timestamped_and_opens_as_a_note() -> None:
    log = Signer.generate("veritrail.example/log")
    witness = Signer.generate("witness.example/w1", key_type=COSIGNATURE_ED25519)
    note = sign_note(TEXT, [log])
    line = witness.signature_line(TEXT, timestamp=1_700_000_000)
    sig = parse_signature_line(line)
    assert sig.key_id == witness.key_id
    assert int.from_bytes(sig.signature[:8], "big") == 1_700_000_000
    # Checked independently of Verifier.verify: Ed25519 over the cosignature/v1 message.
    message = b"cosignature/v1\ntime 1700000000\n" + TEXT.encode()
    assert cosignature_message(TEXT.encode(), 1_700_000_000) == message
    Ed25519PublicKey.from_public_bytes(witness.public_key).verify(sig.signature[8:], message)

    cosigned = add_signatures(note, [line])
    opened = open_note(cosigned, [log.verifier, witness.verifier])
    assert [s.name for s in opened.verified] == [log.name, witness.name]


def test_timestamps_only_for_cosigners_and_in_range() -> None:
    with pytest.raises(InputError, match="only cosigners"):
        Signer.from_private_key_text(PETER_SKEY).sign(b"x", timestamp=1)
    witness = Signer.generate("w", key_type=COSIGNATURE_ED25519)
    for bad in (-1, 2**63):
        with pytest.raises(InputError, match="timestamp"):
            witness.sign(b"x", timestamp=bad)
    assert witness.verifier.verify(b"x", witness.sign(b"x"))
    assert not witness.verifier.verify(b"y", witness.sign(b"x"))
    assert not witness.verifier.verify(b"x", witness.sign(b"x")[:-1])


def test_add_signatures_appends_and_deduplicates() -> None:
    note = TEXT + "\n" + PETER_SIG
    added = add_signatures(note, [ENOCH_SIG, ENOCH_SIG.rstrip("\n"), PETER_SIG])
    assert added == TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert add_signatures(added, [ENOCH_SIG]) == added


@pytest.mark.parametrize("line", ["", "not a signature", "— Bad Name AAAAAAAA", "— a b\n— c d"])
def test_add_signatures_refuses_malformed_lines(line: str) -> None:
    with pytest.raises(InputError):
        add_signatures(TEXT + "\n" + PETER_SIG, [line])


def test_add_signatures_keeps_the_signature_cap() -> None:
    lines = [Signer.generate(f"w{i}").signature_line(TEXT) for i in range(MAX_SIGNATURES)]
    with pytest.raises(InputError, match="at most"):
        add_signatures(TEXT + "\n" + PETER_SIG, lines)
