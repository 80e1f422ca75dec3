"""Deconfliction's lookup stays flat (issue 11): a `/seize` through the dispatcher with an
empty index, and with 1,000,000 indicators held by 500 other operations.

Each `/seize` reindexes its record and looks its keys up among every other operation
(storage/deconfliction.py: one seek per key in a WITHOUT ROWID B-tree). The million rows
(seizures and their index entries, as the bot would have written them) are built with
`executemany` in one transaction on the migrated database before the dispatcher opens it
(secondary indexes dropped and made again after, index keys in order: a bulk load).

Measured, on both databases: per-command latency of `/seize` (each a durable COMMIT) for
values nobody else holds, the two databases taking turns command by command so that the
load of a shared machine falls on both alike; and the lookup alone (`holders`, 2,000
calls in one transaction) for values nobody holds. On the full one also: the lookup of
values another operation holds, `/seize` of such values (a hit held for its grace
period), and the scheduler's turn that makes the held hits (two audited sides and two
outbox posts each). Target: full over empty near 1.

The clock moves as officers would (SECONDS_PER_SEIZE between commands, a hit every
MINUTES_PER_HIT), so the per-operation cap (commands/deconflict.py) is met as in use and
its bookkeeping is part of the measure, never a refusal.

OPSROOM_BENCH_SCALE=small: 50,000 indicators, for a quick run.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from commands import Settings, deconfliction_due
from storage import deconfliction as store
from storage.database import Database
from storage.tx import Tx
from tests.harness import OFFICER, Harness

SMALL = os.environ.get("OPSROOM_BENCH_SCALE") == "small"
OPERATIONS = 500
INDICATORS = 50_000 if SMALL else 1_000_000
COMMANDS = 400  # /seize per database, after WARMUP
WARMUP = 20
HITS = 100
LOOKUPS = 2000
SECONDS_PER_SEIZE = 15  # 240 lookups an hour: under the cap of 300
MINUTES_PER_HIT = 7  # under the cap of 10 hits an hour
STAMP = "2026-11-24T12:00:00Z"


def _value(op: int, i: int) -> str:
    return f"host{i}.op{op}.example"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _fill(path: Path) -> float:
    """OPERATIONS operations holding INDICATORS domains between them, indexed."""
    started = time.perf_counter()
    per_op = INDICATORS // OPERATIONS
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")  # a bulk load: nothing to recover from
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        key = bytes(conn.execute("SELECT secret FROM deconfliction_secret").fetchone()[0])
        rows = [((op - 1) * per_op + i, op, i, _value(op, i))
                for op in range(1, OPERATIONS + 1) for i in range(1, per_op + 1)]
        keys = sorted((store.digest(key, "domain", value), op, row_id)
                      for row_id, op, _seq, value in rows)
        conn.execute("BEGIN")
        secondary = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND "
            "tbl_name IN ('seizures', 'deconfliction_index')").fetchall()
        for name, _ in secondary:
            conn.execute(f"DROP INDEX {name}")
        conn.executemany(
            "INSERT INTO operations (id, room_id, name, code, tz, tlp, created_by, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'UTC', 'AMBER', '@lead:bench', ?, ?)",
            ((op, f"!op{op}:bench", f"Operation {op}", f"OP{op}", STAMP, STAMP)
             for op in range(1, OPERATIONS + 1)))
        conn.executemany(
            "INSERT INTO seizures (id, op_id, seq, type, value, tlp, created_by, created_at, "
            "updated_at) VALUES (?, ?, ?, 'domain', ?, 'AMBER', '@officer:bench', ?, ?)",
            ((row_id, op, seq, value, STAMP, STAMP) for row_id, op, seq, value in rows))
        conn.executemany("INSERT INTO deconfliction_index (key, op_id, tbl, row_id) "
                         "VALUES (?, ?, 'seizures', ?)", keys)
        conn.executemany("INSERT INTO counters (op_id, kind, last) VALUES (?, 'S', ?)",
                         ((op, per_op) for op in range(1, OPERATIONS + 1)))
        for _, sql in secondary:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return time.perf_counter() - started


async def _seize(h: Harness, value: str, after: timedelta = timedelta(seconds=SECONDS_PER_SEIZE)
                 ) -> float:
    h.clock.advance(seconds=after.total_seconds())
    started = time.perf_counter()
    reply = await h.send(f"!seize domain {value}", sender=OFFICER)
    assert reply.ok, reply.text
    return time.perf_counter() - started


async def _open(tmp: Path, filled: bool) -> tuple[Harness, float]:
    db_path = tmp / "data" / "opsroom.db"
    await (await Database.open(db_path)).close()  # migrated
    built = _fill(db_path) if filled else 0.0
    h = await Harness.open(tmp, Settings(deconfliction=True))
    await h.setup_operation()
    return h, built


async def _lookups(h: Harness, values: list[str]) -> float:
    """Seconds per `holders` call (one key), all in one transaction."""
    async def run(tx: Tx) -> float:
        key = await store.secret(tx)
        digests = [store.digest(key, "domain", v) for v in values]
        started = time.perf_counter()
        for d in digests:
            await store.holders(tx, [d], 0)
        return (time.perf_counter() - started) / len(digests)

    return await h.db.read(run)


def _ms(values: list[float], p: float) -> float:
    return round((statistics.median(values) if p == 0.5 else _pct(values, p)) * 1000, 2)


async def main() -> dict[str, object]:
    per_op = INDICATORS // OPERATIONS
    held = [_value(1 + (k * 7) % OPERATIONS, 1 + (k * 13) % per_op) for k in range(LOOKUPS)]
    with tempfile.TemporaryDirectory() as tmp:
        empty, _ = await _open(Path(tmp) / "empty", filled=False)
        full, built = await _open(Path(tmp) / "full", filled=True)
        size_mb = (Path(tmp) / "full" / "data" / "opsroom.db").stat().st_size / 1e6
        try:
            times: dict[str, list[float]] = {"empty": [], "full": []}
            for i in range(WARMUP + COMMANDS):
                for name, h in (("empty", empty), ("full", full)):
                    spent = await _seize(h, f"new{i}.bench.example")
                    if i >= WARMUP:
                        times[name].append(spent)
            absent = [f"absent{k}.bench.example" for k in range(LOOKUPS)]
            lookup_empty = await _lookups(empty, absent)
            lookup_full = await _lookups(full, absent)
            lookup_found = await _lookups(full, held)
            hits = [await _seize(full, value, timedelta(minutes=MINUTES_PER_HIT))
                    for value in held[:HITS]]
            full.clock.advance(hours=1)
            started = time.perf_counter()
            posts = await full.db.write(lambda tx: deconfliction_due(tx, full.clock.now()))
            released = time.perf_counter() - started
            made = await full.db.read(lambda tx: tx.scalar(
                "SELECT COUNT(*) FROM deconfliction_hits"))
            assert made == HITS and len(posts) == 2 * HITS, (made, len(posts))
            indexed = await full.db.read(lambda tx: tx.scalar(
                "SELECT COUNT(*) FROM deconfliction_index"))
        finally:
            await empty.close()
            await full.close()
    return {
        "indicators_in_other_operations": INDICATORS,
        "other_operations": OPERATIONS,
        "index_rows_full": indexed,
        "build_s": round(built, 1),
        "database_mb": round(size_mb),
        "seize_ms_p50_empty_index": _ms(times["empty"], 0.5),
        "seize_ms_p50_full_index": _ms(times["full"], 0.5),
        "full_over_empty_p50": round(statistics.median(times["full"])
                                     / statistics.median(times["empty"]), 2),
        "seize_ms_p99_empty_index": _ms(times["empty"], 0.99),
        "seize_ms_p99_full_index": _ms(times["full"], 0.99),
        "lookup_us_empty_index": round(lookup_empty * 1e6, 1),
        "lookup_us_full_index": round(lookup_full * 1e6, 1),
        "lookup_us_full_index_found": round(lookup_found * 1e6, 1),
        "seize_with_hit_ms_p50_full_index": _ms(hits, 0.5),
        "seize_with_hit_ms_p99_full_index": _ms(hits, 0.99),
        "release_ms_per_hit": round(released / HITS * 1000, 2),
    }


if __name__ == "__main__":
    print(asyncio.run(main()))
