"""Intake speed: a 20,000-line aggregate-national-data declaration.

Measures, in one run and on the same machine:

* parse + validate + store of the declaration (JSON, through the same
  ``parse_upload`` and ``do_submit_declaration`` as the API), against a raw
  ``executemany`` insert of the same rows into a plain table: on SQLite, and
  on PostgreSQL when one is reachable (goal: at most 3x the raw insert);
* parsing the same declaration as XLSX, in rows per second (goal: at least
  20,000 rows/s), against iterating the same workbook with bare openpyxl.

Usage: ``.venv/bin/python benchmarks/intake.py [--rows 20000] [--repeat 5]``.
PostgreSQL is taken from VERITRAIL_BENCH_DATABASE_URL or
VERITRAIL_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
from sqlalchemy.engine import make_url

from veritrail.access import OPERATOR
from veritrail.actions import Context, do_submit_declaration
from veritrail.declarations.intake import parse_upload
from veritrail.reference import all_states
from veritrail.regimes import registry
from veritrail.settings import Settings
from veritrail.store.migrate import upgrade

COLUMNS = ("cas", "activity", "partner_state", "quantity", "unit")


def make_lines(n: int, seed: int = 20_000) -> list[dict[str, str]]:
    rng = random.Random(seed)
    schedules = registry().regime("cwc").lists["schedules"]
    chemicals = [
        e.code
        for e in schedules.entries
        if str(schedules.attribute(e, "schedule")) in ("2A*", "2A", "2B", "3A", "3B")
    ]
    partners = [s.alpha3 for s in all_states()]
    seen: set[tuple[str, str, str]] = set()
    lines: list[dict[str, str]] = []
    while len(lines) < n:
        key = (rng.choice(chemicals), rng.choice(("import", "export")), rng.choice(partners))
        if key in seen:
            continue
        seen.add(key)
        lines.append(
            {
                "cas": key[0],
                "activity": key[1],
                "partner_state": key[2],
                "quantity": str(rng.randint(1, 9000) * 10),
                "unit": "t",
            }
        )
    return lines


def document(lines: list[dict[str, str]], period: int, state: str = "FRA") -> dict[str, Any]:
    return {
        "format": "veritrail.declaration/1",
        "regime": "cwc",
        "type": "adnd",
        "period": period,
        "state": state,
        "data": {"lines": lines},
    }


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def median(runs: list[float]) -> float:
    return statistics.median(runs)


def raw_sqlite(path: Path, rows: list[tuple[str, ...]]) -> float:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw_lines "
        "(cas TEXT, activity TEXT, partner TEXT, quantity TEXT, unit TEXT)"
    )
    con.execute("DELETE FROM raw_lines")
    con.commit()

    def insert() -> None:
        con.executemany("INSERT INTO raw_lines VALUES (?, ?, ?, ?, ?)", rows)
        con.commit()

    elapsed = timed(insert)
    con.close()
    return elapsed


def raw_postgres(url: str, rows: list[tuple[str, ...]]) -> float:
    with psycopg.connect(url) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS raw_lines "
            "(cas TEXT, activity TEXT, partner TEXT, quantity TEXT, unit TEXT)"
        )
        con.execute("TRUNCATE raw_lines")
        con.commit()

        def insert() -> None:
            with con.cursor() as cur:
                cur.executemany("INSERT INTO raw_lines VALUES (%s, %s, %s, %s, %s)", rows)
            con.commit()

        return timed(insert)


def ours(ctx: Context, lines: list[dict[str, str]], period: int) -> float:
    data = json.dumps(document(lines, period)).encode()

    def run() -> None:
        parsed = parse_upload(data, "adnd.json", registry=ctx.registry, limits=ctx.settings)
        do_submit_declaration(
            ctx, actor=OPERATOR, parsed=parsed, original=data, filename="adnd.json"
        )

    return timed(run)


def compare(
    label: str, ctx: Context, raw: Callable[[], float], lines: list[dict[str, str]], repeat: int
) -> None:
    raw_runs = [raw() for _ in range(repeat)]
    our_runs = [ours(ctx, lines, 2000 + i) for i in range(repeat)]
    r, o = median(raw_runs), median(our_runs)
    print(
        f"{label:<11} raw executemany {r * 1000:8.1f} ms | parse+validate+store "
        f"{o * 1000:8.1f} ms | ratio {o / r:5.2f}x (goal <= 3x)"
    )


def xlsx_bytes(lines: list[dict[str, str]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    head = book.create_sheet("declaration")
    for row in (("regime", "cwc"), ("type", "adnd"), ("period", 2024), ("state", "FRA")):
        head.append(row)
    sheet = book.create_sheet("lines")
    sheet.append(COLUMNS)
    for line in lines:
        sheet.append([line[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx(lines: list[dict[str, str]], repeat: int) -> None:
    data = xlsx_bytes(lines)
    settings = Settings()

    def bare() -> None:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                pass
        book.close()

    def veritrail() -> None:
        parse_upload(data, "adnd.xlsx", registry=registry(), limits=settings)

    b = median([timed(bare) for _ in range(repeat)])
    v = median([timed(veritrail) for _ in range(repeat)])
    n = len(lines)
    print(
        f"xlsx        bare openpyxl {n / b:9,.0f} rows/s | Veritrail parse {n / v:9,.0f} rows/s"
        f" | ratio {v / b:5.2f}x of bare reading (goal >= 20,000 rows/s)"
    )


def postgres_url() -> str | None:
    url = (
        os.environ.get("VERITRAIL_BENCH_DATABASE_URL")
        or os.environ.get("VERITRAIL_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.Error as exc:
        print(f"postgresql  skipped: not reachable at {url} ({exc.__class__.__name__})")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines = make_lines(args.rows)
    rows = [tuple(line[c] for c in COLUMNS) for line in lines]
    print(f"{args.rows:,} ADND lines, median of {args.repeat} runs")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        ctx = Context.from_settings(settings)
        upgrade(ctx.engine)
        compare(
            "sqlite", ctx, lambda: raw_sqlite(Path(tmp) / "raw.sqlite3", rows), lines, args.repeat
        )
        ctx.close()
        url = postgres_url()
        if url:
            pg = make_url(url).set(drivername="postgresql+psycopg")
            with psycopg.connect(url, autocommit=True) as con:
                con.execute("DROP DATABASE IF EXISTS veritrail_bench WITH (FORCE)")
                con.execute("CREATE DATABASE veritrail_bench")
            bench_url = pg.set(database="veritrail_bench").render_as_string(hide_password=False)
            ctx = Context.from_settings(
                Settings(data_dir=Path(tmp) / "pgdata", database_url=bench_url)
            )
            upgrade(ctx.engine)
            plain = (
                make_url(url).set(database="veritrail_bench").render_as_string(hide_password=False)
            )
            compare("postgresql", ctx, lambda: raw_postgres(plain, rows), lines, args.repeat)
            ctx.close()
    xlsx(lines, args.repeat)


if __name__ == "__main__":
    main()
