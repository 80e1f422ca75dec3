"""Sitrep render time and memory on a large operation, and how close to its slot a
scheduled sitrep is posted. Targets: render < 250 ms; post within 2 s of the slot."""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bigop import ROOM, build
from bot.scheduler import SitrepScheduler
from commands import Clock
from commands import produce_sitrep as produce
from storage.database import Database


class _Sink:
    def __init__(self, db: Database) -> None:
        self.db, self.clock = db, Clock()
        self.posted_at: datetime | None = None
        self.posted = asyncio.Event()

    def audience(self, room_id: str) -> tuple[str, tuple[str, ...]]:
        return "@bench:x", ()

    async def post(self, room_id: str, text: str, html: str, extra: dict | None = None,
                   lang: str | None = None) -> None:
        if text.startswith("SITREP") and self.posted_at is None:  # not the reminders
            self.posted_at = datetime.now(UTC)
            self.posted.set()


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = await build(Path(tmp) / "big.db")
        db = await Database.open(path)
        op = await db.read(lambda tx: tx.one("SELECT * FROM operations WHERE room_id=?",
                                             (ROOM,)))
        times = []
        tracemalloc.start()
        for _ in range(5):
            start = time.perf_counter()
            reply = await db.write(lambda tx: produce(tx, op, datetime.now(UTC)))
            times.append(time.perf_counter() - start)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert reply is not None and "100,000" in reply.text  # in English, as Babel writes it

        # Scheduling accuracy: a real AsyncIOScheduler cron job at the next minute.
        now = datetime.now(UTC)
        await db.write(lambda tx: tx.execute(
            "INSERT INTO sitrep_schedules (op_id, kind, spec, tz, anchor, created_by, created_at)"
            " VALUES (1, 'cron', '* * * * *', 'UTC', ?, '@lead:x', ?)",
            (now.strftime("%Y-%m-%dT%H:%M:%SZ"),) * 2))
        sink = _Sink(db)
        sched = SitrepScheduler(language="en")
        await sched.start(sink)  # type: ignore[arg-type]
        slot = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
        wait = (slot - datetime.now(UTC)).total_seconds() + 20
        try:
            await asyncio.wait_for(sink.posted.wait(), wait)
        except TimeoutError:
            pass
        await sched.stop()
        await db.close()
    delay = (sink.posted_at - slot).total_seconds() if sink.posted_at else None
    return {
        "render_ms_p50": round(sorted(times)[len(times) // 2] * 1000, 1),
        "render_ms_max": round(max(times) * 1000, 1),
        "target_ms": 250,
        "tracemalloc_peak_mb": round(peak / 2**20, 2),
        "scheduled_post_delay_s": round(delay, 2) if delay is not None else "not posted",
        "target_delay_s": 2,
    }


if __name__ == "__main__":
    print(asyncio.run(main()))
