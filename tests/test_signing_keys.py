"""States' signing keys and signed submissions, on SQLite and PostgreSQL.

Keys are registered, rotated and revoked through actions that commit each
change to the transparency log; a declaration file signed offline is checked
at submission (action, CLI, API and web upload) and its signer shown, and a
signature that does not fit is refused with nothing stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from factories import adnd, make_user
from veritrail.access import OPERATOR, Actor, Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.actions.signing_keys import (
    MAX_ACTIVE_KEYS,
    do_register_signing_key,
    do_revoke_signing_key,
    do_rotate_signing_key,
)
from veritrail.cli import app as cli_app
from veritrail.declarations.document import ParsedDeclaration
from veritrail.declarations.intake import parse_upload
from veritrail.declarations.signatures import (
    SIGNATURE_HEADER,
    KeyStatus,
    parse_signature_text,
    sign_file,
)
from veritrail.errors import Conflict, Forbidden, InputError, NotFound
from veritrail.ledger.note import COSIGNATURE_ED25519, Signer, open_note
from veritrail.ledger.receipt import check_receipt
from veritrail.queries import declaration_detail
from veritrail.queries.accounts import actor_for
from veritrail.queries.ledger import receipt_for_record
from veritrail.queries.signing_keys import list_signing_keys, version_signers
from veritrail.server import create_app
from veritrail.settings import Settings, get_settings
from veritrail.store import log
from veritrail.store.models import AuditEvent, Blob, Declaration, DeclarationVersion, SigningKey

CSRF = "test-csrf"


ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "fra": (Role.NA_SUBMITTER, "FRA"),
    "fra-viewer": (Role.NA_VIEWER, "FRA"),
    "deu": (Role.NA_SUBMITTER, "DEU"),
    "analyst": (Role.ANALYST, None),
    "admin": (Role.ADMIN, None),
}


class People(dict[str, Actor]):
    """France's submitter and viewer, Germany's submitter, an analyst and an administrator,
    each stored the first time a test asks for them."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx

    def __missing__(self, username: str) -> Actor:
        role, state = ACCOUNTS[username]
        self[username] = make_user(self.ctx, username, role, state)
        return self[username]


@pytest.fixture
def people(ctx: Context) -> People:
    return People(ctx)


def document_bytes(state: str = "FRA", period: int = 2024, **header: object) -> bytes:
    return json.dumps(adnd(state=state, period=period, **header), indent=2).encode()


def submit_file(
    ctx: Context,
    actor: Actor,
    data: bytes,
    signature: str | None,
    filename: str = "adnd.json",
) -> str:
    parsed = parse_upload(data, filename, registry=ctx.registry, limits=ctx.settings)
    return do_submit_declaration(
        ctx, actor=actor, parsed=parsed, original=data, filename=filename, signature=signature
    ).id


def audit_rows(ctx: Context, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def stored_counts(ctx: Context) -> tuple[int, int, int]:
    with ctx.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Declaration, DeclarationVersion, Blob)
        )


# --- keys -----------------------------------------------------------------------------


def test_register_rotate_revoke_each_go_into_the_log(ctx: Context, people: People) -> None:
    fra = people["fra"]
    first = Signer.generate("fra-na-1")
    key = do_register_signing_key(ctx, actor=fra, vkey=first.verifier.vkey)
    assert (key.state, key.name, key.status) == ("FRA", "fra-na-1", KeyStatus.ACTIVE)
    assert key.key_id == first.key_id.hex() and key.organisation_id == "na-FRA"

    second = Signer.generate("fra-na-2")
    new = do_rotate_signing_key(ctx, actor=fra, key_id=key.id, vkey=second.verifier.vkey)
    keys = {k.id: k for k in list_signing_keys(ctx, actor=fra)}
    assert keys[key.id].status is KeyStatus.REPLACED and keys[key.id].replaced_by == new.id
    assert keys[key.id].revoked_by == "fra" and keys[key.id].revoked_at is not None
    assert keys[new.id].status is KeyStatus.ACTIVE

    assert do_revoke_signing_key(ctx, actor=fra, key_id=new.id, reason="laptop lost")
    assert not do_revoke_signing_key(ctx, actor=fra, key_id=new.id)  # nothing changes
    assert get_status(ctx, new.id) is KeyStatus.REVOKED

    register = audit_rows(ctx, "signing_key.register")
    rotate = audit_rows(ctx, "signing_key.rotate")
    revoke = audit_rows(ctx, "signing_key.revoke")
    assert [r.record_id for r in register] == [key.id, new.id]
    assert register[1].details["replaces"] == key.id
    assert [(r.record_id, r.details["replaced_by"]) for r in rotate] == [(key.id, new.id)]
    assert [(r.record_id, r.details["reason"]) for r in revoke] == [(new.id, "laptop lost")]
    # Every change is committed to the log, in its own leaf, which a receipt proves.
    indexes = [r.ledger_index for r in (*register, *rotate, *revoke)]
    assert None not in indexes and len(set(indexes)) == 4
    with ctx.sessions() as session:
        assert [e.idx for e in log.entries_of(session, "signing_key", new.id)] == sorted(
            r.ledger_index
            for r in (register[1], revoke[0])  # type: ignore[type-var]
        )
    receipt = receipt_for_record(ctx, "signing_key", key.id)
    checked = check_receipt(receipt, ctx.log_signer().verifier)
    assert checked.envelope.record_id == key.id and checked.envelope.files == {
        "audit": "signing_key.rotate"
    }


def get_status(ctx: Context, key_id: str) -> KeyStatus:
    return {k.id: k.status for k in list_signing_keys(ctx, actor=OPERATOR)}[key_id]


def test_who_may_register_see_and_revoke_keys(ctx: Context, people: People) -> None:
    fra, viewer, deu = people["fra"], people["fra-viewer"], people["deu"]
    analyst, admin = people["analyst"], people["admin"]
    vkey = Signer.generate("k").verifier.vkey
    with pytest.raises(Forbidden, match="only manage the signing keys of FRA, not of DEU"):
        do_register_signing_key(ctx, actor=fra, vkey=vkey, state="DEU")
    for refused in (viewer, analyst):
        with pytest.raises(Forbidden, match="may not signing_key.manage"):
            do_register_signing_key(ctx, actor=refused, vkey=vkey, state="FRA")
    with pytest.raises(InputError, match="name the state"):
        do_register_signing_key(ctx, actor=OPERATOR, vkey=vkey)
    # Administrators and the operator register for any state with a national authority.
    german = do_register_signing_key(ctx, actor=admin, vkey=vkey, state="deu")
    assert (german.state, german.organisation_id, german.created_by) == ("DEU", "na-DEU", "admin")
    french = do_register_signing_key(
        ctx, actor=OPERATOR, vkey=Signer.generate("f").verifier.vkey, state="FRA"
    )
    with pytest.raises(NotFound, match="ITA has no national authority organisation"):
        do_register_signing_key(
            ctx, actor=admin, vkey=Signer.generate("i").verifier.vkey, state="ITA"
        )
    # A state sees its own keys, the secretariat every state's.
    assert [k.id for k in list_signing_keys(ctx, actor=viewer)] == [french.id]
    assert [k.id for k in list_signing_keys(ctx, actor=deu)] == [german.id]
    assert {k.id for k in list_signing_keys(ctx, actor=analyst)} == {french.id, german.id}
    with pytest.raises(Forbidden):
        list_signing_keys(ctx, actor=fra, state="DEU")
    # Another state's key is absent; a viewer sees its own but may not revoke it.
    with pytest.raises(NotFound):
        do_revoke_signing_key(ctx, actor=fra, key_id=german.id)
    with pytest.raises(NotFound):
        do_rotate_signing_key(
            ctx, actor=deu, key_id=french.id, vkey=Signer.generate("x").verifier.vkey
        )
    with pytest.raises(Forbidden):
        do_revoke_signing_key(ctx, actor=viewer, key_id=french.id)
    assert do_revoke_signing_key(ctx, actor=admin, key_id=french.id)
    assert not audit_rows(ctx, "signing_key.revoke")[0].details["reason"]


def test_key_rules(ctx: Context, people: People) -> None:
    fra = people["fra"]
    with pytest.raises(InputError, match="expected <name>"):
        do_register_signing_key(ctx, actor=fra, vkey="not a key")
    cosigner = Signer.generate("witness", key_type=COSIGNATURE_ED25519)
    with pytest.raises(InputError, match="cosigner key"):
        do_register_signing_key(ctx, actor=fra, vkey=cosigner.verifier.vkey)
    with pytest.raises(InputError, match="not a known state"):
        do_register_signing_key(
            ctx, actor=OPERATOR, vkey=Signer.generate("a").verifier.vkey, state="Atlantis"
        )
    signer = Signer.generate("fra-na")
    key = do_register_signing_key(ctx, actor=fra, vkey=signer.verifier.vkey)
    with pytest.raises(Conflict, match=f"registered already as {key.id}"):
        do_register_signing_key(ctx, actor=people["deu"], vkey=signer.verifier.vkey)
    do_revoke_signing_key(ctx, actor=fra, key_id=key.id)
    # A revoked key never comes back, and is not rotated.
    with pytest.raises(Conflict, match="never again after revocation"):
        do_register_signing_key(ctx, actor=fra, vkey=signer.verifier.vkey)
    with pytest.raises(Conflict, match="nothing to rotate"):
        do_rotate_signing_key(
            ctx, actor=fra, key_id=key.id, vkey=Signer.generate("n").verifier.vkey
        )
    # A state holds a bounded number of active keys; rotation does not add one.
    active = [
        do_register_signing_key(ctx, actor=fra, vkey=Signer.generate(f"k{i}").verifier.vkey)
        for i in range(MAX_ACTIVE_KEYS)
    ]
    with pytest.raises(Conflict, match=f"{MAX_ACTIVE_KEYS} active signing keys"):
        do_register_signing_key(ctx, actor=fra, vkey=Signer.generate("more").verifier.vkey)
    do_rotate_signing_key(
        ctx, actor=fra, key_id=active[0].id, vkey=Signer.generate("k0-next").verifier.vkey
    )
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SigningKey)) == MAX_ACTIVE_KEYS + 2


# --- signed submissions ---------------------------------------------------------------


def test_sign_offline_then_submit_through_the_action(ctx: Context, people: People) -> None:
    fra = people["fra"]
    signer = Signer.generate("fra-na-2025")
    key = do_register_signing_key(ctx, actor=fra, vkey=signer.verifier.vkey)
    data = document_bytes()
    note = sign_file(data, "/tmp/somewhere/adnd.json", signer)
    signed = parse_signature_text(open_note(note, [signer.verifier]).text)
    assert note.startswith(SIGNATURE_HEADER + "\n") and signed.filename == "adnd.json"

    declaration_id = submit_file(ctx, fra, data, note)
    with ctx.sessions() as session:
        version = session.scalars(
            select(DeclarationVersion).where(DeclarationVersion.declaration_id == declaration_id)
        ).one()
        assert (version.signature, version.signing_key_id) == (note, key.id)
    detail = declaration_detail(ctx, actor=fra, declaration_id=declaration_id)
    signer_of = version_signers(ctx, detail)
    assert signer_of[1].model_dump() == {"key_id": key.id, "name": "fra-na-2025", "state": "FRA"}
    # An amendment without a signature is stored unsigned; the first version keeps its signer.
    line = {"cas": "75-44-5", "activity": "production", "quantity": "99", "unit": "t"}
    amended = document_bytes(id=declaration_id, lines=[line])
    submit_file(ctx, fra, amended, None)
    signer_of = version_signers(
        ctx, declaration_detail(ctx, actor=fra, declaration_id=declaration_id)
    )
    assert set(signer_of) == {1}
    # A key revoked later still shows what it signed.
    do_revoke_signing_key(ctx, actor=fra, key_id=key.id)
    assert version_signers(ctx, detail)[1].key_id == key.id


@pytest.mark.parametrize(
    "case",
    [
        "other file",
        "revoked key",
        "other state's key",
        "unknown key",
        "altered",
        "not a note",
        "not a signature text",
        "no original",
    ],
)
def test_a_signature_that_does_not_fit_is_refused_and_nothing_stored(
    ctx: Context, people: People, case: str
) -> None:
    fra, deu = people["fra"], people["deu"]
    signer = Signer.generate("fra-na")
    key = do_register_signing_key(ctx, actor=fra, vkey=signer.verifier.vkey)
    german = Signer.generate("deu-na")
    german_key = do_register_signing_key(ctx, actor=deu, vkey=german.verifier.vkey)
    data = document_bytes()
    note = sign_file(data, "adnd.json", signer)
    expected = {
        "other file": "is for a file with SHA-256",
        "revoked key": f"{key.id}\\), which was revoked on",
        "other state's key": f"{german_key.id}\\) of DEU; a declaration of FRA",
        "unknown key": "not registered for FRA; register its verifier key first",
        "altered": "does not verify",
        "not a note": "blank line",
        "not a signature text": "not a Veritrail declaration signature",
        "no original": "covers the file it was made for",
    }[case]
    if case == "other file":
        note = sign_file(document_bytes(period=2023), "adnd.json", signer)
    elif case == "revoked key":
        do_revoke_signing_key(ctx, actor=fra, key_id=key.id)
    elif case == "other state's key":
        note = sign_file(data, "adnd.json", german)
    elif case == "unknown key":
        note = sign_file(data, "adnd.json", Signer.generate("fra-na-3"))
    elif case == "altered":
        note = note.replace("\nadnd.json\n", "\nother.json\n", 1)
    elif case == "not a note":
        note = "just some text\n"
    elif case == "not a signature text":
        from veritrail.ledger.note import sign_note

        note = sign_note("hello\n", [signer])
    before = stored_counts(ctx)
    with pytest.raises(InputError, match=expected) as caught:
        if case == "no original":
            do_submit_declaration(
                ctx, actor=fra, parsed=ParsedDeclaration(adnd(), "json"), signature=note
            )
        else:
            submit_file(ctx, fra, data, note)
    assert caught.value.details.get("field") == "signature" or case == "not a note"
    assert stored_counts(ctx) == before == (0, 0, 0)
    assert not ctx.blobs.exists(hashlib.sha256(data).hexdigest())


# --- the command line -----------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_keygen_sign_register_and_submit_with_the_cli(
    cli: CliRunner, ctx: Context, people: People, tmp_path: Path
) -> None:
    people["fra"]  # noqa: B018 - the account `--as fra` acts as
    keyfile = tmp_path / "fra.key"
    made = cli.invoke(cli_app, ["declare", "keygen", "fra-na-cli", "-o", str(keyfile)])
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip()
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert keyfile.read_text().startswith("PRIVATE+KEY+fra-na-cli+")
    assert vkey.startswith("fra-na-cli+") and "PRIVATE" not in made.stdout
    again = cli.invoke(cli_app, ["declare", "keygen", "fra-na-cli", "-o", str(keyfile)])
    assert again.exit_code == 1 and "exists already" in again.output

    declaration = tmp_path / "adnd.json"
    declaration.write_bytes(document_bytes())
    # Signing needs nothing but the key and the file: no server, no database.
    signed = cli.invoke(cli_app, ["declare", "sign", str(declaration), "--key", str(keyfile)])
    assert signed.exit_code == 0, signed.output
    sig = tmp_path / "adnd.json.sig"
    assert sig.read_text().startswith(SIGNATURE_HEADER)

    registered = cli.invoke(cli_app, ["--as", "fra", "declare", "keys", "register", vkey, "--json"])
    assert registered.exit_code == 0, registered.output
    key_id = json.loads(registered.stdout)["id"]
    listed = cli.invoke(cli_app, ["declare", "keys", "list", "--state", "FRA", "--json"])
    assert [k["id"] for k in json.loads(listed.stdout)] == [key_id]
    refused = cli.invoke(
        cli_app,
        [
            "--as",
            "fra",
            "declare",
            "keys",
            "register",
            Signer.generate("x").verifier.vkey,
            "--state",
            "DEU",
        ],
    )
    assert refused.exit_code == 1 and "not of DEU" in refused.output

    # FILE.sig beside the file is sent along without asking.
    submitted = cli.invoke(cli_app, ["--as", "fra", "declare", "submit", str(declaration)])
    assert submitted.exit_code == 0, submitted.output
    assert "signature" in submitted.stdout and "checked" in submitted.stdout
    with ctx.sessions() as session:
        assert session.scalars(select(DeclarationVersion.signing_key_id)).one() == key_id

    # Rotation, then a submission signed by the replaced key is refused (exit 1).
    newfile = tmp_path / "new.key"
    new_vkey = cli.invoke(cli_app, ["declare", "keygen", "fra-na-new", "-o", str(newfile)])
    rotated = cli.invoke(cli_app, ["declare", "keys", "rotate", key_id, new_vkey.stdout.strip()])
    assert rotated.exit_code == 0 and f"{key_id} replaced by" in rotated.stdout
    other = tmp_path / "adnd-2023.json"
    other.write_bytes(document_bytes(period=2023))
    cli.invoke(
        cli_app,
        ["declare", "sign", str(other), "--key", str(keyfile), "-o", str(tmp_path / "old.sig")],
    )
    stale = cli.invoke(
        cli_app,
        [
            "--as",
            "fra",
            "declare",
            "submit",
            str(other),
            "--signature",
            str(tmp_path / "old.sig"),
            "--json",
        ],
    )
    assert stale.exit_code == 1
    assert "was revoked on" in json.loads(stale.stdout)["message"]
    missing = cli.invoke(
        cli_app, ["declare", "submit", str(other), "--signature", str(tmp_path / "nowhere.sig")]
    )
    assert missing.exit_code == 1 and "cannot read the signature" in missing.output
    revoked = cli.invoke(cli_app, ["declare", "keys", "revoke", key_id])
    assert revoked.exit_code == 0 and "already revoked" in revoked.stdout


# --- the API --------------------------------------------------------------------------


def session_cookie(settings: Settings, username: str) -> str:
    """A signed session cookie of a signed-in user, as the web sign-in leaves it."""
    data = {"user": username, "seen": int(time.time()), "csrf": CSRF}
    signer = itsdangerous.TimestampSigner(settings.resolved_secret_key())
    return signer.sign(base64.b64encode(json.dumps(data).encode())).decode()


@pytest.fixture
def client(settings: Settings, ctx: Context, people: People) -> Iterator[TestClient]:
    for username in ACCOUNTS:
        people[username]  # noqa: B018 - stores the account
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


def assert_no_inline_code(response: Any) -> None:
    """Nothing in the page would need the CSP relaxed."""
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text), "inline script"
    assert not re.search(r"\sstyle\s*=|\son[a-z]+\s*=|<style", response.text)


def as_user(client: TestClient, settings: Settings, username: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("veritrail_session", session_cookie(settings, username))
    client.headers["x-csrf-token"] = CSRF
    return client


def test_signing_keys_api(client: TestClient, settings: Settings, ctx: Context) -> None:
    assert client.get("/api/signing-keys").status_code == 401
    signer = Signer.generate("fra-api")
    as_user(client, settings, "fra-viewer")
    refused = client.post("/api/signing-keys", json={"vkey": signer.verifier.vkey})
    assert refused.status_code == 403
    as_user(client, settings, "fra")
    created = client.post("/api/signing-keys", json={"vkey": signer.verifier.vkey})
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["state"] == "FRA" and key["status"] == "active" and "created_at" in key
    assert client.post("/api/signing-keys", json={"vkey": "garbage"}).status_code == 400
    again = client.post("/api/signing-keys", json={"vkey": signer.verifier.vkey})
    assert again.status_code == 409 and again.json()["key"] == key["id"]
    other_state = client.post(
        "/api/signing-keys", json={"vkey": Signer.generate("d").verifier.vkey, "state": "DEU"}
    )
    assert other_state.status_code == 403
    assert [k["id"] for k in client.get("/api/signing-keys").json()] == [key["id"]]

    new = Signer.generate("fra-api-2")
    rotated = client.post(f"/api/signing-keys/{key['id']}/rotate", json={"vkey": new.verifier.vkey})
    assert rotated.status_code == 201, rotated.text
    listed = {k["id"]: k for k in client.get("/api/signing-keys?state=FRA").json()}
    assert listed[key["id"]]["replaced_by"] == rotated.json()["id"]
    assert listed[key["id"]]["status"] == "replaced"

    as_user(client, settings, "deu")
    assert client.post(f"/api/signing-keys/{rotated.json()['id']}/revoke").status_code == 404
    assert client.get("/api/signing-keys?state=FRA").status_code == 403
    as_user(client, settings, "admin")
    revoked = client.post(
        f"/api/signing-keys/{rotated.json()['id']}/revoke", json={"reason": "test"}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert len(client.get("/api/signing-keys").json()) == 2
    assert client.post("/api/signing-keys/K-XYZ/revoke").status_code == 422


def test_submit_with_the_signature_header(
    client: TestClient, settings: Settings, ctx: Context, people: People
) -> None:
    signer = Signer.generate("fra-header")
    key = do_register_signing_key(ctx, actor=people["fra"], vkey=signer.verifier.vkey)
    data = document_bytes()
    sig = base64.b64encode(sign_file(data, "adnd.json", signer).encode()).decode()
    as_user(client, settings, "fra")
    headers = {"content-type": "application/json"}

    wrong = sign_file(document_bytes(period=2023), "adnd.json", signer)
    mismatch = client.post(
        "/api/declarations",
        content=data,
        headers={**headers, "Veritrail-Signature": base64.b64encode(wrong.encode()).decode()},
    )
    assert mismatch.status_code == 400
    assert "is for a file with SHA-256" in mismatch.json()["message"]
    assert mismatch.json()["key"] == key.id
    garbled = client.post(
        "/api/declarations", content=data, headers={**headers, "Veritrail-Signature": "%%%"}
    )
    assert garbled.status_code == 400 and "not base64" in garbled.json()["message"]
    assert stored_counts(ctx) == (0, 0, 0)

    accepted = client.post(
        "/api/declarations", content=data, headers={**headers, "Veritrail-Signature": sig}
    )
    assert accepted.status_code == 201, accepted.text
    with ctx.sessions() as session:
        assert session.scalars(select(DeclarationVersion.signing_key_id)).one() == key.id
    schema = client.get("/api/openapi.json").json()
    submit = schema["paths"]["/api/declarations"]["post"]
    assert "Veritrail-Signature" in submit["description"]
    assert any(p["name"] == "Veritrail-Signature" for p in submit["parameters"])


# --- the web pages --------------------------------------------------------------------


def test_signed_upload_and_the_declaration_page_show_the_signer(
    client: TestClient, settings: Settings, ctx: Context, people: People
) -> None:
    signer = Signer.generate("fra-web")
    key = do_register_signing_key(ctx, actor=people["fra"], vkey=signer.verifier.vkey)
    data = document_bytes()
    as_user(client, settings, "fra")
    form = {"csrf": CSRF, "state": "FRA"}
    bad = client.post(
        "/declarations/upload",
        data=form,
        files={
            "file": ("adnd.json", data, "application/json"),
            "signature": ("adnd.json.sig", sign_file(b"other", "adnd.json", signer), "text/plain"),
        },
    )
    assert bad.status_code == 400 and "is for a file with SHA-256" in bad.text
    assert stored_counts(ctx) == (0, 0, 0)
    uploaded = client.post(
        "/declarations/upload",
        data=form,
        files={
            "file": ("adnd.json", data, "application/json"),
            "signature": ("adnd.json.sig", sign_file(data, "adnd.json", signer), "text/plain"),
        },
    )
    assert uploaded.status_code == 303, uploaded.text
    declaration_id = uploaded.headers["location"].rsplit("/", 1)[1]
    # The same form without a signature file still submits (the input sends an empty part).
    unsigned = client.post(
        "/declarations/upload",
        data=form,
        files={
            "file": ("adnd-2023.json", document_bytes(period=2023), "application/json"),
            "signature": ("", b"", "application/octet-stream"),
        },
    )
    assert unsigned.status_code == 303, unsigned.text
    shown = client.get(f"/declarations/{declaration_id}")
    assert shown.status_code == 200
    assert f"signed by key fra-web ({key.id}) of FRA" in shown.text
    other = client.get(unsigned.headers["location"])
    assert "not signed" in other.text


def test_account_page_registers_rotates_and_revokes(
    client: TestClient, settings: Settings, ctx: Context
) -> None:
    as_user(client, settings, "fra")
    page = client.get("/account/signing-keys")
    assert page.status_code == 200 and "Your state has registered no signing key." in page.text
    assert_no_inline_code(page)
    assert 'href="/account/signing-keys"' in client.get("/account").text
    first = Signer.generate("fra-page")
    forged = client.post(
        "/account/signing-keys", data={"vkey": first.verifier.vkey}, headers={"x-csrf-token": ""}
    )
    assert forged.status_code == 403
    made = client.post("/account/signing-keys", data={"vkey": first.verifier.vkey, "csrf": CSRF})
    assert made.status_code == 303
    (key,) = list_signing_keys(ctx, actor=OPERATOR)
    listed = client.get("/account/signing-keys")
    assert_no_inline_code(listed)
    listing = listed.text
    assert f"Signing key fra-page registered as {key.id}." in listing
    assert first.verifier.vkey in listing
    refused = client.post("/account/signing-keys", data={"vkey": first.verifier.vkey, "csrf": CSRF})
    assert refused.status_code == 400 and "registered already" in refused.text
    second = Signer.generate("fra-page-2")
    rotated = client.post(
        f"/account/signing-keys/{key.id}/rotate", data={"vkey": second.verifier.vkey, "csrf": CSRF}
    )
    assert rotated.status_code == 303
    new = next(k for k in list_signing_keys(ctx, actor=OPERATOR) if k.id != key.id)
    assert "replaced by" in client.get("/account/signing-keys").text
    revoked = client.post(f"/account/signing-keys/{new.id}/revoke", data={"csrf": CSRF})
    assert revoked.status_code == 303
    assert get_status(ctx, new.id) is KeyStatus.REVOKED
    # A viewer sees the keys, without the forms; another state cannot touch them.
    as_user(client, settings, "fra-viewer")
    viewed = client.get("/account/signing-keys").text
    assert key.id in viewed and 'id="register-key"' not in viewed
    assert client.post("/account/signing-keys", data={"vkey": "x", "csrf": CSRF}).status_code == 403
    as_user(client, settings, "deu")
    assert key.id not in client.get("/account/signing-keys").text
    gone = client.post(f"/account/signing-keys/{key.id}/revoke", data={"csrf": CSRF})
    assert gone.status_code == 404


def test_admin_page_lists_keys_per_state_and_the_log_key(
    client: TestClient, settings: Settings, ctx: Context, people: People
) -> None:
    french = do_register_signing_key(
        ctx, actor=people["fra"], vkey=Signer.generate("f").verifier.vkey
    )
    german = do_register_signing_key(
        ctx, actor=people["deu"], vkey=Signer.generate("g").verifier.vkey
    )
    as_user(client, settings, "fra")
    assert client.get("/admin/signing-keys").status_code == 403
    as_user(client, settings, "admin")
    page = client.get("/admin/signing-keys")
    assert page.status_code == 200
    assert_no_inline_code(page)
    text = page.text
    assert 'id="state-FRA"' in text and 'id="state-DEU"' in text
    assert french.id in text and german.id in text
    assert ctx.log_signer().verifier.vkey in text and ctx.log_signer().name in text
    assert re.search(r"Signed size</dt><dd>\d+", text)
    assert "/admin/signing-keys" in client.get("/admin/users").text
    done = client.post(f"/admin/signing-keys/{german.id}/revoke", data={"csrf": CSRF})
    assert done.status_code == 303
    assert get_status(ctx, german.id) is KeyStatus.REVOKED
    assert client.get("/account/signing-keys").headers["location"] == "/admin/signing-keys"
    assert actor_for(ctx, "admin") is not None
