"""``veritrail audit``: recompute every hash from the database and blob store; compare."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veritrail.cli.common import context, err, handle_errors, out, print_json
from veritrail.queries.ledger_audit import run_audit


@handle_errors()
def audit(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every record, file and log entry; exit 1 listing each altered, missing or extra one."""
    with context() as ctx:
        columns = (TextColumn("entries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("entries", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = run_audit(ctx, progress=progress)
    if as_json:
        print_json(
            {
                "ok": report.clean,
                "entries": report.entries,
                "records": report.records,
                "files": report.files,
                "findings": [f.as_dict() for f in report.findings],
            }
        )
    else:
        for finding in report.findings:
            out.print(
                f"[red]{finding.kind}[/] {finding.record}: {finding.message}", highlight=False
            )
        verdict = "[green]clean[/]" if report.clean else f"[red]{len(report.findings)} findings[/]"
        out.print(
            f"audit: {report.entries} log entries, {report.records} records, "
            f"{report.files} files checked: {verdict}",
            highlight=False,
        )
    if not report.clean:
        raise typer.Exit(1)


__all__ = ["audit"]
