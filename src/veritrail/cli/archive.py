"""``veritrail archive``: bulk import of files into the archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veritrail.access import Actor
from veritrail.actions import Context
from veritrail.actions.archive import Progress as PageProgress
from veritrail.actions.archive import do_import_document, refused, tally
from veritrail.actions.ledger import integrate
from veritrail.cli.common import acting_actor, context, err, handle_errors, out, print_json
from veritrail.errors import IndexBusy, InputError, VeritrailError
from veritrail.regimes.model import Classification
from veritrail.search.indexer import sync

app = typer.Typer(help="The archive: import documents, maps, reports and scans.")


def _files(paths: list[Path]) -> Iterator[Path]:
    """Every file named or inside a named folder (hidden files skipped), in name order."""
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
                if found.is_file() and not hidden:
                    yield found
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{path}: no such file or folder")


@app.command("import")
@handle_errors()
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively).")],
    classification: Annotated[
        Classification,
        typer.Option(help="Classification of the imported documents."),
    ] = Classification.RESTRICTED,
    state: Annotated[
        str | None,
        typer.Option(
            help="The state the documents belong to (ISO code or name); none: the "
            "secretariat's own."
        ),
    ] = None,
    regime: Annotated[
        list[str] | None, typer.Option(help="A regime the documents concern (repeatable).")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Need-to-know group (required for highly_protected).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Import files: text read (OCR for scans), language detected, mentions found, each
    original stored and committed to the log.

    Files already in the archive (same SHA-256) are skipped, so an interrupted import
    resumes where it stopped when run again. A file that cannot be read is listed at the
    end and does not stop the others; the exit code is 1 when any file was refused.
    """
    files = list(_files(paths))
    if not files:
        raise InputError("no files found in the paths given")
    outcomes: list[dict[str, Any]] = []
    interrupted = False
    with context() as ctx:
        actor = acting_actor(ctx)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=as_json) as bar:
            task = bar.add_task("importing", total=len(files))
            try:
                for path in files:
                    name = path.name

                    def pages(done: int, total: int, name: str = name) -> None:
                        bar.update(task, description=f"{name[:40]} page {done}/{total}")

                    bar.update(task, description=name[:50])
                    outcomes.append(
                        _import_one(
                            ctx, actor, path, pages, classification, state, regime or [], group
                        )
                    )
                    bar.advance(task)
            except KeyboardInterrupt:
                interrupted = True
        integrate(ctx)
        try:
            sync(ctx)
            indexed = True
        except IndexBusy:
            indexed = False
    counts = tally(outcomes)
    if as_json:
        print_json(
            {
                "ok": counts["refused"] == 0 and not interrupted,
                **counts,
                "interrupted": interrupted,
                "files": outcomes,
            }
        )
    else:
        _report(outcomes, counts, interrupted=interrupted, indexed=indexed)
    if counts["refused"] or interrupted:
        raise typer.Exit(1)


def _import_one(
    ctx: Context,
    actor: Actor,
    path: Path,
    pages: PageProgress,
    classification: Classification,
    state: str | None,
    regimes: list[str],
    group: str | None,
) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        imported = do_import_document(
            ctx,
            actor=actor,
            data=data,
            filename=path.name,
            classification=classification,
            owner_state=state,
            regimes=regimes,
            group_id=group,
            progress=pages,
            integrate=False,
        )
    except VeritrailError as exc:
        return refused(str(path), exc.message)
    except OSError as exc:
        return refused(str(path), f"cannot read it: {exc.strerror}")
    return imported.outcome(str(path))


def _report(
    outcomes: list[dict[str, Any]], counts: dict[str, int], *, interrupted: bool, indexed: bool
) -> None:
    for o in outcomes:
        if o["status"] == "imported":
            ocr = ", OCR" if o["ocr"] else ""
            out.print(
                f"[green]imported[/] {o['id']}  {o['file']}  ({o['language']}, "
                f"{o['pages']} page{'s' if o['pages'] != 1 else ''}{ocr})",
                highlight=False,
            )
    duplicates = [o for o in outcomes if o["status"] == "duplicate"]
    if duplicates:
        out.print(f"{len(duplicates)} already in the archive (same content), skipped:")
        for o in duplicates:
            out.print(f"  {o['file']} = {o['id']}", highlight=False)
    refused = [o for o in outcomes if o["status"] == "refused"]
    if refused:
        err.print(f"[bold red]{len(refused)} file{'s' if len(refused) != 1 else ''} refused:[/]")
        for o in refused:
            err.print(f"  [bold]{o['file']}[/]: {o['error']}", highlight=False)
    out.print(
        f"{counts['imported']} imported, {counts['duplicate']} already there, "
        f"{counts['refused']} refused",
        highlight=False,
    )
    if interrupted:
        err.print("interrupted: run the same command again to import the rest")
    if not indexed:
        out.print("the running server holds the search index; it adds them within a second")


__all__ = ["app"]
