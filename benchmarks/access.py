"""Cost of the access policy on listing: 10,000 records visible out of 1,000,000.

Fills a SQLite database (and PostgreSQL when reachable) with 1,000,000
declarations of 195 states. One national authority's viewer may see exactly
10,000 of them: its own state's 9,000 (at every classification) and 1,000
public declarations of other states; every other declaration is restricted or
above. Then measures in the same run:

* with the policy: ``list_declarations`` as that viewer (the policy's SQL over
  state, classification and need-to-know groups), every page of its 10,000;
* without it: a plain query on the viewer's state alone (one index walk, no
  classification or group logic), the same number of pages of the same size,
  turned into the same public models.

Both page with the ``before`` cursor, as the list endpoint does. The figure is
the p95 latency of a page each way, and their ratio (goal: the policy adds at
most 10%). The search endpoint arrives with the archive; it will be measured
here then.

Usage: ``.venv/bin/python benchmarks/access.py [--records 1000000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, select, tuple_
from sqlalchemy.engine import make_url

from veritrail.access import Actor, Role
from veritrail.actions import Context
from veritrail.queries import list_declarations
from veritrail.queries.declarations import declaration_public
from veritrail.reference import all_states
from veritrail.settings import Settings
from veritrail.store.migrate import upgrade
from veritrail.store.models import Declaration

MINE = "FRA"
LEVELS = ("public", "restricted", "protected", "highly_protected")


def fill(ctx: Context, records: int, mine: int, shared: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    others = [s.alpha3 for s in all_states() if s.alpha3 != MINE]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    batch: list[dict[str, object]] = []
    picked = rng.sample(range(records), mine + shared)
    own, public = set(picked[:mine]), set(picked[mine:])
    with ctx.engine.begin() as conn:
        for i in range(records):
            at = start + timedelta(minutes=i)
            batch.append(
                {
                    "id": f"D-{i:016X}",
                    "regime": "cwc",
                    "type": "adnd",
                    "state": MINE if i in own else rng.choice(others),
                    "period": 2015 + i % 10,
                    "status": "submitted",
                    "classification": (
                        rng.choice(LEVELS)
                        if i in own
                        else "public"
                        if i in public
                        else rng.choice(LEVELS[1:])
                    ),
                    "current_version": 1,
                    "nothing_to_declare": False,
                    "created_at": at,
                    "created_by": "bench",
                    "first_submitted_at": at,
                    "updated_at": at,
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(Declaration), batch)
                batch.clear()
        if batch:
            conn.execute(insert(Declaration), batch)


def p95(runs: list[float]) -> float:
    return statistics.quantiles(runs, n=20)[18]


def measure(label: str, ctx: Context, rounds: int) -> None:
    """p95 over every page of the viewer's records, walked with the ``before`` cursor."""
    viewer = Actor(username="viewer", role=Role.NA_VIEWER, state=MINE)
    now = datetime.now(UTC)

    def with_policy(before: tuple[datetime, str] | None) -> tuple[datetime, str] | None:
        rows = list_declarations(ctx, actor=viewer, limit=100, before=before)
        return (rows[-1].updated_at, rows[-1].id) if rows else None

    def without_policy(before: tuple[datetime, str] | None) -> tuple[datetime, str] | None:
        query = select(Declaration).where(Declaration.state == MINE)
        if before is not None:
            query = query.where(tuple_(Declaration.updated_at, Declaration.id) < tuple_(*before))
        query = query.order_by(Declaration.updated_at.desc(), Declaration.id.desc()).limit(100)
        with ctx.sessions() as session:
            rows = [declaration_public(ctx, row, now) for row in session.scalars(query)]
        return (rows[-1].updated_at, rows[-1].id) if rows else None

    def walk(
        func: Callable[[tuple[datetime, str] | None], tuple[datetime, str] | None],
        pages: int | None = None,
    ) -> list[float]:
        times: list[float] = []
        cursor: tuple[datetime, str] | None = None
        while pages is None or len(times) < pages:
            start = time.perf_counter()
            cursor = func(cursor)
            times.append(time.perf_counter() - start)
            if cursor is None:
                break
        return times

    pages = len(walk(with_policy))  # every page of what the viewer sees; warms caches
    walk(without_policy, pages)
    plain: list[float] = []
    policed: list[float] = []
    for _ in range(rounds):  # interleaved, so drift hits both alike
        plain += walk(without_policy, pages)
        policed += walk(with_policy)
    a, b = p95(plain), p95(policed)
    print(
        f"{label:<11} list, p95 of {len(plain):,} pages: without policy {a * 1000:6.2f} ms | "
        f"with policy {b * 1000:6.2f} ms | policy adds {100 * (b / a - 1):+5.1f}% "
        "(goal <= +10%)"
    )


def postgres_url() -> str | None:
    url = (
        os.environ.get("VERITRAIL_BENCH_DATABASE_URL")
        or os.environ.get("VERITRAIL_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as con:
            con.execute("DROP DATABASE IF EXISTS veritrail_bench_access WITH (FORCE)")
            con.execute("CREATE DATABASE veritrail_bench_access")
    except psycopg.Error as exc:
        print(f"postgresql  skipped: not reachable at {url} ({exc.__class__.__name__})")
        return None
    return (
        make_url(url)
        .set(drivername="postgresql+psycopg", database="veritrail_bench_access")
        .render_as_string(False)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--mine", type=int, default=9_000, help="the viewer's own state's")
    parser.add_argument("--shared", type=int, default=1_000, help="other states' public ones")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    visible = args.mine + args.shared
    print(f"{args.records:,} declarations, {visible:,} visible to one national viewer")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", Settings(data_dir=Path(tmp) / "sqlite"))]
        url = postgres_url()
        if url:
            targets.append(("postgresql", Settings(data_dir=Path(tmp) / "pg", database_url=url)))
        for label, settings in targets:
            ctx = Context.from_settings(settings)
            upgrade(ctx.engine)
            start = time.perf_counter()
            fill(ctx, args.records, args.mine, args.shared)
            if ctx.engine.dialect.name == "postgresql":
                with ctx.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            print(f"{label:<11} filled in {time.perf_counter() - start:.0f} s")
            measure(label, ctx, args.rounds)
            ctx.close()


if __name__ == "__main__":
    main()
