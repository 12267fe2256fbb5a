"""``veritrail declare``: templates, validation, submission and export of declarations."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from veritrail.actions import do_prefill_draft, do_submit_declaration
from veritrail.cli import signing
from veritrail.cli.common import acting_actor, context, err, handle_errors, out, print_json
from veritrail.cli.signing import submission_signature
from veritrail.declarations import templates
from veritrail.declarations.document import MEDIA_TYPES
from veritrail.declarations.intake import parse_upload
from veritrail.declarations.validate import validate
from veritrail.errors import InputError, ValidationFailed
from veritrail.queries import list_declarations, version_document
from veritrail.queries.ledger import with_receipt
from veritrail.reference import states

app = typer.Typer(help="Prepare, check, submit and export declarations.", no_args_is_help=True)


class TemplateFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{path} is {size:,} bytes; the limit is {max_bytes:,} bytes "
                "(VERITRAIL_MAX_UPLOAD_BYTES)"
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


@app.command("template")
@handle_errors(None)
def template(
    regime: Annotated[str, typer.Argument(help="Regime id, e.g. cwc.")],
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Declaration type id, e.g. adnd.")],
    format_: Annotated[TemplateFormat, typer.Option("--format", "-f")] = TemplateFormat.XLSX,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path("-"),
    period: Annotated[int | None, typer.Option(help="Pre-fill the period.")] = None,
    state: Annotated[str | None, typer.Option(help="Pre-fill the state (ISO3).")] = None,
) -> None:
    """Write a blank declaration template to fill in."""
    with context() as ctx:
        dtype = ctx.registry.declaration_type(regime, type_)
        if format_ is TemplateFormat.JSON:
            doc = templates.json_template(dtype, ctx.registry, period=period, state=state)
            data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
        elif format_ is TemplateFormat.CSV:
            data = templates.csv_template(dtype, ctx.registry, period=period, state=state)
        else:
            data = templates.xlsx_template(dtype, ctx.registry, period=period, state=state)
    if str(output) == "-":
        if format_ is TemplateFormat.XLSX:
            raise InputError("an XLSX template is binary; write it to a file with -o FILE")
        typer.echo(data.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(data)
        err.print(f"wrote {dtype.key} template ({format_.value}) to {output}")


@app.command("schema")
@handle_errors(None)
def schema(regime: str, type_: Annotated[str, typer.Argument(metavar="TYPE")]) -> None:
    """Print the JSON Schema of a declaration type."""
    with context() as ctx:
        print_json(
            templates.json_schema(ctx.registry.declaration_type(regime, type_), ctx.registry)
        )


@app.command("validate")
@handle_errors()
def validate_file(
    file: Annotated[Path, typer.Argument(help="JSON, CSV or XLSX declaration.")],
    as_json: JsonFlag = False,
    language: Annotated[str, typer.Option(help="Language of messages.")] = "en",
) -> None:
    """Check a declaration file and list every problem (exit 1 when invalid)."""
    with context() as ctx:
        parsed = parse_upload(
            _read(file, ctx.settings.max_upload_bytes),
            file.name,
            registry=ctx.registry,
            limits=ctx.settings,
        )
        result = validate(parsed.document, ctx.registry, language=language)
    problems = [
        p.__class__(parsed.locate(p.path), p.code, p.message, p.severity, field=p.path)
        if parsed.locations
        else p
        for p in result.problems
    ]
    if not result.valid:
        raise ValidationFailed(problems)
    if as_json:
        print_json({"ok": True, "errors": [], "warnings": [p.as_dict() for p in problems]})
        return
    for p in problems:
        err.print(
            f"  [yellow]warning[/] [bold]{p.path}[/] ({p.code}): {p.message}", highlight=False
        )
    doc = result.document
    out.print(f"[green]valid[/]: {doc['regime']}/{doc['type']} {doc['state']} {doc['period']}")


@app.command("submit")
@handle_errors()
def submit(
    file: Annotated[Path, typer.Argument(help="JSON, CSV or XLSX declaration.")],
    state: Annotated[str | None, typer.Option(help="Declaring state (ISO 3166-1 alpha-3).")] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with this version.")] = None,
    receipt: Annotated[
        Path | None,
        typer.Option(help="Where to keep the receipt (default: FILE.receipt.json beside FILE)."),
    ] = None,
    signature: Annotated[
        Path | None,
        typer.Option(help="Your signature of FILE (default: FILE.sig beside FILE, if present)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Submit a declaration; a file carrying an existing declaration's id amends it.

    The receipt proves the log holds this version; check it any time with
    `veritrail verify receipt RECEIPT --vkey KEY --document FILE`. A signature
    made with `veritrail declare sign` is sent along and checked against the
    state's registered keys.
    """
    note_signature, signature_file = submission_signature(file, signature)
    with context() as ctx:
        data = _read(file, ctx.settings.max_upload_bytes)
        parsed = parse_upload(data, file.name, registry=ctx.registry, limits=ctx.settings)
        result = do_submit_declaration(
            ctx,
            actor=acting_actor(ctx),
            parsed=parsed,
            original=data,
            filename=file.name,
            media_type=MEDIA_TYPES.get(parsed.source_format, "application/octet-stream"),
            state=state,
            note=note,
            signature=note_signature,
        )
        result = with_receipt(ctx, result)
    receipt_file = receipt or file.with_name(file.name + ".receipt.json")
    receipt_file.write_text(json.dumps(result.receipt, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json({"ok": True, **result.model_dump(mode="json")})
        return
    verb = "amended" if result.amendment else "submitted"
    out.print(
        f"[green]{verb}[/] {result.id} version {result.version} "
        f"({result.regime}/{result.type} {result.state} {result.period})"
    )
    out.print(f"content SHA-256 {result.content_sha256}")
    if signature_file is not None:
        out.print(f"signature {signature_file} checked and kept", highlight=False)
    out.print(f"log entry {result.log_index}; receipt kept in {receipt_file}", highlight=False)
    for warning in result.warnings:
        err.print(f"  [yellow]warning[/] {warning['path']}: {warning['message']}", highlight=False)


@app.command("list")
@handle_errors()
def list_(
    state: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-3.")] = None,
    regime: Annotated[str | None, typer.Option()] = None,
    period: Annotated[int | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """List declarations, newest first."""
    if state is not None:
        found = states.lookup(state)
        if found is None:
            raise InputError(f"{state!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
        state = found.alpha3
    with context() as ctx:
        if regime is not None:
            ctx.registry.regime(regime)
        rows = list_declarations(
            ctx, actor=acting_actor(ctx), state=state, regime=regime, period=period, limit=limit
        )
    if as_json:
        print_json(rows)
        return
    table = Table("id", "state", "regime/type", "period", "status", "version", "reporting")
    for row in rows:
        table.add_row(
            row.id,
            row.state,
            f"{row.regime}/{row.type}",
            str(row.period),
            row.status.value,
            str(row.current_version),
            row.reporting.value,
        )
    out.print(table)


@app.command("export")
@handle_errors(None)
def export(
    declaration_id: Annotated[str, typer.Argument(metavar="ID")],
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("-"),
) -> None:
    """Write the canonical JSON of a version; it validates as it is."""
    with context() as ctx:
        doc = version_document(
            ctx, actor=acting_actor(ctx), declaration_id=declaration_id, version=version
        )
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if str(output) == "-":
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {declaration_id} to {output}")


@app.command("prefill")
@handle_errors()
def prefill(
    regime: str,
    type_: Annotated[str, typer.Argument(metavar="TYPE")],
    state: Annotated[str, typer.Option(help="Declaring state (ISO 3166-1 alpha-3).")],
    period: Annotated[int, typer.Option(help="The new period, e.g. 2025.")],
    as_json: JsonFlag = False,
) -> None:
    """Start the declaration for a new period as a draft copied from the last one."""
    found = states.lookup(state)
    if found is None:
        raise InputError(f"{state!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
    with context() as ctx:
        ctx.registry.declaration_type(regime, type_)
        declaration_id = do_prefill_draft(
            ctx,
            actor=acting_actor(ctx),
            regime=regime,
            type_=type_,
            state=found.alpha3,
            period=period,
        )
    if as_json:
        print_json({"ok": True, "id": declaration_id})
        return
    out.print(f"draft {declaration_id} for {period} started from the last {regime}/{type_}")


# A national authority's own signatures: keys made and files signed offline.
app.command("keygen")(signing.keygen)
app.command("sign")(signing.sign)
app.add_typer(signing.keys_app, name="keys")
