"""``veritrail ledger``: the transparency log, from the server machine.

Receipts and proofs go to stdout (or ``-o FILE``) as JSON; the checkpoint and
the verifier key as the exact text states use with their own tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veritrail.actions.ledger import commit_access_log, integrate
from veritrail.cli.common import acting_actor, context, err, handle_errors, out
from veritrail.errors import InputError
from veritrail.ledger import tiles
from veritrail.queries import ledger as queries

app = typer.Typer(help="The tamper-evident transparency log.", no_args_is_help=True)


def _write(data: Any, output: Path | None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"wrote {output}", highlight=False)


@app.command("prove")
@handle_errors(None)
def prove(
    record_id: Annotated[
        str | None, typer.Argument(help="The record, e.g. a declaration id D-…")
    ] = None,
    version: Annotated[int | None, typer.Option(min=1, help="Version (default: latest).")] = None,
    index: Annotated[
        int | None, typer.Option("--index", min=0, help="A leaf index instead of a record.")
    ] = None,
    record_type: Annotated[str, typer.Option("--type", help="Record type.")] = "declaration",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Receipt file.")] = None,
) -> None:
    """Write the receipt of a record version or of a leaf: checkpoint, entry, inclusion proof."""
    if (record_id is None) == (index is None):
        raise InputError("name a record (RECORD_ID) or a leaf (--index N), not both")
    with context() as ctx:
        integrate(ctx)
        if index is not None:
            receipt = queries.receipt_for_index(ctx, index)
        elif record_id is not None:
            receipt = queries.receipt_for_record(ctx, record_type, record_id, version)
    _write(receipt, output)


@app.command("vkey")
@handle_errors(None)
def vkey() -> None:
    """Print the log's verifier key: <name>+<key id>+<base64 key>."""
    with context() as ctx:
        typer.echo(ctx.log_signer().verifier.vkey)


@app.command("checkpoint")
@handle_errors(None)
def checkpoint() -> None:
    """Print the latest signed checkpoint (a signed note)."""
    with context() as ctx:
        integrate(ctx)
        typer.echo(queries.checkpoint_note(ctx).note, nl=False)


@app.command("consistency")
@handle_errors(None)
def consistency(
    old_size: Annotated[int, typer.Argument(min=0)],
    new_size: Annotated[int, typer.Argument(min=0)],
) -> None:
    """Print the RFC 9162 consistency proof between two sizes as JSON."""
    with context() as ctx:
        integrate(ctx)
        proof = queries.consistency(ctx, old_size, new_size)
    typer.echo(json.dumps({"consistency_proof": proof}, indent=2))


@app.command("integrate")
@handle_errors(None)
def integrate_command() -> None:
    """Commit the access log's new rows in batches, then sign a checkpoint of everything."""
    with context() as ctx:
        rows = commit_access_log(ctx, actor=acting_actor(ctx))
        size = integrate(ctx)
    out.print(f"access log rows committed: {rows}; log size {size}, checkpoint signed")


@app.command("export")
@handle_errors(None)
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write checkpoint and tile/.")],
) -> None:
    """Write the log as static files (C2SP tlog-tiles layout), to publish or to verify offline."""
    with context() as ctx:
        integrate(ctx)
        note = queries.checkpoint_note(ctx)
        wanted = tiles.tiles_for_size(note.size) + tiles.entry_tiles_for_size(note.size)
        columns = (TextColumn("tiles"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err) as bar:
            task = bar.add_task("tiles", total=len(wanted))
            for tile_id in wanted:
                target = directory / tile_id.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(queries.tile(ctx, tile_id))
                bar.advance(task)
        (directory / "checkpoint").write_text(note.note, encoding="utf-8")
    out.print(f"log of {note.size} entries written to {directory}", highlight=False)


__all__ = ["app"]
