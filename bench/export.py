"""Export time and peak memory for an operation with 100,000 seizures, in every format,
and the latency of other commands while an export runs. Target: < 5 s per format.

Memory two ways: the Python heap of one export (tracemalloc, in this process), and the
peak resident size of a fresh worker process making it, next to the same for a
100-seizure operation; the difference is what the size of the operation costs.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import resource
import statistics
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.bigop import ROOM, build
from commands import Dispatcher, Incoming, Settings
from exports.build import FORMATS, _make, build_export
from storage import witness
from storage.database import Database, read_only_sync

_ids = itertools.count()


async def _probe(dispatcher: Dispatcher, stop: asyncio.Event, latencies: list[float]) -> None:
    """A member keeps asking `!op` while the export runs; how long do they wait?"""
    while not stop.is_set():
        start = time.perf_counter()
        reply = await dispatcher.handle(Incoming(ROOM, "@lead:x", f"$probe{next(_ids)}", "!op",
                                                 datetime.now(UTC), 100))
        assert reply.ok, reply.text
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)


def _rss_after_make(path: str, fmt: str, out: str) -> float:
    _make(Path(path), ROOM, fmt, "RED", "2026-11-25T06:00:00Z", Path(out))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _worker_peak_mb(path: Path, fmt: str, out: Path) -> float:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return round(pool.submit(_rss_after_make, str(path), fmt, str(out)).result(), 1)


async def main() -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = await build(Path(tmp) / "big.db", tasks=100, arrests=100, takedowns=500)
        small = await build(Path(tmp) / "small.db", seizures=100, tasks=10, arrests=10,
                            takedowns=5)
        # The records witness every export runs first (part of each format's time below).
        with read_only_sync(path) as conn:
            start = time.perf_counter()
            found = witness.check_sync(conn, ROOM)
            results["witness_check_s"] = round(time.perf_counter() - start, 2)
            assert not found.mismatches, found.mismatches[:3]
        db = await Database.open(path)
        dispatcher = Dispatcher(db, Settings())
        for fmt in FORMATS:
            latencies: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.create_task(_probe(dispatcher, stop, latencies))
            start = time.perf_counter()
            attachment, snap = await build_export(db, ROOM, fmt, "RED", datetime.now(UTC))
            elapsed = time.perf_counter() - start
            stop.set()
            await probe
            # Memory separately, in this process (the export itself runs in a worker).
            tracemalloc.start()
            _make(path, ROOM, fmt, "RED", "2026-11-25T06:00:00Z", Path(tmp) / f"mem.{fmt}")
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results[f"{fmt}_size_mb"] = round(attachment.size / 2**20, 1)
            attachment.discard()
            results[f"{fmt}_s"] = round(elapsed, 2)
            results[f"{fmt}_peak_mb"] = round(peak / 2**20, 1)
            results[f"{fmt}_worker_rss_mb"] = _worker_peak_mb(path, fmt, Path(tmp) / f"w.{fmt}")
            results[f"{fmt}_worker_rss_100_seizures_mb"] = _worker_peak_mb(
                small, fmt, Path(tmp) / f"s.{fmt}")
            results[f"{fmt}_other_command_p50_ms"] = round(statistics.median(latencies) * 1000, 1)
            results[f"{fmt}_other_command_max_ms"] = round(max(latencies) * 1000, 1)
            assert snap.seizures == 100_000
        await db.close()
    results["target_s"] = 5
    return results


if __name__ == "__main__":
    print(asyncio.run(main()))
