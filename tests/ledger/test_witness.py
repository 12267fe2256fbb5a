"""The witness: its checks in process, its HTTP answers, its client, its CLI, and a real server."""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from veritrail.cli.witness import app as witness_cli
from veritrail.errors import (
    ConfigurationError,
    Forbidden,
    InputError,
    LogInconsistent,
    NotFound,
    StorageError,
    TooLarge,
    VerificationFailed,
)
from veritrail.ledger import merkle
from veritrail.ledger.checkpoint import Checkpoint, sign_checkpoint, verify_cosignature
from veritrail.ledger.note import COSIGNATURE_ED25519, Signer, add_signatures, open_note
from veritrail.ledger.witness import (
    MAX_BODY_BYTES,
    TreeHead,
    Witness,
    WitnessSizeConflict,
    WitnessState,
    add_witness_log,
    create_witness_app,
    format_add_checkpoint_body,
    init_witness,
    load_witness_config,
    parse_add_checkpoint_body,
    submit_to_witness,
)

ORIGIN = "veritrail.example/log"
NOW = 1_700_000_000


class Log:
    """A log in memory: entries, a Merkle tree and the key that signs its checkpoints."""

    def __init__(self, signer: Signer, prefix: bytes = b"entry") -> None:
        self.signer = signer
        self.tree = merkle.MemoryTree()
        self.prefix = prefix

    def grow(self, n: int) -> Log:
        for _ in range(n):
            self.tree.append(self.prefix + b" %d" % self.tree.size)
        return self

    @property
    def size(self) -> int:
        return self.tree.size

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(ORIGIN, self.size, self.tree.root())

    def note(self) -> str:
        return sign_checkpoint(self.checkpoint(), self.signer)

    def proof(self, old: int) -> list[bytes]:
        return merkle.consistency_proof(old, self.size, self.tree)


@pytest.fixture
def log_key() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def witness_key() -> Signer:
    return Signer.generate("witness.example/w1", key_type=COSIGNATURE_ED25519)


@pytest.fixture
def witness(tmp_path: Path, log_key: Signer, witness_key: Signer) -> Witness:
    return Witness(
        witness_key, [log_key.verifier], WitnessState(tmp_path / "state.json"), clock=lambda: NOW
    )


# The witness's checks ----------------------------------------------------------------


def test_cosigns_a_first_checkpoint_then_consistent_ones(
    witness: Witness, log_key: Signer, witness_key: Signer
) -> None:
    log = Log(log_key).grow(5)
    [line] = witness.add_checkpoint(0, [], log.note())
    assert verify_cosignature(log.checkpoint(), line, witness_key.verifier) == NOW
    for old, grow in ((5, 1), (6, 10), (16, 17)):
        log.grow(grow)
        [line] = witness.add_checkpoint(old, log.proof(old), log.note())
        assert verify_cosignature(log.checkpoint(), line, witness_key.verifier) == NOW
    assert witness.state.read() == {ORIGIN: TreeHead(33, log.tree.root())}
    # The cosigned note opens with both keys.
    cosigned = add_signatures(log.note(), [line])
    assert len(open_note(cosigned, [log_key.verifier, witness_key.verifier]).verified) == 2


def test_the_same_checkpoint_again_is_cosigned_again(witness: Witness, log_key: Signer) -> None:
    log = Log(log_key).grow(3)
    witness.add_checkpoint(0, [], log.note())
    assert witness.add_checkpoint(3, [], log.note())


def test_an_empty_log_can_be_cosigned(witness: Witness, log_key: Signer) -> None:
    log = Log(log_key)
    witness.add_checkpoint(0, [], log.note())
    log.grow(4)
    witness.add_checkpoint(0, [], log.note())
    assert witness.state.read()[ORIGIN].size == 4


def test_a_stale_old_size_is_a_conflict_naming_the_witness_size(
    witness: Witness, log_key: Signer
) -> None:
    log = Log(log_key).grow(5)
    witness.add_checkpoint(0, [], log.note())
    log.grow(3)
    for old in (0, 4, 6):
        with pytest.raises(WitnessSizeConflict) as caught:
            witness.add_checkpoint(old, log.proof(old) if old else [], log.note())
        assert caught.value.witness_size == 5
        assert caught.value.status == 409


def test_a_fork_at_the_same_size_is_refused(witness: Witness, log_key: Signer) -> None:
    witness.add_checkpoint(0, [], Log(log_key).grow(5).note())
    fork = Log(log_key, prefix=b"other").grow(5)
    with pytest.raises(LogInconsistent, match="another root"):
        witness.add_checkpoint(5, [], fork.note())
    assert witness.state.read()[ORIGIN].size == 5


def test_a_fork_at_a_larger_size_fails_its_proof(witness: Witness, log_key: Signer) -> None:
    honest = Log(log_key).grow(5)
    witness.add_checkpoint(0, [], honest.note())
    fork = Log(log_key, prefix=b"other").grow(9)
    with pytest.raises(VerificationFailed) as caught:
        witness.add_checkpoint(5, fork.proof(5), fork.note())
    assert caught.value.status == 422
    assert witness.state.read()[ORIGIN] == TreeHead(5, honest.tree.root())


def test_a_bad_proof_is_refused_and_nothing_changes(witness: Witness, log_key: Signer) -> None:
    log = Log(log_key).grow(5)
    witness.add_checkpoint(0, [], log.note())
    log.grow(6)
    proof = log.proof(5)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad in (flipped, proof[:-1], [*proof, proof[0]], []):
        with pytest.raises(VerificationFailed):
            witness.add_checkpoint(5, bad, log.note())
    assert witness.state.read()[ORIGIN].size == 5
    # From size 0 the proof must be empty.
    fresh = Witness(
        witness.signer, [log_key.verifier], WitnessState(witness.state.path.with_name("b"))
    )
    with pytest.raises(VerificationFailed, match="empty"):
        fresh.add_checkpoint(0, proof, log.note())


def test_unknown_log_and_bad_signatures(witness: Witness, log_key: Signer) -> None:
    stranger = Signer.generate("veritrail.example/other")
    other_note = sign_checkpoint(Checkpoint(stranger.name, 1, merkle.leaf_hash(b"x")), stranger)
    with pytest.raises(NotFound):
        witness.add_checkpoint(0, [], other_note)
    impostor = Log(Signer.generate(ORIGIN)).grow(2)  # the log's name, another key
    with pytest.raises(Forbidden):
        witness.add_checkpoint(0, [], impostor.note())
    log = Log(log_key).grow(2)
    tampered = log.note().replace("\n2\n", "\n3\n")
    with pytest.raises(Forbidden):
        witness.add_checkpoint(0, [], tampered)
    assert witness.state.read() == {}


def test_old_size_above_the_checkpoint_is_an_input_error(witness: Witness, log_key: Signer) -> None:
    with pytest.raises(InputError, match="larger"):
        witness.add_checkpoint(3, [], Log(log_key).grow(2).note())


def test_state_survives_a_restart(
    tmp_path: Path, witness: Witness, log_key: Signer, witness_key: Signer
) -> None:
    log = Log(log_key).grow(5)
    witness.add_checkpoint(0, [], log.note())
    again = Witness(witness_key, [log_key.verifier], WitnessState(tmp_path / "state.json"))
    with pytest.raises(WitnessSizeConflict):
        again.add_checkpoint(0, [], log.grow(1).note())
    assert again.add_checkpoint(5, log.proof(5), log.note())
    assert not list(tmp_path.glob(".state.json*"))  # no temporary file left behind


def test_a_damaged_state_is_never_taken_for_an_empty_one(
    tmp_path: Path, witness: Witness, log_key: Signer
) -> None:
    for damaged in (b"{", b'{"version": 2, "logs": {}}', b'{"version": 1, "logs": {"a": {}}}'):
        (tmp_path / "state.json").write_bytes(damaged)
        with pytest.raises(StorageError, match="damaged"):
            witness.add_checkpoint(0, [], Log(log_key).grow(1).note())


def test_concurrent_submissions_are_serialized(
    tmp_path: Path, log_key: Signer, witness_key: Signer
) -> None:
    # Two witnesses on one state file stand for two processes: flock must hold them apart.
    witnesses = [
        Witness(witness_key, [log_key.verifier], WitnessState(tmp_path / "state.json"))
        for _ in range(2)
    ]
    note = Log(log_key).grow(7).note()
    results: list[str] = []

    def submit(i: int) -> None:
        try:
            witnesses[i % 2].add_checkpoint(0, [], note)
            results.append("cosigned")
        except WitnessSizeConflict as exc:
            results.append(f"conflict {exc.witness_size}")

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict 7"] * 15 + ["cosigned"]


# The request body ----------------------------------------------------------------------


def test_body_round_trip() -> None:
    proof = [merkle.leaf_hash(b"%d" % i) for i in range(3)]
    body = format_add_checkpoint_body(12, proof, "note\n\n— k AAAAAAA=\n")
    assert body.startswith(b"old 12\n")
    assert parse_add_checkpoint_body(body) == (12, proof, b"note\n\n\xe2\x80\x94 k AAAAAAA=\n")
    assert parse_add_checkpoint_body(b"old 0\n\nx") == (0, [], b"x")


HASH = base64.b64encode(bytes(32))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "line 1"),
        (b"old 1", "line 1"),
        (b"new 1\n\n", "line 1"),
        (b"old 01\n\n", "leading zeros"),
        (b"old -1\n\n", "decimal"),
        (b"old \n\n", "decimal"),
        (b"old 1\n" + HASH + b"\n", "no empty line"),
        (b"old 1\n" + HASH[:-4] + b"\n\n", "line 2"),
        (b"old 1\n" + HASH + b"\n!!\n\n", "line 3: proof hash is not base64"),
        (b"old 1\n" + HASH.replace(b"=", b"E") + b"\n\n", "line 2"),
        (b"old 1\n" + (HASH + b"\n") * 64 + b"\n", "more than 63"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        parse_add_checkpoint_body(body)


def test_oversized_body() -> None:
    with pytest.raises(TooLarge):
        parse_add_checkpoint_body(b"old 0\n\n" + b"x" * MAX_BODY_BYTES)


# HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def witness_dir(tmp_path: Path, log_key: Signer) -> Path:
    directory = tmp_path / "witness"
    init_witness(directory, "witness.example/w1")
    add_witness_log(directory, log_key.verifier.vkey)
    return directory


@pytest.fixture
def client(witness_dir: Path) -> TestClient:
    return TestClient(create_witness_app(load_witness_config(witness_dir)))


def _post(client: TestClient, old: int, proof: list[bytes], note: str) -> httpx.Response:
    return client.post("/add-checkpoint", content=format_add_checkpoint_body(old, proof, note))


def test_http_answers(client: TestClient, witness_dir: Path, log_key: Signer) -> None:
    witness_key = load_witness_config(witness_dir).signer.verifier
    log = Log(log_key).grow(5)
    ok = _post(client, 0, [], log.note())
    assert ok.status_code == 200, ok.text
    assert ok.text.endswith("\n") and ok.text.startswith("— witness.example/w1 ")
    verify_cosignature(log.checkpoint(), ok.text, witness_key)

    log.grow(3)
    stale = _post(client, 0, [], log.note())
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "text/x.tlog.size"
    assert stale.text == "5\n"

    assert _post(client, 5, [], Log(log_key, b"fork").grow(5).note()).status_code == 409
    bad = [bytes(32)] * len(log.proof(5))
    assert _post(client, 5, bad, log.note()).status_code == 422
    assert _post(client, 9, [], log.note()).status_code == 400
    assert _post(client, 0, [], Log(Signer.generate(ORIGIN)).grow(2).note()).status_code == 403
    stranger = Signer.generate("veritrail.example/other")
    other = sign_checkpoint(Checkpoint(stranger.name, 0, merkle.EMPTY_ROOT), stranger)
    assert _post(client, 0, [], other).status_code == 404
    assert client.post("/add-checkpoint", content=b"old x\n\n").status_code == 400
    assert client.post("/add-checkpoint", content=b"old 0\n\nnot a note").status_code == 400
    huge = client.post("/add-checkpoint", content=b"old 0\n\n" + b"x" * MAX_BODY_BYTES)
    assert huge.status_code == 413
    assert _post(client, 5, log.proof(5), log.note()).status_code == 200
    assert client.get("/add-checkpoint").status_code == 405
    assert client.get("/openapi.json").status_code == 404


def test_client_gathers_and_verifies_cosignatures(
    client: TestClient, witness_dir: Path, log_key: Signer
) -> None:
    witness_key = load_witness_config(witness_dir).signer.verifier
    log = Log(log_key).grow(4)
    lines = submit_to_witness("http://testserver/", 0, [], log.note(), client=client)
    assert [verify_cosignature(log.checkpoint(), line, witness_key) > 0 for line in lines] == [True]
    log.grow(4)
    lines = submit_to_witness(
        "http://testserver", 4, log.proof(4), log.note(), client=client, witness=witness_key
    )
    assert len(lines) == 1

    log.grow(1)
    with pytest.raises(WitnessSizeConflict) as caught:
        submit_to_witness("http://testserver", 0, [], log.note(), client=client)
    assert caught.value.witness_size == 8

    # The log shows a smaller tree than the witness cosigned: a rollback.
    with pytest.raises(LogInconsistent, match="only 5"):
        submit_to_witness("http://testserver", 0, [], Log(log_key).grow(5).note(), client=client)
    with pytest.raises(LogInconsistent):
        fork = Log(log_key, b"fork").grow(8)
        submit_to_witness("http://testserver", 8, [], fork.note(), client=client)
    with pytest.raises(VerificationFailed, match="403"):
        impostor = Log(Signer.generate(ORIGIN)).grow(9)
        submit_to_witness("http://testserver", 8, [], impostor.note(), client=client)
    with pytest.raises(VerificationFailed, match="without a cosignature"):
        other_witness = Signer.generate("w2", key_type=COSIGNATURE_ED25519).verifier
        submit_to_witness(
            "http://testserver", 8, log.proof(8), log.note(), client=client, witness=other_witness
        )


def test_client_failures_outside_the_witness_protocol(log_key: Signer) -> None:
    note = Log(log_key).grow(1).note()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed on exit: nothing listens there
    with pytest.raises(StorageError, match="unreachable"):
        submit_to_witness(f"http://127.0.0.1:{port}", 0, [], note, timeout=2)

    with _misbehaving_witness(503, "busy") as url, pytest.raises(StorageError, match="503"):
        submit_to_witness(url, 0, [], note)
    with (
        _misbehaving_witness(200, "not a signature\n") as url,
        pytest.raises(VerificationFailed, match="malformed"),
    ):
        submit_to_witness(url, 0, [], note)
    with (
        _misbehaving_witness(200, "") as url,
        pytest.raises(VerificationFailed, match="without a cosignature"),
    ):
        submit_to_witness(url, 0, [], note)


@contextlib.contextmanager
def _misbehaving_witness(status: int, text: str) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers every request with ``status`` and ``text``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Configuration and CLI -----------------------------------------------------------------


def test_cli_init_add_log_vkey(tmp_path: Path, log_key: Signer) -> None:
    runner = CliRunner()
    directory = tmp_path / "w"
    result = runner.invoke(witness_cli, ["init", str(directory), "--name", "example.org/w1"])
    assert result.exit_code == 0, result.output
    vkey = result.stdout.strip()
    assert vkey.startswith("example.org/w1+")
    assert (directory / "witness.key").stat().st_mode & 0o777 == 0o600

    result = runner.invoke(witness_cli, ["vkey", str(directory)])
    assert result.stdout.strip() == vkey
    result = runner.invoke(
        witness_cli, ["add-log", str(directory), "--vkey", log_key.verifier.vkey]
    )
    assert result.exit_code == 0, result.output
    assert load_witness_config(directory).logs == (log_key.verifier,)

    again = runner.invoke(witness_cli, ["add-log", str(directory), "--vkey", log_key.verifier.vkey])
    assert again.exit_code == 1 and "already" in again.stderr
    cosigner = Signer.generate("x", key_type=COSIGNATURE_ED25519).verifier.vkey
    wrong = runner.invoke(witness_cli, ["add-log", str(directory), "--vkey", cosigner])
    assert wrong.exit_code == 1 and "0x01" in wrong.stderr
    garbled = runner.invoke(witness_cli, ["add-log", str(directory), "--vkey", "nonsense"])
    assert garbled.exit_code == 1 and "verifier key" in garbled.stderr
    twice = runner.invoke(witness_cli, ["init", str(directory), "--name", "example.org/w1"])
    assert twice.exit_code == 1 and "exists already" in twice.stderr
    missing = runner.invoke(witness_cli, ["vkey", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "witness init" in missing.stderr


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ("key_file = 3\n", "key_file"),
        ("logs = 'x'\n", "logs"),
        ("[[logs]]\nvkey = 'a+b+c'\n", "logs\\[0\\].vkey"),
        ("[[logs]]\nname = 'a'\n", "logs\\[0\\].vkey"),
        ("key_file = 'missing.key'\n", "cannot read"),
        ("this is not toml", "witness.toml"),
    ],
)
def test_broken_configurations_say_where(witness_dir: Path, config: str, reason: str) -> None:
    (witness_dir / "witness.toml").write_text(config)
    with pytest.raises(ConfigurationError, match=reason):
        load_witness_config(witness_dir)


def test_a_note_key_cannot_be_the_witness_key(witness_dir: Path) -> None:
    (witness_dir / "witness.key").write_text(Signer.generate("w").private_key_text)
    with pytest.raises(ConfigurationError, match="cosigner key"):
        load_witness_config(witness_dir)


# A real server -------------------------------------------------------------------------


def test_serve_for_real(witness_dir: Path, log_key: Signer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "from veritrail.cli.witness import app; app()"
    args = ["serve", str(witness_dir), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stderr.read().decode() if server.stderr else ""
                    raise AssertionError(f"the witness did not start:\n{output}") from None
                time.sleep(0.05)
        witness_key = load_witness_config(witness_dir).signer.verifier
        log = Log(log_key).grow(3)
        with httpx.Client(timeout=5) as http:
            assert submit_to_witness(url, 0, [], log.note(), client=http, witness=witness_key)
            log.grow(5)
            proof = log.proof(3)
            assert submit_to_witness(url, 3, proof, log.note(), client=http, witness=witness_key)
            with pytest.raises(WitnessSizeConflict) as caught:
                submit_to_witness(url, 3, proof, log.note(), client=http)
            assert caught.value.witness_size == 8
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert WitnessState(witness_dir / "state.json").read()[ORIGIN].size == 8
