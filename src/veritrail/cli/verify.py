"""``veritrail verify``: a state's own checks, offline, trusting only the verifier key.

Nothing here reads the server's database: a receipt is checked from its file,
a log from its public URL or a mirrored directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veritrail.cli.common import err, handle_errors, out
from veritrail.errors import InputError, NotFound, StorageError
from veritrail.ledger.checkpoint import open_checkpoint
from veritrail.ledger.logcheck import Fetch, check_log
from veritrail.ledger.note import Verifier, parse_verifier_key
from veritrail.ledger.receipt import check_receipt, load_receipt

app = typer.Typer(help="Verify receipts and the log yourself, offline.", no_args_is_help=True)

MAX_FILE = 64 * 1024 * 1024


def read_vkey(value: str) -> Verifier:
    """The verifier key given as its text, or as a file holding it."""
    text = value.strip()
    if "+" not in text or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise InputError(f"--vkey {value!r} is neither a verifier key nor a file holding one")
        text = path.read_text(encoding="utf-8").strip()
    return parse_verifier_key(text)


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist or is not a file")
    if path.stat().st_size > MAX_FILE:
        raise InputError(f"{what} {path} is larger than {MAX_FILE // (1024 * 1024)} MB")
    return path.read_bytes()


@app.command("receipt")
@handle_errors(None)
def receipt(
    file: Annotated[Path, typer.Argument(help="The receipt JSON.")],
    vkey: Annotated[str, typer.Option(help="The log's verifier key, or a file holding it.")],
    document: Annotated[
        Path | None,
        typer.Option(help="The document (canonical JSON or the original file) to match."),
    ] = None,
) -> None:
    """Check a receipt: the log's signature, the inclusion proof and, given it, the document."""
    verifier = read_vkey(vkey)
    data = load_receipt(_read(file, "receipt"))
    content = _read(document, "document") if document is not None else None
    result = check_receipt(data, verifier, content)
    env = result.envelope
    out.print(
        f"[green]verified[/]: entry {result.index} of the log {result.checkpoint.origin} "
        f"(signed size {result.checkpoint.size}) commits {env.record_type} {env.record_id}"
        + (f" version {env.version}" if env.version is not None else "")
        + f", submitted by {env.organisation} at {env.time.isoformat()}",
        highlight=False,
    )
    if result.document_matches is not None:
        what = (
            "content" if result.document_matches == "content" else f"{result.document_matches} file"
        )
        out.print(f"[green]the document matches[/] the {what} hash it commits to", highlight=False)


def _url_fetch(base: str, client: httpx.Client) -> Fetch:
    def fetch(path: str) -> bytes:
        try:
            response = client.get(f"{base.rstrip('/')}/{path}")
        except httpx.HTTPError as exc:
            raise StorageError(f"could not fetch {path} from {base}: {exc}") from exc
        if response.status_code == 404:
            raise NotFound(f"{base} has no {path}")
        if response.status_code != 200:
            raise StorageError(f"{base}/{path} answered HTTP {response.status_code}")
        return response.content

    return fetch


def _dir_fetch(root: Path) -> Fetch:
    def fetch(path: str) -> bytes:
        target = (root / path).resolve()
        if root.resolve() not in target.parents:
            raise InputError(f"{path} lies outside {root}")
        if not target.is_file():
            raise NotFound(f"{root} has no {path}")
        return target.read_bytes()

    return fetch


def _state_file(verifier: Verifier, state: Path | None) -> Path:
    if state is not None:
        return state
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", verifier.name)
    return Path.home() / ".veritrail" / "seen" / f"{safe}-{verifier.key_id.hex()}.checkpoint"


@app.command("log")
@handle_errors(None)
def log(
    vkey: Annotated[str, typer.Option(help="The log's verifier key, or a file holding it.")],
    url: Annotated[
        str | None, typer.Option(help="The log's base URL, e.g. https://host/log")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="A mirror written by `veritrail ledger export`.")
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="Where the last checkpoint seen is kept.")
    ] = None,
) -> None:
    """Fetch checkpoint and tiles, check the signature, rebuild the root, compare with last time.

    Exit 1 names a rolled-back or forked log, altered tiles or a bad signature.
    """
    if (url is None) == (directory is None):
        raise InputError("give the log as --url URL or --dir DIR (one of them)")
    verifier = read_vkey(vkey)
    seen_file = _state_file(verifier, state)
    last_seen = None
    if seen_file.is_file():
        last_seen, _ = open_checkpoint(seen_file.read_text(encoding="utf-8"), verifier)
    with httpx.Client(timeout=30) as client:
        if url is not None:
            fetch = _url_fetch(url, client)
        elif directory is not None:
            fetch = _dir_fetch(directory)
        columns = (TextColumn("entries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("entries", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = check_log(fetch, verifier, last_seen=last_seen, progress=progress)
    seen_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = seen_file.with_suffix(".tmp")
    temporary.write_text(result.note, encoding="utf-8")
    temporary.replace(seen_file)
    since = (
        "first check of this log"
        if result.grew_by is None
        else f"consistent with the checkpoint seen before (+{result.grew_by} entries)"
    )
    out.print(
        f"[green]verified[/]: {result.checkpoint.origin}, {result.entries} entries, "
        f"{result.tiles} tiles rebuilt, root matches the signed checkpoint; {since}",
        highlight=False,
    )


__all__ = ["app", "read_vkey"]
