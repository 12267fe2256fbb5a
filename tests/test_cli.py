"""The command line, in process, against a real database file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factories import adnd
from veritrail.cli import app
from veritrail.settings import get_settings


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("VERITRAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VERITRAIL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_regimes_list(cli: CliRunner) -> None:
    result = cli.invoke(app, ["regimes", "list", "--json"])
    assert result.exit_code == 0, result.output
    regimes = {r["id"]: r for r in json.loads(result.stdout)}
    assert {"cwc", "bwc", "unscr1540", "att"} <= set(regimes)
    assert any(t["id"] == "adnd" for t in regimes["cwc"]["types"])


def test_template_validate_submit_list_export_amend(cli: CliRunner, tmp_path: Path) -> None:
    for fmt in ("json", "csv", "xlsx"):
        out = tmp_path / f"t.{fmt}"
        result = cli.invoke(
            app, ["declare", "template", "cwc", "adnd", "--format", fmt, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0

    good = _write(tmp_path / "fra.json", adnd())
    assert cli.invoke(app, ["declare", "validate", str(good)]).exit_code == 0

    submitted = cli.invoke(app, ["declare", "submit", str(good), "--state", "FRA", "--json"])
    assert submitted.exit_code == 0, submitted.output
    declaration_id = json.loads(submitted.stdout)["id"]

    listed = cli.invoke(app, ["declare", "list", "--state", "FRA", "--json"])
    items = json.loads(listed.stdout)
    assert [(i["id"], i["state"]) for i in items] == [(declaration_id, "FRA")]

    exported = tmp_path / "export.json"
    assert (
        cli.invoke(app, ["declare", "export", declaration_id, "-o", str(exported)]).exit_code == 0
    )
    assert cli.invoke(app, ["declare", "validate", str(exported)]).exit_code == 0

    doc = json.loads(exported.read_text())
    doc["data"]["lines"][0]["quantity"] = "99"
    _write(exported, doc)
    amended = cli.invoke(app, ["declare", "submit", str(exported), "--json"])
    assert amended.exit_code == 0, amended.output
    assert json.loads(amended.stdout)["version"] == 2
    v1 = cli.invoke(app, ["declare", "export", declaration_id, "--version", "1"])
    assert json.loads(v1.stdout)["data"]["lines"][0]["quantity"] == "120"


def test_invalid_file_exit_1_with_json_errors(cli: CliRunner, tmp_path: Path) -> None:
    bad = _write(
        tmp_path / "bad.json",
        adnd(state="XXX", lines=[{"cas": "1-2-3", "activity": "x", "unit": "t"}]),
    )
    result = cli.invoke(app, ["declare", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert {"path", "code", "message"} <= set(body["errors"][0])
    submitted = cli.invoke(app, ["declare", "submit", str(bad), "--json"])
    assert submitted.exit_code == 1
    assert json.loads(cli.invoke(app, ["declare", "list", "--json"]).stdout) == []


@pytest.mark.parametrize(
    "content",
    [b"{", b"\xff\xfe{\x00}\x00", b"PK\x03\x04 not a zip", b"\x00" * 100],
    ids=["truncated", "utf16", "fake-zip", "nul"],
)
def test_malformed_files_exit_1(cli: CliRunner, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    result = cli.invoke(app, ["declare", "validate", str(path)])
    assert result.exit_code == 1
    assert "error" in result.output and "Traceback" not in result.output


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    assert cli.invoke(app, ["declare", "validate"]).exit_code == 2
    assert cli.invoke(app, ["declare", "template", "cwc", "adnd", "--format", "pdf"]).exit_code == 2


def test_unknown_ids_and_states_are_clear(cli: CliRunner) -> None:
    result = cli.invoke(app, ["declare", "export", "D-NOPE"])
    assert result.exit_code == 1 and "no declaration" in result.output
    result = cli.invoke(app, ["declare", "list", "--state", "Atlantis"])
    assert result.exit_code == 1 and "not a known state" in result.output


def test_prefill_starts_next_period_from_the_last(cli: CliRunner, tmp_path: Path) -> None:
    good = _write(tmp_path / "fra.json", adnd(period=2024))
    assert cli.invoke(app, ["declare", "submit", str(good)]).exit_code == 0
    result = cli.invoke(
        app, ["declare", "prefill", "cwc", "adnd", "--state", "FRA", "--period", "2025", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"].startswith("D-")
    missing = cli.invoke(
        app, ["declare", "prefill", "cwc", "adnd", "--state", "DEU", "--period", "2025"]
    )
    assert missing.exit_code == 1 and "no earlier" in missing.output


def test_as_user_narrows_the_operator_to_a_users_rights(cli: CliRunner, tmp_path: Path) -> None:
    from factories import make_user
    from veritrail.access import Role
    from veritrail.actions import Context
    from veritrail.settings import get_settings

    for state in ("FRA", "DEU"):
        path = _write(tmp_path / f"{state}.json", adnd(state=state))
        assert cli.invoke(app, ["declare", "submit", str(path)]).exit_code == 0
    ctx = Context.from_settings(get_settings())
    make_user(ctx, "fra-viewer", Role.NA_VIEWER, "FRA")
    ctx.close()
    everyone = json.loads(cli.invoke(app, ["declare", "list", "--json"]).stdout)
    assert {d["state"] for d in everyone} == {"FRA", "DEU"}
    narrowed = cli.invoke(app, ["--as", "fra-viewer", "declare", "list", "--json"])
    assert {d["state"] for d in json.loads(narrowed.stdout)} == {"FRA"}
    refused = cli.invoke(
        app, ["--as", "fra-viewer", "declare", "submit", str(tmp_path / "FRA.json"), "--json"]
    )
    assert refused.exit_code == 1 and json.loads(refused.stdout)["code"] == "forbidden"
    unknown = cli.invoke(app, ["--as", "nobody", "declare", "list"])
    assert unknown.exit_code == 1 and "no active user" in unknown.output
