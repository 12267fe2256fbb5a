"""The public Verify page, through the ASGI app, on SQLite and PostgreSQL.

Anyone, signed in or not, checks a receipt against the server's log key (or a
key of their own), with or without the document, and reads what held and
what failed in plain words.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories import adnd, make_user
from veritrail.access import Role
from veritrail.actions import Context, do_submit_declaration
from veritrail.declarations.intake import parse_upload
from veritrail.errors import TooLarge
from veritrail.ledger.note import Signer
from veritrail.ledger.receipt import MAX_RECEIPT_BYTES
from veritrail.queries.receipts import Step, verify_receipt
from veritrail.server import create_app
from veritrail.settings import Settings
from veritrail.store.models import DeclarationVersion

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
WITNESS_KEY = Signer.generate("witness.example/w1", key_type=0x04).verifier.vkey
WITNESS = f"https://witness.example/ {WITNESS_KEY}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"log_witnesses": [WITNESS]})


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ctx), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def submitted(ctx: Context) -> dict[str, Any]:
    """A declaration France submitted as a file: its id, original bytes and canonical JSON."""
    actor = make_user(ctx, "fra", Role.NA_SUBMITTER, "FRA")
    data = json.dumps(adnd(), indent=2).encode()
    parsed = parse_upload(data, "adnd.json", registry=ctx.registry, limits=ctx.settings)
    result = do_submit_declaration(
        ctx, actor=actor, parsed=parsed, original=data, filename="adnd.json"
    )
    with ctx.sessions() as session:
        canonical = session.scalars(
            select(DeclarationVersion.document_json).where(
                DeclarationVersion.declaration_id == result.id
            )
        ).one()
    return {
        "id": result.id,
        "original": data,
        "canonical": canonical.encode(),
        "index": result.log_index,
    }


def receipt_of(client: TestClient, declaration_id: str) -> dict[str, Any]:
    response = client.get(f"/api/log/records/declaration/{declaration_id}/receipt")
    assert response.status_code == 200, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def check(
    client: TestClient,
    receipt: dict[str, Any] | bytes,
    document: bytes | None = None,
    vkey: str = "",
) -> Any:
    token = CSRF.search(client.get("/verify").text)
    assert token is not None
    data = receipt if isinstance(receipt, bytes) else json.dumps(receipt).encode()
    files: dict[str, Any] = {"receipt": ("receipt.json", data, "application/json")}
    if document is not None:
        files["document"] = ("document", document, "application/octet-stream")
    return client.post("/verify", data={"csrf": token.group(1), "vkey": vkey}, files=files)


def result_of(response: Any) -> str:
    found = re.search(r'data-result="([a-z]+)"', response.text)
    assert found is not None, response.text[:2000]
    return found.group(1)


def test_the_page_shows_the_log_and_how_to_verify_offline(
    client: TestClient, ctx: Context, submitted: dict[str, Any]
) -> None:
    page = client.get("/verify")
    assert page.status_code == 200
    text = page.text
    vkey = ctx.log_signer().verifier.vkey
    assert '<code id="log-origin">localhost/veritrail</code>' in text
    assert vkey in text and WITNESS_KEY in text
    assert re.search(r'id="log-size">\d+<', text)
    assert re.search(r"localhost/veritrail\n\d+\n", text)  # the latest checkpoint, as signed
    assert "veritrail verify receipt RECEIPT.json --vkey" in text
    assert "veritrail verify log --vkey" in text and "--url http://testserver/log" in text
    # Open to everyone: the navigation offers it signed out, and the page needs no inline code.
    assert '<a href="/verify" aria-current="page">Verify</a>' in text
    assert 'src="/static/js/verify.js"' in text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    assert not re.search(r"\sstyle\s*=|\son[a-z]+\s*=", text)
    assert client.get("/static/js/verify.js").status_code == 200


def test_a_genuine_receipt_with_and_without_the_document(
    client: TestClient, submitted: dict[str, Any]
) -> None:
    receipt = receipt_of(client, submitted["id"])
    alone = check(client, receipt)
    assert alone.status_code == 200 and result_of(alone) == "genuine"
    entry = re.search(r'<p id="verdict-entry">\s*(.*?)\s*</p>', alone.text, re.S)
    assert entry is not None
    assert re.fullmatch(
        rf"Entry {submitted['index']} of the log localhost/veritrail, signed at size \d+, "
        rf"commits declaration {submitted['id']} version 1, submitted by na-FRA on "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.",
        entry.group(1),
    )
    assert "This receipt is genuine." in alone.text and "No document was given" in alone.text
    assert "Checked against this server’s log key." in alone.text

    content = check(client, receipt, submitted["canonical"])
    assert result_of(content) == "genuine"
    assert "The document you gave matches its content hash." in content.text
    original = check(client, receipt, submitted["original"])
    assert "matches the hash of its file “original”" in original.text

    wrong = check(client, receipt, submitted["original"] + b" ")
    assert wrong.status_code == 422 and result_of(wrong) == "document"
    assert "This receipt is genuine, but the document you gave does not match it." in wrong.text
    assert "the entry commits to the content hash" in wrong.text


def tamper_entry(receipt: dict[str, Any]) -> dict[str, Any]:
    entry = base64.b64decode(receipt["entry"]).replace(b'"version":1', b'"version":2')
    return {**receipt, "entry": base64.b64encode(entry).decode()}


@pytest.mark.parametrize(
    ("tamper", "result", "headline"),
    [
        (tamper_entry, "proof", "The proof does not lead to the signed root."),
        (
            lambda r: {**r, "inclusion_proof": ["A" * 43 + "=", *r["inclusion_proof"][1:]]},
            "proof",
            "The proof does not lead to the signed root.",
        ),
        (
            lambda r: {**r, "checkpoint": re.sub(r"\n\d+\n", "\n99\n", r["checkpoint"], count=1)},
            "signature",
            "Bad signature: this receipt was not signed by the log’s key.",
        ),
        (
            lambda r: {**r, "index": "first"},
            "read",
            "This file is not a Veritrail receipt.",
        ),
        (
            lambda r: {k: v for k, v in r.items() if k != "entry"},
            "read",
            "This file is not a Veritrail receipt.",
        ),
    ],
    ids=["entry", "proof", "checkpoint", "index", "missing"],
)
def test_a_tampered_receipt_says_what_failed(
    client: TestClient, submitted: dict[str, Any], tamper: Any, result: str, headline: str
) -> None:
    receipt = tamper(receipt_of(client, submitted["id"]))
    response = check(client, receipt, submitted["original"])
    assert response.status_code in (400, 422)
    assert result_of(response) == result
    assert headline in response.text
    assert "Technical details" in response.text


def test_another_verifier_key(client: TestClient, ctx: Context, submitted: dict[str, Any]) -> None:
    receipt = receipt_of(client, submitted["id"])
    own = ctx.log_signer().verifier.vkey
    same = check(client, receipt, vkey=own)
    assert result_of(same) == "genuine" and "Checked against this server’s log key." in same.text
    other = Signer.generate("localhost/veritrail").verifier.vkey
    refused = check(client, receipt, vkey=other)
    assert result_of(refused) == "signature"
    assert "by the verifier key you gave" in refused.text and other in refused.text
    garbage = check(client, receipt, vkey="not+a+key")
    assert garbage.status_code == 400 and result_of(garbage) == "key"


def test_limits_and_missing_input_are_said_plainly(
    client: TestClient, ctx: Context, submitted: dict[str, Any]
) -> None:
    big = check(client, b" " * (MAX_RECEIPT_BYTES + 1))
    assert big.status_code == 413
    assert f"a receipt is at most {MAX_RECEIPT_BYTES:,} bytes" in big.text
    not_json = check(client, b"hello")
    assert not_json.status_code == 400 and result_of(not_json) == "read"
    token = CSRF.search(client.get("/verify").text)
    assert token is not None
    nothing = client.post("/verify", data={"csrf": token.group(1)})
    assert nothing.status_code == 400 and "Choose the receipt file (JSON) to check." in nothing.text
    forged = client.post(
        "/verify", files={"receipt": ("r.json", b"{}", "application/json")}, data={"csrf": "x"}
    )
    assert forged.status_code == 403
    # Documents above the upload limit: refused by the check itself, and at the door.
    receipt = json.dumps(receipt_of(client, submitted["id"])).encode()
    limit = ctx.settings.max_upload_bytes
    with pytest.raises(TooLarge, match=f"up to {limit:,} bytes"):
        verify_receipt(ctx, receipt=receipt, document=b"x" * (limit + 1))
    assert verify_receipt(ctx, receipt=receipt).failed is None


def test_small_upload_limit_refuses_large_documents(
    settings: Settings, ctx: Context, submitted: dict[str, Any]
) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 20_000})
    small_ctx = Context.from_settings(small)
    with TestClient(create_app(small, small_ctx), follow_redirects=False) as client:
        receipt = receipt_of(client, submitted["id"])
        page = client.get("/verify").text
        assert 'data-max-bytes="20000"' in page and "documents up to 20,000 bytes" in page
        refused = check(client, receipt, b"x" * 30_000)
        assert refused.status_code == 413
        assert "20,000 bytes (VERITRAIL_MAX_UPLOAD_BYTES)" in refused.text
    small_ctx.close()


def test_the_page_speaks_chinese(client: TestClient, submitted: dict[str, Any]) -> None:
    client.headers["accept-language"] = "zh"
    response = check(client, receipt_of(client, submitted["id"]))
    assert result_of(response) == "genuine"
    assert "此回执真实有效。" in response.text
    assert Step.SIGNATURE.value == "signature"
