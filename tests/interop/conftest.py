"""The Go verifier (golang.org/x/mod/sumdb/note and sumdb/tlog), built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent / "veritrail-verify"
GOPATH = "/usr/share/gocode"


@pytest.fixture(scope="session")
def go_verify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        if os.environ.get("VERITRAIL_REQUIRE_GO"):
            raise RuntimeError("Go required (VERITRAIL_REQUIRE_GO) but `go` is not installed")
        pytest.skip("go is not installed (scripts/setup.sh installs golang-go)")
    build = tmp_path_factory.mktemp("go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(build / "cache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    binary = build / "veritrail-verify"
    result = subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"building the Go verifier failed (is golang-golang-x-mod-dev installed in {GOPATH}?):\n"
        + result.stderr
    )
    return binary
