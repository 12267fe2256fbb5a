"""A record version and its log entry survive a real kill together, or not at all.

A child process submits declarations as fast as it can and is killed with
SIGKILL in the middle; afterwards every stored version has exactly its entry,
integration takes in whatever was committed but not yet signed, and the audit
is clean.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import func, select

from veritrail.actions import Context
from veritrail.actions.ledger import integrate
from veritrail.queries.ledger_audit import run_audit
from veritrail.settings import Settings
from veritrail.store import log
from veritrail.store.models import DeclarationVersion

CHILD = textwrap.dedent(
    """
    import sys
    from factories import adnd, national
    from veritrail.actions import Context, do_submit_declaration
    from veritrail.declarations.document import ParsedDeclaration
    from veritrail.settings import Settings

    ctx = Context.from_settings(Settings())
    states = ["FRA", "DEU", "JPN", "BRA", "KEN", "IND", "MEX", "NOR", "CHL", "GHA"]
    n = int(sys.argv[1])
    while True:
        state = states[n % len(states)]
        period = 1998 + n // len(states)
        do_submit_declaration(
            ctx, actor=national(state),
            parsed=ParsedDeclaration(adnd(state=state, period=period), "json"),
            original=b"original %d" % n, filename="x.json",
        )
        n += 1
        print(n, flush=True)
    """
)


def _versions(ctx: Context) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DeclarationVersion)) or 0)


def test_killed_writer_leaves_no_record_without_entry(ctx: Context, settings: Settings) -> None:
    env = dict(
        os.environ,
        VERITRAIL_DATA_DIR=str(settings.data_dir),
        VERITRAIL_DATABASE_URL=settings.resolved_database_url,
        PYTHONPATH=os.pathsep.join(p for p in ("tests", os.environ.get("PYTHONPATH", "")) if p),
    )
    ctx.log_signer()  # the key exists before the child starts, as on a running server
    for round_ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(100 * round_)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        # Let it get going, then kill it at a moment it does not choose.
        target = 5 + 7 * round_
        for _ in range(target):
            line = child.stdout.readline()
            assert line, child.stderr.read().decode() if child.stderr else "child died"
        time.sleep(0.003 * round_)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        stored = _versions(ctx)
        with ctx.sessions() as session:
            appended, _integrated = log.counters(session)
        assert appended == stored  # no version without its entry, no entry without its version
        assert integrate(ctx) == stored
        report = run_audit(ctx)
        assert report.clean, [f.as_dict() for f in report.findings]
        assert report.entries == stored
