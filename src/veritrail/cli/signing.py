"""``veritrail declare keygen|sign|keys``: a national authority's own signing keys.

``keygen`` and ``sign`` need no server and no network: they run on the
authority's own machine, where the private key stays. ``keys`` registers,
lists, rotates and revokes the public halves on the server machine, through
the same actions as the API, as the local operator or ``--as USER``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from veritrail.actions.signing_keys import (
    do_register_signing_key,
    do_revoke_signing_key,
    do_rotate_signing_key,
)
from veritrail.cli.common import acting_actor, context, err, handle_errors, out, print_json
from veritrail.declarations.signatures import (
    SIGNATURE_SUFFIX,
    SigningKeyPublic,
    read_signature,
    sign_file,
)
from veritrail.errors import InputError
from veritrail.ledger.note import MAX_NOTE_BYTES, Signer
from veritrail.queries.signing_keys import list_signing_keys
from veritrail.reference import states

keys_app = typer.Typer(
    help="Register, list, rotate and revoke a state's signing keys.", no_args_is_help=True
)

MAX_KEY_FILE = 4096


def _read_key(path: Path) -> Signer:
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            raise InputError(f"{path} is not a private key file (too large)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the key file {path}: {exc}") from exc
    return Signer.from_private_key_text(text)


@handle_errors(None)
def keygen(
    name: Annotated[str, typer.Argument(help="The key's name, e.g. fra-na-2025 (no spaces or +).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the private key (mode 0600).")
    ],
    force: Annotated[bool, typer.Option(help="Overwrite an existing key file.")] = False,
) -> None:
    """Generate an Ed25519 signing key; prints the verifier key to register.

    Runs offline. Keep KEYFILE secret; register the printed verifier key with
    `veritrail declare keys register VKEY --state XXX` (or on My account → Signing keys).
    """
    signer = Signer.generate(name)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(output, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{output} exists already; choose another file or use --force") from None
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(signer.private_key_text + "\n")
    os.chmod(output, 0o600)  # also when --force kept an older file's mode
    err.print(
        f"wrote the private key to {output} (keep it secret); register this verifier key:",
        highlight=False,
    )
    typer.echo(signer.verifier.vkey)


@handle_errors(None)
def sign(
    file: Annotated[Path, typer.Argument(help="The declaration file to sign, as it will be sent.")],
    key: Annotated[Path, typer.Option("--key", help="The private key file of `keygen`.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write it (default FILE.sig).")
    ] = None,
) -> None:
    """Sign a declaration file offline: writes FILE.sig, which `declare submit` sends along."""
    signer = _read_key(key)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from exc
    note = sign_file(data, file.name, signer)
    target = output or file.with_name(file.name + SIGNATURE_SUFFIX)
    target.write_text(note, encoding="utf-8")
    out.print(
        f"signed {file.name} with key {signer.verifier.vkey}; signature in {target}",
        highlight=False,
    )


def submission_signature(file: Path, signature: Path | None) -> tuple[str | None, Path | None]:
    """The signature to send with ``file``: ``--signature`` or ``FILE.sig`` beside it."""
    path = signature or file.with_name(file.name + SIGNATURE_SUFFIX)
    if signature is None and not path.is_file():
        return None, None
    try:
        if path.stat().st_size > MAX_NOTE_BYTES:
            raise InputError(
                f"{path} is not a signature file (larger than {MAX_NOTE_BYTES:,} bytes)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the signature {path}: {exc.strerror}") from exc
    return read_signature(data), path


def _state(value: str | None) -> str | None:
    if value is None:
        return None
    found = states.lookup(value)
    if found is None:
        raise InputError(f"{value!r} is not a known state; use ISO 3166-1 alpha-3 such as FRA")
    return found.alpha3


def _show(key: SigningKeyPublic, verb: str) -> None:
    out.print(f"{verb} {key.id}: {key.name} for {key.state} ({key.status.value})", highlight=False)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


@keys_app.command("register")
@handle_errors()
def register(
    vkey: Annotated[str, typer.Argument(help="The verifier key printed by `declare keygen`.")],
    state: Annotated[
        str | None, typer.Option(help="The state it signs for (ISO 3166-1 alpha-3).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a verifier key for a state; committed to the transparency log."""
    with context() as ctx:
        key = do_register_signing_key(ctx, actor=acting_actor(ctx), vkey=vkey, state=_state(state))
    if as_json:
        print_json(key)
        return
    _show(key, "registered")


@keys_app.command("list")
@handle_errors()
def list_(
    state: Annotated[str | None, typer.Option(help="Only this state's keys.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List signing keys with their status, by state."""
    with context() as ctx:
        rows = list_signing_keys(ctx, actor=acting_actor(ctx), state=_state(state))
    if as_json:
        print_json(rows)
        return
    table = Table("id", "state", "name", "key id", "registered", "status", "replaced by")
    for row in rows:
        table.add_row(
            row.id,
            row.state,
            row.name,
            row.key_id,
            f"{row.created_at:%Y-%m-%d}",
            row.status.value
            + (f" {row.revoked_at:%Y-%m-%d}" if row.revoked_at is not None else ""),
            row.replaced_by or "",
        )
    out.print(table)


@keys_app.command("revoke")
@handle_errors(None)
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
) -> None:
    """Revoke a key at once: submissions it signs are refused from now on."""
    with context() as ctx:
        changed = do_revoke_signing_key(ctx, actor=acting_actor(ctx), key_id=key_id, reason=reason)
    out.print(f"revoked {key_id}" if changed else f"{key_id} was already revoked")


@keys_app.command("rotate")
@handle_errors()
def rotate(
    old_key_id: Annotated[str, typer.Argument(metavar="OLD_KEY_ID")],
    new_vkey: Annotated[str, typer.Argument(metavar="NEW_VKEY")],
    as_json: JsonFlag = False,
) -> None:
    """Replace an active key by a new one; the old one is revoked."""
    with context() as ctx:
        key = do_rotate_signing_key(ctx, actor=acting_actor(ctx), key_id=old_key_id, vkey=new_vkey)
    if as_json:
        print_json(key)
        return
    _show(key, f"{old_key_id} replaced by")


__all__ = ["keygen", "keys_app", "sign", "submission_signature"]
