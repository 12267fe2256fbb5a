"""``veritrail witness``: a witness that cosigns log checkpoints (C2SP tlog-witness).

A state sets one up on its own machine, gives the log operator its verifier
key, adds the log's key, and serves it::

    veritrail witness init /srv/witness --name witness.example.org/state-a
    veritrail witness add-log /srv/witness --vkey 'veritrail.example/log+1a2b3c4d+AT…'
    veritrail witness serve /srv/witness --port 7380

Keys print alone on stdout (so ``$(veritrail witness vkey DIR)`` captures one);
everything else goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from veritrail.cli.common import err, handle_errors
from veritrail.ledger.witness import (
    CONFIG_FILE,
    KEY_FILE,
    add_witness_log,
    create_witness_app,
    init_witness,
    load_witness_config,
)

app = typer.Typer(help="A witness that cosigns transparency-log checkpoints.", no_args_is_help=True)

DirArg = Annotated[Path, typer.Argument(metavar="DIR", help="The witness's directory.")]


@app.command("init")
@handle_errors(None)
def init(
    directory: DirArg,
    name: Annotated[
        str, typer.Option(help="The witness's key name, a schema-less URL such as example.org/w1.")
    ],
) -> None:
    """Create a witness in DIR: a new cosigner key and a configuration without logs."""
    config = init_witness(directory, name)
    err.print(
        f"witness {config.signer.name} set up in {directory} (private key in "
        f"{directory / KEY_FILE}, mode 0600); its verifier key:",
        highlight=False,
    )
    typer.echo(config.signer.verifier.vkey)


@app.command("add-log")
@handle_errors(None)
def add_log(
    directory: DirArg,
    vkey: Annotated[str, typer.Option(help="The log's verifier key, <origin>+<id>+<key>.")],
) -> None:
    """Trust a log's checkpoint key; its origin is the key's name."""
    verifier = add_witness_log(directory, vkey)
    err.print(f"added log {verifier.name} to {directory / CONFIG_FILE}", highlight=False)


@app.command("vkey")
@handle_errors(None)
def vkey(directory: DirArg) -> None:
    """Print the witness's cosignature verifier key, for logs and clients to trust."""
    typer.echo(load_witness_config(directory).signer.verifier.vkey)


@app.command("serve")
@handle_errors(None)
def serve(
    directory: DirArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7380,
) -> None:
    """Serve POST /add-checkpoint at http://HOST:PORT until stopped with Ctrl-C."""
    config = load_witness_config(directory)
    logs = ", ".join(sorted({v.name for v in config.logs})) or "none yet"
    err.print(
        f"witness {config.signer.name} at http://{host}:{port}/add-checkpoint; logs: {logs}",
        highlight=False,
    )
    uvicorn.run(create_witness_app(config), host=host, port=port, proxy_headers=False)


__all__ = ["app"]
