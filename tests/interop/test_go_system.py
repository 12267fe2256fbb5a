"""Receipts and consistency proofs of the running system, accepted by Go's sumdb packages.

Declarations are submitted through the API; the receipt each submission
returns, and consistency proofs between the log's signed checkpoints, are
handed to the Go verifier exactly as a state would receive them.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories import adnd, make_user
from veritrail.access import OPERATOR, Role
from veritrail.actions import Context
from veritrail.actions.tokens import do_create_token
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import LedgerCheckpoint


def _go(binary: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *map(str, args)], capture_output=True, text=True, timeout=30, check=False
    )


def test_go_accepts_the_systems_receipts_and_proofs(
    go_verify: Path, ctx: Context, settings: Settings, tmp_path: Path
) -> None:
    client = TestClient(create_app(settings, ctx))
    receipts = []
    for state in ("FRA", "DEU", "JPN", "BRA", "KEN"):
        actor = make_user(ctx, f"{state.lower()}-submitter", Role.NA_SUBMITTER, state=state)
        token = do_create_token(
            ctx,
            actor=OPERATOR,
            username=actor.username,
            name="interop",
            scopes=["declaration.submit"],
            expires_at=datetime.now(UTC) + timedelta(days=1),
        ).token
        response = client.post(
            "/api/declarations",
            content=json.dumps(adnd(state=state)),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        assert response.status_code == 201, response.text
        receipts.append(response.json()["receipt"])
    vkey = client.get("/api/log").json()["vkey"]
    for n, receipt in enumerate(receipts):
        path = tmp_path / f"receipt-{n}.json"
        path.write_text(json.dumps(receipt))
        result = _go(go_verify, "verify-receipt", path, vkey)
        assert result.returncode == 0 and result.stdout.splitlines()[-1] == "ok", result.stderr
    with ctx.sessions() as session:
        notes = {c.size: c.note for c in session.scalars(select(LedgerCheckpoint))}
    sizes = sorted(notes)
    for old in sizes:
        for new in (s for s in sizes if s >= old):
            proof = client.get("/api/log/consistency", params={"old": old, "new": new}).json()
            (tmp_path / "old").write_text(notes[old])
            (tmp_path / "new").write_text(notes[new])
            (tmp_path / "proof.json").write_text(json.dumps(proof))
            result = _go(
                go_verify,
                "verify-consistency",
                tmp_path / "old",
                tmp_path / "new",
                tmp_path / "proof.json",
                vkey,
            )
            assert result.returncode == 0, (old, new, result.stderr)
