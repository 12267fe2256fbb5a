"""Checkpoints and cosignatures: the C2SP examples, round trips and malformed bodies."""

from __future__ import annotations

import base64
import hashlib

import pytest

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger.checkpoint import (
    Checkpoint,
    cosign,
    open_checkpoint,
    sign_checkpoint,
    verified_cosignatures,
    verify_cosignature,
)
from veritrail.ledger.note import (
    COSIGNATURE_ED25519,
    Signer,
    add_signatures,
    open_note,
    parse_signature_line,
    sign_note,
    split_note,
)

# The examples of C2SP tlog-checkpoint and tlog-cosignature.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_COSIGNATURE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
ORIGIN = "veritrail.example/log"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def log() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture(scope="module")
def witness() -> Signer:
    return Signer.generate("witness.example/w1", key_type=COSIGNATURE_ED25519)


def test_spec_example_body_parses_and_formats_back() -> None:
    checkpoint = Checkpoint.parse(SPEC_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == SPEC_BODY


def test_spec_example_cosignature_carries_its_timestamp() -> None:
    sig = parse_signature_line(SPEC_COSIGNATURE)
    assert sig.name == "witness.example.com/w1"
    assert len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147  # "time 1679315147" in the spec


@pytest.mark.parametrize("size", [0, 1, 2**63 - 1])
def test_round_trip_with_extensions(size: int) -> None:
    checkpoint = Checkpoint(ORIGIN, size, ROOT, ("ext one", "ext — two"))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "newline"),
        (SPEC_BODY[:-1], "newline"),
        ("origin\n12\n", "2 line"),
        ("\n12\n" + SPEC_BODY.split("\n")[2] + "\n", "origin is empty"),
        (SPEC_BODY.replace("20852163", "020852163"), "leading zeros"),
        (SPEC_BODY.replace("20852163", "00"), "leading zeros"),
        (SPEC_BODY.replace("20852163", "-1"), "decimal"),
        (SPEC_BODY.replace("20852163", "+1"), "decimal"),
        (SPEC_BODY.replace("20852163", " 1"), "decimal"),
        (SPEC_BODY.replace("20852163", "1e3"), "decimal"),
        (SPEC_BODY.replace("20852163", "٣"), "decimal"),  # a non-ASCII digit
        (SPEC_BODY.replace("20852163", ""), "decimal"),
        (SPEC_BODY.replace("20852163", str(2**63)), "2\\^63"),
        (SPEC_BODY.replace("2I=", "2J="), "canonical"),
        (SPEC_BODY.replace("=", ""), "base64"),
        (SPEC_BODY.replace("Cs", "C!"), "base64"),
        ("o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "31 bytes"),
        ("o\n1\n" + base64.b64encode(bytes(33)).decode() + "\n", "33 bytes"),
        (SPEC_BODY + "\n", "extension \\(line 4\\) is empty"),
        (SPEC_BODY + "ext\n\nmore\n", "line 5"),
        ("o\tx\n1\n" + base64.b64encode(ROOT).decode() + "\n", "control character"),
    ],
)
def test_malformed_bodies_say_why(body: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        Checkpoint.parse(body)


def test_bad_values_are_refused_at_construction() -> None:
    with pytest.raises(InputError):
        Checkpoint("", 1, ROOT)
    with pytest.raises(InputError):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(InputError):
        Checkpoint(ORIGIN, True, ROOT)
    with pytest.raises(InputError):
        Checkpoint(ORIGIN, 1, ROOT[:-1])
    with pytest.raises(InputError):
        Checkpoint(ORIGIN, 1, ROOT, ("a\nb",))


def test_open_checkpoint(log: Signer, witness: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    note = sign_checkpoint(checkpoint, log)
    cosigned = add_signatures(note, [cosign(checkpoint, witness, 1_700_000_000)])
    opened_checkpoint, opened = open_checkpoint(cosigned, log.verifier)
    assert opened_checkpoint == checkpoint
    assert [s.name for s in opened.verified] == [ORIGIN]
    assert [s.name for s in opened.unverified] == [witness.name]


def test_open_checkpoint_refuses_other_keys_and_origins(log: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    with pytest.raises(VerificationFailed):
        open_checkpoint(sign_checkpoint(checkpoint, log), Signer.generate(ORIGIN).verifier)
    # Signed by the right key, but for another origin.
    other = sign_note(Checkpoint("veritrail.example/other", 7, ROOT).body(), [log])
    with pytest.raises(VerificationFailed, match="origin"):
        open_checkpoint(other, log.verifier)
    with pytest.raises(InputError, match="must be equal"):
        sign_checkpoint(Checkpoint("veritrail.example/other", 7, ROOT), log)


def test_open_checkpoint_refuses_a_tampered_body(log: Signer) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), log)
    with pytest.raises(VerificationFailed):
        open_checkpoint(note.replace("\n7\n", "\n8\n"), log.verifier)


def test_a_signed_but_malformed_body_is_an_input_error(log: Signer) -> None:
    with pytest.raises(InputError, match="decimal"):
        open_checkpoint(sign_note(f"{ORIGIN}\nseven\nroot\n", [log]), log.verifier)


def test_cosign_and_verify(witness: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT, ("ext",))
    line = cosign(checkpoint, witness, 1_700_000_000)
    assert verify_cosignature(checkpoint, line, witness.verifier) == 1_700_000_000
    assert verify_cosignature(checkpoint, parse_signature_line(line), witness.verifier) == (
        1_700_000_000
    )
    # It is a note signature too: a verifier list holding the witness opens it.
    note = checkpoint.body() + "\n" + line + "\n"
    assert open_note(note, [witness.verifier]).verified[0].key_id == witness.key_id


def test_a_cosignature_binds_body_and_time(witness: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    line = cosign(checkpoint, witness, 1_700_000_000)
    with pytest.raises(VerificationFailed, match="invalid cosignature"):
        verify_cosignature(Checkpoint(ORIGIN, 8, ROOT), line, witness.verifier)
    with pytest.raises(VerificationFailed, match="invalid cosignature"):
        verify_cosignature(Checkpoint(ORIGIN, 7, ROOT, ("ext",)), line, witness.verifier)
    sig = parse_signature_line(line)
    later = type(sig)(sig.name, sig.key_id, (1_700_000_001).to_bytes(8, "big") + sig.signature[8:])
    with pytest.raises(VerificationFailed, match="invalid cosignature"):
        verify_cosignature(checkpoint, later, witness.verifier)
    truncated = type(sig)(sig.name, sig.key_id, sig.signature[:-1])
    with pytest.raises(VerificationFailed, match="invalid cosignature"):
        verify_cosignature(checkpoint, truncated, witness.verifier)


def test_a_cosignature_by_another_key_is_refused(witness: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    other = Signer.generate(witness.name, key_type=COSIGNATURE_ED25519)
    with pytest.raises(VerificationFailed, match="not by cosigner"):
        verify_cosignature(checkpoint, cosign(checkpoint, other, 1), witness.verifier)


def test_note_keys_cannot_cosign(log: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    with pytest.raises(InputError, match="type 0x04"):
        cosign(checkpoint, log, 1)
    with pytest.raises(InputError, match="type 0x04"):
        verify_cosignature(
            checkpoint, sign_checkpoint(checkpoint, log).split("\n")[-2], log.verifier
        )


def test_verified_cosignatures_counts_known_witnesses(log: Signer, witness: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    second = Signer.generate("witness.example/w2", key_type=COSIGNATURE_ED25519)
    stranger = Signer.generate("witness.example/w3", key_type=COSIGNATURE_ED25519)
    note = add_signatures(
        sign_checkpoint(checkpoint, log),
        [cosign(checkpoint, w, 100 + i) for i, w in enumerate((witness, second, stranger))],
    )
    _, signatures = split_note(note)
    found = verified_cosignatures(checkpoint, signatures, [witness.verifier, second.verifier])
    assert found == {witness.verifier.vkey: 100, second.verifier.vkey: 101}
