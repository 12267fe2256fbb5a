"""Veritrail's receipts, proofs and cosignatures, checked by Go's reference packages.

``veritrail-verify/main.go`` uses golang.org/x/mod/sumdb/note and
golang.org/x/mod/sumdb/tlog (Debian's golang-go and golang-golang-x-mod-dev,
installed by scripts/setup.sh), built in GOPATH mode with no network. Every
valid receipt and proof made here in Python must pass, every tampered one fail.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from veritrail.ledger import merkle
from veritrail.ledger.checkpoint import Checkpoint, cosign, sign_checkpoint
from veritrail.ledger.note import COSIGNATURE_ED25519, Signer, add_signatures

SOURCE = Path(__file__).parent / "veritrail-verify"
GOPATH = "/usr/share/gocode"
ORIGIN = "veritrail.example/log"
SIZES = [0, 1, 2, 3, 7, 8, 9, 16, 31, 64, 100]


class Log:
    """A log of entries of varied lengths, with checkpoints signed at chosen sizes."""

    def __init__(self, signer: Signer, prefix: bytes = b"") -> None:
        self.signer = signer
        self.tree = merkle.MemoryTree()
        self.entries: list[bytes] = []
        self.notes: dict[int, str] = {}
        for size in SIZES:
            while len(self.entries) < size:
                i = len(self.entries)
                entry = prefix + bytes(range(i % 7)) + b"entry %d\n\x00\xff" % i * (1 + i % 3)
                self.entries.append(entry)
                self.tree.append(entry)
            self.notes[size] = sign_checkpoint(self.checkpoint(size), signer)

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(ORIGIN, size, merkle.tree_root(size, self.tree))

    def receipt(self, index: int, size: int) -> dict[str, Any]:
        return {
            "checkpoint": self.notes[size],
            "index": index,
            "entry": base64.b64encode(self.entries[index]).decode(),
            "inclusion_proof": _b64(merkle.inclusion_proof(index, size, self.tree)),
        }


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@pytest.fixture(scope="module")
def log() -> Log:
    return Log(Signer.generate(ORIGIN))


def _run(binary: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *map(str, args)], capture_output=True, text=True, timeout=30, check=False
    )


def _write(path: Path, doc: object) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _accepted(result: subprocess.CompletedProcess[str]) -> bool:
    print(result.args[1], result.returncode, result.stderr.strip())  # shown on failure
    if result.returncode == 0:
        assert result.stdout.splitlines()[-1] == "ok"
        return True
    assert result.returncode == 1, result.stderr  # refused, not a usage error or a crash
    assert result.stderr.startswith("refused:")
    return False


def _verify_receipt(binary: Path, tmp_path: Path, receipt: dict[str, Any], vkey: str) -> bool:
    return _accepted(_run(binary, "verify-receipt", _write(tmp_path / "r.json", receipt), vkey))


def test_go_accepts_every_receipt(go_verify: Path, log: Log, tmp_path: Path) -> None:
    vkey = log.signer.verifier.vkey
    for size in SIZES[1:]:
        for index in sorted({0, 1 % size, size // 2, size - 2 if size > 1 else 0, size - 1}):
            receipt = log.receipt(index, size)
            assert _verify_receipt(go_verify, tmp_path, receipt, vkey), (index, size)


def _flip(b64: str, bit: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode()


def test_go_refuses_tampered_receipts(go_verify: Path, log: Log, tmp_path: Path) -> None:
    vkey = log.signer.verifier.vkey
    good = log.receipt(5, 31)
    assert _verify_receipt(go_verify, tmp_path, good, vkey)
    proof, note = good["inclusion_proof"], good["checkpoint"]
    entry = base64.b64decode(good["entry"])
    signature_line = note.splitlines()[-1]
    name, sig = signature_line.rsplit(" ", 1)
    tampered = {
        "a flipped proof bit": {"inclusion_proof": [proof[0], _flip(proof[1], 77), *proof[2:]]},
        "a missing proof hash": {"inclusion_proof": proof[:-1]},
        "an extra proof hash": {"inclusion_proof": [*proof, proof[0]]},
        "another entry": {"entry": base64.b64encode(entry + b"!").decode()},
        "another index": {"index": 6},
        "a bad signature": {"checkpoint": note.replace(sig, _flip(sig, 8 * 10))},
        "a changed size": {"checkpoint": note.replace("\n31\n", "\n32\n")},
        "no signature": {"checkpoint": note.replace(signature_line + "\n", "")},
    }
    for what, change in tampered.items():
        assert not _verify_receipt(go_verify, tmp_path, {**good, **change}, vkey), what
    other_key = Signer.generate(ORIGIN).verifier.vkey  # the log's name, another key
    assert not _verify_receipt(go_verify, tmp_path, good, other_key)


def test_go_accepts_every_consistency_proof(go_verify: Path, log: Log, tmp_path: Path) -> None:
    vkey = log.signer.verifier.vkey
    for new in SIZES:
        for old in (s for s in SIZES if s <= new):
            proof = {"consistency_proof": _b64(merkle.consistency_proof(old, new, log.tree))}
            result = _run(
                go_verify,
                "verify-consistency",
                _write(tmp_path / "old", log.notes[old]),
                _write(tmp_path / "new", log.notes[new]),
                _write(tmp_path / "proof.json", proof),
                vkey,
            )
            assert _accepted(result), (old, new, result.stderr)


def test_go_refuses_bad_consistency(go_verify: Path, log: Log, tmp_path: Path) -> None:
    vkey = log.signer.verifier.vkey
    proof = _b64(merkle.consistency_proof(9, 100, log.tree))
    fork = Log(log.signer, prefix=b"fork")

    def check(old_note: str, new_note: str, hashes: list[str], key: str = vkey) -> bool:
        return _accepted(
            _run(
                go_verify,
                "verify-consistency",
                _write(tmp_path / "old", old_note),
                _write(tmp_path / "new", new_note),
                _write(tmp_path / "proof.json", {"consistency_proof": hashes}),
                key,
            )
        )

    assert check(log.notes[9], log.notes[100], proof)
    assert not check(log.notes[9], log.notes[100], [_flip(proof[0], 200), *proof[1:]])
    assert not check(log.notes[9], log.notes[100], proof[:-1])
    assert not check(fork.notes[9], log.notes[100], proof)  # a fork at the old size
    assert not check(log.notes[9], fork.notes[100], proof)
    assert not check(log.notes[100], log.notes[9], proof)  # a rollback
    assert not check(log.notes[8], log.notes[8], [proof[0]])
    assert not check(log.notes[9], log.notes[100], proof, Signer.generate(ORIGIN).verifier.vkey)


def test_go_checks_witness_cosignatures(go_verify: Path, log: Log, tmp_path: Path) -> None:
    witness = Signer.generate("witness.example/w1", key_type=COSIGNATURE_ED25519)
    checkpoint = log.checkpoint(31)
    line = cosign(checkpoint, witness, 1_700_000_123)
    cosigned = add_signatures(log.notes[31], [line])
    log_vkey, witness_vkey = log.signer.verifier.vkey, witness.verifier.vkey

    def check(note: str, witness_key: str = witness_vkey) -> subprocess.CompletedProcess[str]:
        return _run(
            go_verify, "verify-cosignature", _write(tmp_path / "cp", note), log_vkey, witness_key
        )

    ok = check(cosigned)
    assert _accepted(ok)
    assert ok.stdout.splitlines() == ["timestamp 1700000123", "ok"]

    name, sig = line.rsplit(" ", 1)
    raw = base64.b64decode(sig)
    later = raw[:4] + (1_700_000_124).to_bytes(8, "big") + raw[12:]
    retimed = f"{name} {base64.b64encode(later).decode()}"
    assert not _accepted(check(add_signatures(log.notes[31], [retimed])))
    elsewhere = cosign(log.checkpoint(16), witness, 1_700_000_123)  # another checkpoint's
    assert not _accepted(check(add_signatures(log.notes[31], [elsewhere])))
    assert not _accepted(check(log.notes[31]))  # no cosignature at all
    other = Signer.generate(witness.name, key_type=COSIGNATURE_ED25519).verifier.vkey
    assert not _accepted(check(cosigned, other))
