"""An erasure run over an operation with 100,000 sealed records (each with a key of its
own), step by step: the transaction that marks them (with their audit entries), the keys
destroyed, the hygiene (checkpoint, VACUUM, key store scrubbed) and the KEK rotation; and
the json and pdf export of the same operation before the erasure, every value opened.

The operation is bench.bigop's (100,000 seizures), its seizures' values then sealed under
keys of their own, as `/seize … subject=victim` would store them.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bigop import ROOM, T, audit_every_row, build
from bot import erasure as run
from commands import Dispatcher, Incoming, Settings
from exports.build import build_export
from storage import erasures
from storage.audit import Actor
from storage.database import Database
from storage.keystore import for_database, release
from storage.sealing import seal

SEIZURES = int(os.environ.get("BENCH_ERASURE_RECORDS", "100000"))


def _seal_all(path: Path) -> None:
    """Every seizure's value sealed under a key of its own (what sealing on insert does)."""
    keys = for_database(path)
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT id, value FROM seizures").fetchall()
        sealed = []
        for row_id, value in rows:
            key_id, aead = keys.new_key("seizures", "victim", "2026-11-24T12:00:00Z")
            sealed.append((seal(aead, key_id, "seizures", "value", value), key_id, row_id))
        keys.commit()
        with raw:
            raw.executemany("UPDATE seizures SET value=?, subject_key=?, "
                            "subject_category='victim' WHERE id=?", sealed)
            _audit_again(raw)
    finally:
        raw.close()
        release(path)


def _audit_again(raw: sqlite3.Connection) -> None:
    """The chain bench.bigop writes, again now that the values are sealed (the log keeps
    them as tokens), so the records witness every export runs first finds it intact."""
    raw.execute("DELETE FROM audit_log")
    raw.execute("DELETE FROM audit_heads")
    audit_every_row(raw)


async def main() -> dict:
    results: dict = {"records": SEIZURES}
    with tempfile.TemporaryDirectory() as tmp:
        path = await build(Path(tmp) / "big.db", seizures=SEIZURES, tasks=100, arrests=100,
                           takedowns=500)
        start = time.perf_counter()
        _seal_all(path)
        results["sealing_setup_s"] = round(time.perf_counter() - start, 2)
        db = await Database.open(path)
        try:
            for fmt in ("json", "pdf"):
                start = time.perf_counter()
                attachment, _ = await build_export(db, ROOM, fmt, "RED", datetime.now(UTC))
                results[f"export_{fmt}_sealed_s"] = round(time.perf_counter() - start, 2)
                attachment.discard()
            now = datetime(2027, 1, 1, tzinfo=UTC)
            db_mb = path.stat().st_size / 2**20
            results["db_mb_before"] = round(db_mb, 1)
            dispatcher = Dispatcher(db, Settings())
            start = time.perf_counter()
            reply = await dispatcher.handle(Incoming(ROOM, "@lead:x", "$erase",
                                                     '!erase victim "bench"', now, 100))
            assert reply.ok, reply.text
            results["erase_command_s"] = round(time.perf_counter() - start, 2)
            row = await db.read(lambda tx: tx.one("SELECT id FROM erasures"))
            assert row is not None
            erasure_id = row["id"]
            actor = Actor(ROOM, "@opsroom", f"opsroom:erasure:{erasure_id}", "bench", T)
            batches: list[float] = []
            while True:  # what finish does first, timed per batch (the writer's longest hold)
                start = time.perf_counter()
                if not await db.write(lambda tx: erasures.mark_batch(tx, erasure_id), actor):
                    break
                batches.append(time.perf_counter() - start)
            results["marking_s"] = round(sum(batches), 2)
            results["marking_batches"] = len(batches)
            results["marking_longest_batch_s"] = round(max(batches), 2)
            start = time.perf_counter()
            await run.finish(db, erasure_id, now)
            results["keys_hygiene_rotation_s"] = round(time.perf_counter() - start, 2)
            results["total_s"] = round(results["erase_command_s"] + results["marking_s"]
                                       + results["keys_hygiene_rotation_s"], 2)
            [state] = await db.read(lambda tx: tx.all("SELECT state FROM erasures"))
            assert state["state"] == "done"
            results["db_mb_after"] = round(path.stat().st_size / 2**20, 1)
            async with db.exclusive():  # the VACUUM's share of it, once more
                start = time.perf_counter()
                await db.compact()
                results["vacuum_again_s"] = round(time.perf_counter() - start, 2)
        finally:
            await db.close()
    return results
