"""Transparency-log speed, each figure against a baseline measured in the same run.

* Durable appends with batching: envelopes appended in transactions of
  ``--batch`` entries, each batch committed (SQLite WAL; PostgreSQL when
  reachable) and integrated into tiles with a signed checkpoint; entries per
  second (goal: at least 10,000/s), against a raw ``executemany`` of the same
  bytes into a plain table.
* Inclusion proofs in a log of ``--proof-size`` entries (default 10,000,000)
  built through the same append and integrate code: p50/p95/max per proof read
  from the database tiles (goal: under 1 ms), against one primary-key read of
  a tile row.
* Full verification of a ``--verify-size`` log (default 1,000,000) from its
  exported files, as ``veritrail verify log --dir`` does it (signature, every
  entry bundle and tile, root), against hashing the same entry bytes with
  hashlib alone (goal: at most 3x).

Usage: ``.venv/bin/python benchmarks/ledger.py [--appends 50000] [--batch 1000]
[--proof-size 10000000] [--verify-size 1000000]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from veritrail.actions import Context
from veritrail.ledger import merkle, tiles
from veritrail.ledger.envelope import Envelope
from veritrail.ledger.logcheck import check_log
from veritrail.settings import Settings
from veritrail.store import log
from veritrail.store.migrate import upgrade
from veritrail.store.models import LedgerTile

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def envelopes(n: int, start: int = 0) -> list[bytes]:
    moment = datetime(2026, 11, 21, tzinfo=UTC)
    return [
        Envelope(
            record_type="declaration",
            record_id=f"D-{i:016X}",
            version=1 + i % 3,
            content_sha256=hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
            organisation=f"na-{i % 193:03d}",
            time=moment,
            files={"original": hashlib.sha256(b"o" + i.to_bytes(8, "big")).hexdigest()},
        ).to_bytes()
        for i in range(start, start + n)
    ]


def make_ctx(directory: Path, url: str | None) -> Context:
    settings = Settings(data_dir=directory, database_url=url)
    ctx = Context.from_settings(settings)
    upgrade(ctx.engine)
    return ctx


def append_all(ctx: Context, entries: list[bytes], batch: int) -> None:
    signer = ctx.log_signer()
    for start in range(0, len(entries), batch):
        chunk = entries[start : start + batch]
        with ctx.sessions() as session, session.begin():
            log.append(
                session,
                [
                    log.PendingEntry(e, "declaration", f"D-{start + k}", 1)
                    for k, e in enumerate(chunk)
                ],
            )
        with ctx.sessions() as session, session.begin():
            log.integrate(session, signer=signer, origin=signer.name)


def raw_sqlite(path: Path, entries: list[bytes], batch: int) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE raw (idx INTEGER PRIMARY KEY, entry BLOB)")
    for start in range(0, len(entries), batch):
        with connection:
            connection.executemany(
                "INSERT INTO raw VALUES (?, ?)",
                ((start + k, e) for k, e in enumerate(entries[start : start + batch])),
            )
    connection.close()


def raw_postgres(url: str, entries: list[bytes], batch: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_raw_log")
        connection.execute("CREATE TABLE bench_raw_log (idx BIGINT PRIMARY KEY, entry BYTEA)")
        for start in range(0, len(entries), batch):
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_raw_log VALUES (%s, %s)",
                    [(start + k, e) for k, e in enumerate(entries[start : start + batch])],
                )
        connection.execute("DROP TABLE bench_raw_log")


def fresh_pg_database(base: str) -> str | None:
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as connection:
            connection.execute("DROP DATABASE IF EXISTS veritrail_bench_ledger WITH (FORCE)")
            connection.execute("CREATE DATABASE veritrail_bench_ledger")
    except psycopg.Error:
        return None
    return make_url(base).set(database="veritrail_bench_ledger").render_as_string(False)


def bench_appends(args: argparse.Namespace, work: Path) -> None:
    entries = envelopes(args.appends)
    print(f"== durable appends: {len(entries):,} entries in batches of {args.batch}")
    started = time.perf_counter()
    raw_sqlite(work / "raw.sqlite3", entries, args.batch)
    raw = time.perf_counter() - started
    ctx = make_ctx(work / "sqlite", None)
    started = time.perf_counter()
    append_all(ctx, entries, args.batch)
    ours = time.perf_counter() - started
    ctx.close()
    print(
        f"SQLite:     ours {len(entries) / ours:,.0f} entries/s (append + tiles + signed "
        f"checkpoint per batch), raw executemany {len(entries) / raw:,.0f}/s, "
        f"ratio {ours / raw:.2f}x; goal >= 10,000/s: "
        f"{'met' if len(entries) / ours >= 10_000 else 'NOT met'}"
    )
    base = os.environ.get("VERITRAIL_BENCH_DATABASE_URL") or os.environ.get(
        "VERITRAIL_TEST_DATABASE_URL", PG_DEFAULT
    )
    url = fresh_pg_database(base)
    if url is None:
        print("PostgreSQL: not reachable, skipped")
        return
    ctx = make_ctx(work / "pg", url)
    started = time.perf_counter()
    raw_postgres(url, entries, args.batch)
    raw = time.perf_counter() - started
    started = time.perf_counter()
    append_all(ctx, entries, args.batch)
    ours = time.perf_counter() - started
    ctx.close()
    print(
        f"PostgreSQL: ours {len(entries) / ours:,.0f} entries/s, raw executemany "
        f"{len(entries) / raw:,.0f}/s, ratio {ours / raw:.2f}x; goal >= 10,000/s: "
        f"{'met' if len(entries) / ours >= 10_000 else 'NOT met'}"
    )


def bench_proofs(args: argparse.Namespace, work: Path) -> None:
    size = args.proof_size
    print(f"== inclusion proofs in a log of {size:,} entries")
    ctx = make_ctx(work / "proofs", None)
    started = time.perf_counter()
    step = 200_000
    with ctx.sessions() as session:
        already, _ = log.counters(session)
    if already not in (0, size):
        raise SystemExit(f"{work / 'proofs'} holds a log of {already} entries, not {size}")
    for start in range(already, size, step):
        chunk = envelopes(min(step, size - start), start)
        with ctx.sessions() as session, session.begin():
            log.append(
                session,
                [
                    log.PendingEntry(e, "declaration", f"D-{start + k}", 1)
                    for k, e in enumerate(chunk)
                ],
            )
        print(f"  built {start + len(chunk):,} entries", end="\r", flush=True)
    signer = ctx.log_signer()
    with ctx.sessions() as session, session.begin():
        log.integrate(session, signer=signer, origin=signer.name)
    print(f"  built and integrated in {time.perf_counter() - started:.0f} s        ")
    rng = random.Random(9162)
    indexes = [rng.randrange(size) for _ in range(args.proofs)]
    timings: list[float] = []
    baseline: list[float] = []
    with ctx.sessions() as session:
        root = merkle.tree_root(size, log.hash_reader(session, size))
        # Warm up as a running server is: the upper tiles get cached by earlier proofs.
        for index in (rng.randrange(size) for _ in range(args.proofs)):
            merkle.inclusion_proof(index, size, log.hash_reader(session, size, ctx.tile_cache))
        for index in indexes:
            started = time.perf_counter()
            proof = merkle.inclusion_proof(
                index, size, log.hash_reader(session, size, ctx.tile_cache)
            )
            timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            session.scalar(
                select(LedgerTile.hashes).where(
                    LedgerTile.level == 0, LedgerTile.idx == index // 256
                )
            )
            baseline.append(time.perf_counter() - started)
            entry = envelopes(1, index)[0]
            merkle.verify_inclusion(merkle.leaf_hash(entry), index, size, proof, root)
    ctx.close()
    timings.sort()
    baseline.sort()
    p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95)]
    b95 = baseline[int(len(baseline) * 0.95)]
    print(
        f"proof p50 {p50 * 1e3:.3f} ms, p95 {p95 * 1e3:.3f} ms, max {timings[-1] * 1e3:.3f} ms "
        f"(each verified); one tile-row read p95 {b95 * 1e3:.3f} ms, ratio {p95 / b95:.1f}x; "
        f"goal < 1 ms: {'met' if p95 < 1e-3 else 'NOT met'}"
    )


def bench_verify(args: argparse.Namespace, work: Path) -> None:
    size = args.verify_size
    print(f"== full verification of a {size:,}-entry log from its files")
    entries = envelopes(size)
    leaves = [merkle.leaf_hash(e) for e in entries]
    built = tiles.build_tiles(leaves)
    files: dict[str, bytes] = {}
    for tile_id in tiles.tiles_for_size(size):
        files[tile_id.path] = built[(tile_id.level or 0, tile_id.index)][: tile_id.width * 32]
    for bundle in tiles.entry_tiles_for_size(size):
        first = bundle.index * 256
        files[bundle.path] = tiles.encode_entry_bundle(entries[first : first + bundle.width])
    ctx = make_ctx(work / "verify", None)
    signer = ctx.log_signer()
    from veritrail.ledger.checkpoint import Checkpoint
    from veritrail.ledger.note import sign_note

    root = merkle.root_from_leaf_hashes(leaves)
    files["checkpoint"] = sign_note(Checkpoint(signer.name, size, root).body(), [signer]).encode()
    ctx.close()
    del leaves, built
    runs_ours: list[float] = []
    runs_base: list[float] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        sha256 = hashlib.sha256
        for entry in entries:
            sha256(entry).digest()
        runs_base.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = check_log(files.__getitem__, signer.verifier)
        runs_ours.append(time.perf_counter() - started)
        assert result.entries == size
    ours, base = statistics.median(runs_ours), statistics.median(runs_base)
    print(
        f"verify {ours:.2f} s ({size / ours:,.0f} entries/s), hashlib over the same entries "
        f"{base:.2f} s, ratio {ours / base:.2f}x; goal <= 3x: "
        f"{'met' if ours / base <= 3 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proof-size", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    parser.add_argument("--verify-size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("appends", "proofs", "verify"))
    parser.add_argument(
        "--workdir", type=Path, help="Keep the built logs here and reuse them in later runs."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veritrail-bench-ledger-") as tmp:
        work = Path(tmp)
        if args.only in (None, "appends"):
            bench_appends(args, work)
        if args.only in (None, "verify"):
            bench_verify(args, work)
        if args.only in (None, "proofs"):
            bench_proofs(args, args.workdir or work)


if __name__ == "__main__":
    main()
