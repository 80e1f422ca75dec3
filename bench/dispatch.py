"""Durable acknowledged mutations per second through the dispatcher, and per-command
parse + dispatch latency. Target: >= 2,000 mutations/s on one operation."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.harness import OFFICER, Harness

CONCURRENT = 200
TOTAL = 6000
SEQUENTIAL = 1000


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness.open(Path(tmp))
        await h.setup_operation()
        latencies: list[float] = []

        async def sender(worker: int) -> None:
            for i in range(TOTAL // CONCURRENT):
                start = time.perf_counter()
                reply = await h.send(f'!task add "task {worker}-{i}" priority=high',
                                     sender=OFFICER)
                latencies.append(time.perf_counter() - start)
                assert reply.ok, reply.text

        start = time.perf_counter()
        await asyncio.gather(*(sender(w) for w in range(CONCURRENT)))
        concurrent_rate = TOTAL / (time.perf_counter() - start)

        sequential: list[float] = []
        start = time.perf_counter()
        for i in range(SEQUENTIAL):
            t0 = time.perf_counter()
            await h.send(f'!task add "seq {i}"', sender=OFFICER)
            sequential.append(time.perf_counter() - t0)
        sequential_rate = SEQUENTIAL / (time.perf_counter() - start)
        stored = await h.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM tasks"))
        assert stored == TOTAL + SEQUENTIAL
        await h.close()
    return {
        "mutations_per_s_200_concurrent": round(concurrent_rate),
        "mutations_per_s_sequential": round(sequential_rate),
        "target_mutations_per_s": 2000,
        "dispatch_ms_p50_sequential": round(statistics.median(sequential) * 1000, 2),
        "dispatch_ms_p99_sequential": round(_pct(sequential, 0.99) * 1000, 2),
        "dispatch_ms_p50_concurrent": round(statistics.median(latencies) * 1000, 2),
        "dispatch_ms_p99_concurrent": round(_pct(latencies, 0.99) * 1000, 2),
    }


if __name__ == "__main__":
    print(asyncio.run(main()))
