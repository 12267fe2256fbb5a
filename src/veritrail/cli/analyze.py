"""``veritrail analyze``, ``veritrail transfers`` and ``veritrail cases``.

Reconciliation and the other checks print what they find; ``analyze refresh``
brings the discrepancy cases up to date with them. Everything reads within
the acting user's rights (``--as USER`` narrows them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from veritrail.actions.cases import (
    CLOSURE_REASONS,
    do_answer_clarification,
    do_assign_case,
    do_close_case,
    do_refresh_cases,
    do_reopen_case,
    do_request_clarification,
)
from veritrail.actions.transfers import do_import_transfers
from veritrail.analysis.findings import Check
from veritrail.analysis.reconcile import DISCREPANCIES, KINDS, Kind, plain
from veritrail.analysis.run import CHECKS
from veritrail.cli.common import acting_actor, context, handle_errors, out, print_json
from veritrail.errors import InputError
from veritrail.queries.analysis import reconcile_transfers, run_all_checks
from veritrail.queries.cases import case_detail, list_cases

app = typer.Typer(help="Analyse declarations: reconciliation, anomalies and the other checks.")
transfers_app = typer.Typer(help="Transfer lines loaded from other systems.")
cases_app = typer.Typer(help="Discrepancy cases.")

RegimeOption = Annotated[
    str | None, typer.Option("--regime", help="Only this regime (a pack id, e.g. cwc).")
]
YearOption = Annotated[int | None, typer.Option("--year", help="Only this year.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("reconcile")
@handle_errors()
def reconcile(
    regime: RegimeOption = None,
    year: YearOption = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list matched pairs and those below threshold.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Match exporters' declared transfers with importers', and list the discrepancies."""
    with context() as ctx:
        result = reconcile_transfers(ctx, actor=acting_actor(ctx), regime=regime, year=year)
    kinds: frozenset[Kind] = frozenset(KINDS) if show_all else DISCREPANCIES
    findings = result.findings(kinds=kinds)
    counts = result.counts()
    if as_json:
        print_json(
            {
                "lines": len(result.lines),
                "pairs": int(len(result.pairs.kind)),
                "counts": [
                    {"regime": r, "year": y, "kind": k, "pairs": n}
                    for (r, y, k), n in sorted(counts.items())
                ],
                "findings": [f.as_json() for f in findings],
            }
        )
        return
    total = {k: sum(n for (_, _, kind), n in counts.items() if kind == k) for k in KINDS}
    out.print(
        f"{len(result.lines):,} transfer lines, {len(result.pairs.kind):,} pairs: "
        + ", ".join(f"{total[k]:,} {k.replace('_', ' ')}" for k in KINDS),
        highlight=False,
    )
    if not findings:
        out.print("No discrepancies." if not show_all else "No pairs.")
        return
    table = Table(
        "kind",
        "regime",
        "year",
        "exporter",
        "importer",
        "item",
        "exported",
        "imported",
        "difference",
        "unit",
    )
    for f in findings:
        table.add_row(
            f.kind,
            f.regime,
            str(f.year),
            f.exporter,
            f.importer,
            escape(f.item),
            plain(f.exported),
            plain(f.imported),
            plain(f.difference),
            f.unit,
        )
    out.print(table)


def _checks(names: list[str] | None) -> tuple[Check, ...]:
    if not names:
        return CHECKS
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise InputError(f"unknown check {unknown[0]!r}; choose from {', '.join(CHECKS)}")
    return tuple(c for c in CHECKS if c in names)


@app.command("checks")
@handle_errors()
def checks(
    regime: RegimeOption = None,
    year: YearOption = None,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help=f"Only these checks ({', '.join(CHECKS)}); repeatable."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run every check (reconciliation, year-over-year anomalies, facilities, cross-regime)."""
    with context() as ctx:
        run = run_all_checks(
            ctx, actor=acting_actor(ctx), regime=regime, year=year, checks=_checks(check)
        )
    if as_json:
        print_json({"findings": [f.as_json() for f in run.findings]})
        return
    if not run.findings:
        out.print("Nothing found.")
        return
    for f in run.findings:
        out.print(f"[bold]{escape(f.title)}[/] ({f.check}, {f.kind})", highlight=False)
        out.print(f"  {escape(f.explanation)}", highlight=False)
    out.print(f"\n{len(run.findings):,} findings.")


@app.command("refresh")
@handle_errors()
def refresh(
    regime: RegimeOption = None,
    year: YearOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the checks and open, update, reopen or resolve the discrepancy cases."""
    with context() as ctx:
        summary = do_refresh_cases(ctx, actor=acting_actor(ctx), regime=regime, year=year)
    if as_json:
        print_json(summary.as_json())
        return
    out.print(
        ", ".join(f"{n:,} {what}" for what, n in summary.as_json().items()) + ".",
        highlight=False,
    )


@transfers_app.command("import")
@handle_errors()
def import_transfers(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: regime,year,reporting_state,partner_state,direction,item,quantity,unit"
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Load transfer lines from a CSV file; every bad row is listed and nothing is stored."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    with context() as ctx:
        result = do_import_transfers(ctx, actor=acting_actor(ctx), data=data, filename=file.name)
    if as_json:
        print_json({"ok": True, **result.as_json()})
        return
    if result.already:
        out.print(f"{file.name} was imported already as {result.id}; nothing added.")
        return
    regimes = ", ".join(f"{n:,} {r}" for r, n in sorted(result.by_regime.items()))
    out.print(f"Imported {result.rows:,} transfer lines ({regimes}) as {result.id}.")


@cases_app.command("list")
@handle_errors()
def cases_list(
    status: Annotated[
        str | None, typer.Option(help="open, awaiting_state, answered, closed")
    ] = None,
    regime: RegimeOption = None,
    year: YearOption = None,
    state: Annotated[str | None, typer.Option(help="Cases concerning this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List discrepancy cases, most recently changed first."""
    with context() as ctx:
        found, total = list_cases(
            ctx,
            actor=acting_actor(ctx),
            status=status,
            regime=regime,
            year=year,
            state=state,
            limit=limit,
        )
    if as_json:
        print_json({"total": total, "cases": [c.model_dump(mode="json") for c in found]})
        return
    table = Table("id", "status", "regime", "year", "states", "title", "assignee")
    for c in found:
        table.add_row(
            c.id,
            c.status,
            c.regime,
            str(c.year),
            " ".join(c.states),
            escape(c.title),
            c.assignee or "",
        )
    out.print(table)
    out.print(f"{len(found)} of {total} cases.")


@cases_app.command("show")
@handle_errors()
def cases_show(case_id: str, as_json: JsonOption = False) -> None:
    """A case with its finding and history."""
    with context() as ctx:
        detail = case_detail(ctx, actor=acting_actor(ctx), case_id=case_id)
    if as_json:
        print_json(detail)
        return
    out.print(f"[bold]{escape(detail.title)}[/]  ({detail.id}, {detail.status})", highlight=False)
    out.print(escape(detail.explanation), highlight=False)
    for e in detail.events:
        who = f" {e.state}" if e.state else ""
        text = f": {escape(e.message)}" if e.message else ""
        out.print(f"  {e.at:%Y-%m-%d %H:%M} {e.kind}{who} by {e.actor}{text}", highlight=False)


def _done(case_id: str, what: str, as_json: bool) -> None:
    if as_json:
        print_json({"ok": True, "id": case_id, "done": what})
    else:
        out.print(f"{case_id}: {what}.", highlight=False)


@cases_app.command("assign")
@handle_errors()
def cases_assign(
    case_id: str,
    user: Annotated[str | None, typer.Argument(help="An analyst; leave out to unassign.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Give a case to an analyst."""
    with context() as ctx:
        do_assign_case(ctx, actor=acting_actor(ctx), case_id=case_id, assignee=user)
    _done(case_id, f"assigned to {user}" if user else "unassigned", as_json)


@cases_app.command("ask")
@handle_errors()
def cases_ask(
    case_id: str,
    message: Annotated[
        str, typer.Option("--message", "-m", help="What the states should clarify.")
    ],
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="A state to ask (repeatable); all those concerned if none."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ask the states a case concerns for clarification; they see it in their portal."""
    with context() as ctx:
        do_request_clarification(
            ctx, actor=acting_actor(ctx), case_id=case_id, states=state or [], message=message
        )
    _done(case_id, "clarification requested", as_json)


@cases_app.command("answer")
@handle_errors()
def cases_answer(
    case_id: str,
    explanation: Annotated[str, typer.Option("--explanation", "-m", help="Your state's answer.")],
    as_json: JsonOption = False,
) -> None:
    """Answer a clarification request to your state (``--as`` a national submitter)."""
    with context() as ctx:
        do_answer_clarification(
            ctx, actor=acting_actor(ctx), case_id=case_id, explanation=explanation
        )
    _done(case_id, "answered", as_json)


@cases_app.command("close")
@handle_errors()
def cases_close(
    case_id: str,
    reason: Annotated[str, typer.Option(help=f"One of {', '.join(CLOSURE_REASONS)}.")],
    note: Annotated[str | None, typer.Option(help="Why; required for 'other'.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Close a case with a reason."""
    with context() as ctx:
        do_close_case(ctx, actor=acting_actor(ctx), case_id=case_id, reason=reason, note=note)
    _done(case_id, f"closed ({reason})", as_json)


@cases_app.command("reopen")
@handle_errors()
def cases_reopen(
    case_id: str,
    note: Annotated[str, typer.Option(help="Why the case is reopened.")],
    as_json: JsonOption = False,
) -> None:
    """Reopen a closed case."""
    with context() as ctx:
        do_reopen_case(ctx, actor=acting_actor(ctx), case_id=case_id, note=note)
    _done(case_id, "reopened", as_json)


__all__ = ["app", "cases_app", "transfers_app"]
