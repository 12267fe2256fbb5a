"""The transparency log as the system runs it: entries with records, checkpoints, receipts,
tiles over HTTP, offline verification and the audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from factories import adnd, national
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.accounts import do_create_organisation, do_create_user
from veritrail.actions.ledger import commit_access_log, integrate
from veritrail.cli import app as cli_app
from veritrail.declarations.document import ParsedDeclaration
from veritrail.errors import LogInconsistent, VerificationFailed
from veritrail.ledger import merkle, tiles
from veritrail.ledger.checkpoint import open_checkpoint
from veritrail.ledger.envelope import Envelope
from veritrail.ledger.logcheck import check_log
from veritrail.ledger.receipt import check_receipt
from veritrail.queries import ledger as queries
from veritrail.queries.ledger_audit import run_audit
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store import log
from veritrail.store.models import (
    AccessEvent,
    AuditEvent,
    DeclarationVersion,
    LedgerCheckpoint,
    LedgerEntry,
)


def _submit(ctx: Context, state: str = "FRA", period: int = 2024, original: bytes | None = None):  # type: ignore[no-untyped-def]
    return do_submit_declaration(
        ctx,
        actor=national(state),
        parsed=ParsedDeclaration(adnd(state=state, period=period), "json"),
        original=original,
        filename="adnd.json" if original else None,
    )


def _canonical(ctx: Context, declaration_id: str, version: int) -> bytes:
    with ctx.sessions() as session:
        row = session.scalars(
            select(DeclarationVersion).where(
                DeclarationVersion.declaration_id == declaration_id,
                DeclarationVersion.version == version,
            )
        ).one()
        return row.document_json.encode()


def test_every_submission_is_an_entry_with_a_receipt(ctx: Context) -> None:
    original = json.dumps(adnd()).encode()
    first = _submit(ctx, original=original)
    second = _submit(ctx, "DEU")
    assert (first.log_index, second.log_index) == (0, 1)
    receipt = queries.receipt_for_index(ctx, first.log_index)
    verifier = ctx.log_signer().verifier
    checked = check_receipt(receipt, verifier, _canonical(ctx, first.id, 1))
    assert checked.document_matches == "content"
    assert checked.envelope.record_id == first.id and checked.envelope.version == 1
    assert check_receipt(receipt, verifier, original).document_matches == "original"
    with pytest.raises(VerificationFailed, match="neither the content hash"):
        check_receipt(receipt, verifier, b"another document")
    # The entry carries hashes and names, never the declaration's content.
    entry = base64.b64decode(receipt["entry"])
    assert b"75-44-6" not in entry and first.content_sha256.encode() in entry


def test_receipt_refuses_tampering(ctx: Context) -> None:
    result = _submit(ctx)
    _submit(ctx, "DEU")
    receipt = queries.receipt_for_record(ctx, "declaration", result.id)
    verifier = ctx.log_signer().verifier
    flipped = bytearray(base64.b64decode(receipt["inclusion_proof"][0]))
    flipped[0] ^= 1
    bad_proof = dict(receipt, inclusion_proof=[base64.b64encode(bytes(flipped)).decode()])
    with pytest.raises(VerificationFailed):
        check_receipt(bad_proof, verifier)
    other_entry = Envelope.from_bytes(base64.b64decode(receipt["entry"]))
    forged = Envelope(
        other_entry.record_type,
        other_entry.record_id,
        9,
        other_entry.content_sha256,
        other_entry.organisation,
        other_entry.time,
        other_entry.files,
    )
    bad_entry = dict(receipt, entry=base64.b64encode(forged.to_bytes()).decode())
    with pytest.raises(VerificationFailed):
        check_receipt(bad_entry, verifier)
    bad_note = dict(receipt, checkpoint=receipt["checkpoint"].replace("\n2\n", "\n3\n", 1))
    with pytest.raises(VerificationFailed):
        check_receipt(bad_note, verifier)


def test_checkpoints_are_consistent_and_all_kept(ctx: Context) -> None:
    for state in ("FRA", "DEU", "JPN", "BRA", "KEN"):
        _submit(ctx, state)
    with ctx.sessions() as session:
        kept = list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)))
    assert [c.size for c in kept] == [1, 2, 3, 4, 5]
    verifier = ctx.log_signer().verifier
    for old, new in zip(kept, kept[1:], strict=False):
        proof = [base64.b64decode(h) for h in queries.consistency(ctx, old.size, new.size)]
        old_cp, _ = open_checkpoint(old.note, verifier)
        new_cp, _ = open_checkpoint(new.note, verifier)
        merkle.verify_consistency(old.size, new.size, old_cp.root_hash, new_cp.root_hash, proof)
    # Integrating again with nothing new signs nothing new.
    assert integrate(ctx) == 5
    with ctx.sessions() as session:
        assert (
            session.scalar(select(LedgerCheckpoint.size).order_by(LedgerCheckpoint.size.desc()))
            == 5
        )


def test_account_changes_and_access_batches_go_into_the_log(ctx: Context) -> None:
    do_create_organisation(
        ctx, actor=OPERATOR, id="na-FRA", kind="national_authority", name="FRA", state="FRA"
    )
    do_create_user(
        ctx,
        actor=OPERATOR,
        username="fra",
        password="a long password 1",
        role=Role.NA_VIEWER,
        organisation_id="na-FRA",
    )
    with ctx.sessions() as session, session.begin():
        session.add_all(
            AccessEvent(
                actor="fra",
                action="declaration.read",
                record_type="declaration",
                record_id=f"D-{i}",
                classification="protected",
                client="127.0.0.1",
            )
            for i in range(3)
        )
    assert commit_access_log(ctx, actor=OPERATOR) == 0  # too fresh: a late commit may come
    later = datetime.now(UTC) + timedelta(seconds=11)
    assert commit_access_log(ctx, actor=OPERATOR, now=later) == 3
    assert commit_access_log(ctx, actor=OPERATOR, now=later) == 0
    integrate(ctx)
    with ctx.sessions() as session:
        types = list(session.scalars(select(LedgerEntry.record_type).order_by(LedgerEntry.idx)))
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert types == ["organisation", "user", "access_log"]
    assert all(e.ledger_index is not None for e in events)
    assert run_audit(ctx).clean


def _client(ctx: Context, settings: Settings) -> TestClient:
    return TestClient(create_app(settings, ctx))


def test_log_is_served_as_tlog_tiles(ctx: Context, settings: Settings) -> None:
    results = [_submit(ctx, s) for s in ("FRA", "DEU", "JPN")]
    client = _client(ctx, settings)
    note = client.get("/log/checkpoint")
    assert note.status_code == 200 and note.text.startswith(ctx.log_signer().name + "\n3\n")
    level0 = client.get("/log/tile/0/000.p/3")
    assert level0.headers["content-type"] == "application/octet-stream"
    assert len(level0.content) == 3 * 32
    bundle = tiles.decode_entry_bundle(client.get("/log/tile/entries/000.p/3").content)
    assert [Envelope.from_bytes(e).record_id for e in bundle] == [r.id for r in results]
    assert client.get("/log/tile/0/000").status_code == 404  # not full yet
    assert client.get("/log/tile/0/000.p/4").status_code == 404  # beyond the log
    assert client.get("/log/tile/0/0000").status_code == 400  # not canonical
    assert client.get("/log/tile/../../etc/passwd").status_code in (400, 404)
    receipt = client.get(f"/api/log/records/declaration/{results[1].id}/receipt").json()
    assert check_receipt(receipt, ctx.log_signer().verifier).index == 1
    proof = client.get("/api/log/consistency", params={"old": 1, "new": 3}).json()
    assert len(proof["consistency_proof"]) >= 1
    assert client.get("/api/log/consistency", params={"old": 3, "new": 9}).status_code == 400
    assert client.get("/api/log").json()["size"] == 3


def test_verify_log_detects_rollback_and_fork(
    ctx: Context, settings: Settings, tmp_path: Path
) -> None:
    for state in ("FRA", "DEU", "JPN", "BRA"):
        _submit(ctx, state)
    client = _client(ctx, settings)

    def fetch(path: str) -> bytes:
        response = client.get(f"/log/{path}")
        assert response.status_code == 200, path
        return response.content

    verifier = ctx.log_signer().verifier
    first = check_log(fetch, verifier)
    assert first.entries == 4
    _submit(ctx, "KEN")
    grown = check_log(fetch, verifier, last_seen=first.checkpoint)
    assert grown.grew_by == 1
    with pytest.raises(LogInconsistent, match="rolled back"):
        from veritrail.ledger.checkpoint import Checkpoint

        check_log(
            fetch,
            verifier,
            last_seen=Checkpoint(first.checkpoint.origin, 9, first.checkpoint.root_hash),
        )
    forked = Checkpoint(first.checkpoint.origin, 4, bytes(32))
    with pytest.raises(LogInconsistent, match="forked"):
        check_log(fetch, verifier, last_seen=forked)


def test_cli_prove_verify_and_log_check(
    ctx: Context, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", settings.resolved_database_url)
    from veritrail.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    result = _submit(ctx)
    _submit(ctx, "DEU")
    receipt_file = tmp_path / "receipt.json"
    run = runner.invoke(
        cli_app, ["ledger", "prove", result.id, "--version", "1", "-o", str(receipt_file)]
    )
    assert run.exit_code == 0, run.output
    vkey = runner.invoke(cli_app, ["ledger", "vkey"]).output.strip()
    assert vkey == ctx.log_signer().verifier.vkey
    document = tmp_path / "doc.json"
    document.write_bytes(_canonical(ctx, result.id, 1))
    ok = runner.invoke(
        cli_app,
        ["verify", "receipt", str(receipt_file), "--vkey", vkey, "--document", str(document)],
    )
    assert ok.exit_code == 0 and "the document matches" in ok.output
    document.write_bytes(b"{}")
    bad = runner.invoke(
        cli_app,
        ["verify", "receipt", str(receipt_file), "--vkey", vkey, "--document", str(document)],
    )
    assert bad.exit_code == 1 and "neither the content hash" in bad.output
    by_index = runner.invoke(cli_app, ["ledger", "prove", "--index", "1"])
    assert json.loads(by_index.stdout)["index"] == 1
    checkpoint = runner.invoke(cli_app, ["ledger", "checkpoint"]).stdout
    assert checkpoint.splitlines()[1] == "2"
    proof = json.loads(runner.invoke(cli_app, ["ledger", "consistency", "1", "2"]).stdout)
    assert len(proof["consistency_proof"]) == 1
    mirror = tmp_path / "mirror"
    assert runner.invoke(cli_app, ["ledger", "export", str(mirror)]).exit_code == 0
    seen = tmp_path / "seen.checkpoint"
    checked = runner.invoke(
        cli_app, ["verify", "log", "--dir", str(mirror), "--vkey", vkey, "--state", str(seen)]
    )
    assert checked.exit_code == 0 and "first check" in checked.output, checked.output
    # Tamper with the mirror: an entry changed after signing.
    bundle = mirror / "tile" / "entries" / "000.p" / "2"
    data = bytearray(bundle.read_bytes())
    data[-3] ^= 1
    bundle.write_bytes(bytes(data))
    altered = runner.invoke(
        cli_app, ["verify", "log", "--dir", str(mirror), "--vkey", vkey, "--state", str(seen)]
    )
    assert altered.exit_code == 1
    get_settings.cache_clear()


def test_audit_finds_altered_missing_and_extra(ctx: Context) -> None:
    original = b'{"original": "file"}'
    result = _submit(ctx, original=original)
    other = _submit(ctx, "DEU")
    assert run_audit(ctx).clean
    with ctx.sessions() as session, session.begin():
        session.execute(
            update(DeclarationVersion)
            .where(DeclarationVersion.declaration_id == other.id)
            .values(document_json=DeclarationVersion.document_json + " ")
        )
    blob = ctx.blobs.path(result.original_sha256 or "")  # type: ignore[attr-defined]
    blob.chmod(0o644)
    blob.write_bytes(b"altered")
    kinds = {(f.kind, f.record.split()[1]) for f in run_audit(ctx).findings}
    assert ("altered", other.id) in kinds and ("altered_file", result.id) in kinds
    blob.unlink()
    assert "missing_file" in {f.kind for f in run_audit(ctx).findings}
    # A version written behind the log's back, and an entry whose record is gone.
    with ctx.sessions() as session, session.begin():
        session.execute(text("DELETE FROM ledger_entries WHERE idx = 1"))
    findings = run_audit(ctx).findings
    assert any(f.kind == "missing_entry" and other.id in f.record for f in findings)
    assert any(f.kind == "log" for f in findings)


def test_audit_cli_exit_code(
    ctx: Context, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", settings.resolved_database_url)
    from veritrail.settings import get_settings

    get_settings.cache_clear()
    _submit(ctx)
    runner = CliRunner()
    clean = runner.invoke(cli_app, ["audit", "--json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout)["ok"] is True
    with ctx.sessions() as session, session.begin():
        session.execute(text("UPDATE ledger_entries SET entry = :e WHERE idx = 0"), {"e": b"{}"})
    dirty = runner.invoke(cli_app, ["audit"])
    assert dirty.exit_code == 1 and "log" in dirty.output
    get_settings.cache_clear()


def test_integration_resumes_after_entries_without_tiles(ctx: Context) -> None:
    """Entries committed by a process that died before integrating are taken in later."""
    first = _submit(ctx)
    with ctx.sessions() as session, session.begin():
        log.append(
            session,
            [log.PendingEntry(b'{"pending": 1}', "test", "x", None)],
        )
    with ctx.sessions() as session:
        assert log.counters(session) == (2, 1)
    assert integrate(ctx) == 2
    receipt = queries.receipt_for_index(ctx, first.log_index)
    assert check_receipt(receipt, ctx.log_signer().verifier).checkpoint.size == 2
