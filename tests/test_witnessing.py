"""The log gathers cosignatures from a real witness served over HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from factories import adnd, national
from veritrail.actions import Context, do_submit_declaration, witnessing
from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import ConfigurationError
from veritrail.ledger.checkpoint import open_checkpoint, verify_cosignature
from veritrail.ledger.note import split_note
from veritrail.ledger.witness import (
    WitnessConfig,
    add_witness_log,
    create_witness_app,
    init_witness,
    load_witness_config,
)
from veritrail.queries import ledger as queries


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def witness(ctx: Context, tmp_path: Path) -> Iterator[tuple[str, WitnessConfig]]:
    directory = tmp_path / "witness"
    init_witness(directory, "witness.test")
    add_witness_log(directory, ctx.log_signer().verifier.vkey)
    config = load_witness_config(directory)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_witness_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "witness did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", config
    server.should_exit = True
    thread.join(timeout=10)


def _submit(ctx: Context, state: str) -> None:
    do_submit_declaration(
        ctx, actor=national(state), parsed=ParsedDeclaration(adnd(state=state), "json")
    )


def test_checkpoints_carry_the_witness_cosignature(
    ctx: Context, witness: tuple[str, WitnessConfig]
) -> None:
    url, config = witness
    ctx.settings.log_witnesses = [f"{url} {config.signer.verifier.vkey}"]
    witnessing._known_sizes.clear()
    _submit(ctx, "FRA")
    assert witnessing.gather_cosignatures(ctx) == 1
    assert witnessing.gather_cosignatures(ctx) == 0  # already cosigned
    for state in ("DEU", "JPN"):
        _submit(ctx, state)
    # A log process that never spoke to the witness learns its size from the 409.
    witnessing._known_sizes.clear()
    assert witnessing.gather_cosignatures(ctx) == 1
    note = queries.checkpoint_note(ctx).note
    checkpoint, _ = open_checkpoint(note, ctx.log_signer().verifier)
    assert checkpoint.size == 3
    lines = [
        line for line in note.split("\n\n", 1)[1].splitlines() if line.startswith("— witness.test ")
    ]
    assert len(lines) == 1
    assert verify_cosignature(checkpoint, lines[0], config.signer.verifier) > 0
    assert len(split_note(note)[1]) == 2  # the log's signature and the witness's


def test_a_misconfigured_witness_is_a_clear_error(ctx: Context) -> None:
    ctx.settings.log_witnesses = ["witness.example without a scheme"]
    with pytest.raises(ConfigurationError, match="write 'URL VKEY'"):
        witnessing.configured_witnesses(ctx)
