"""The action-day board with 500 takedowns in 3 agencies, every status present.
Target: drawn (PNG) in < 1 s.

Measured two ways: the drawing alone in this process (exports.charts.board, what the
target is about), and /board's whole slow part as the bot runs it — rows read, drawn with
its thumbnail in a warm worker process, bytes back — which is what an officer waits for.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bigop import ROOM, build
from exports import chart_input, charts, pool
from exports.board import make_board, read_board
from storage.database import Database

RUNS = 5
NOW = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
STATUSES = ("planned", "go", "done", "failed", "aborted")


def _spread(path: Path) -> None:
    """bigop's takedowns all sit at H in one agency: spread them over the day and the
    agencies, each status a fifth, as on a busy action day."""
    raw = sqlite3.connect(path)
    with raw:
        for seq in range(1, 501):
            status = STATUSES[seq % 5]
            minute = (seq * 7) % 360
            planned = f"2026-11-25T{3 + minute // 60:02d}:{minute % 60:02d}:00Z"
            done = (f"2026-11-25T{3 + (minute + 9) // 60:02d}:{(minute + 9) % 60:02d}:00Z"
                    if status != "planned" else None)
            raw.execute("UPDATE takedowns SET status=?, planned_at=?, executed_at=?, "
                        "updated_at=?, agency=? WHERE op_id=1 AND seq=?",
                        (status, planned, done if status == "done" else None,
                         done or planned, ("FR-A", "DE-A", "NL-A")[seq % 3], seq))
    raw.close()


def _ms(values: list[float]) -> tuple[float, float]:
    return round(statistics.median(values) * 1000, 1), round(max(values) * 1000, 1)


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = await build(Path(tmp) / "board.db", seizures=500, tasks=10, arrests=10)
        _spread(path)
        db = await Database.open(path)

        found = await read_board(db, ROOM, NOW, "RED")  # every takedown, whatever its level
        assert found is not None
        data = found[1]
        assert len(data.takedowns) == 500
        assert set(chart_input.status_counts(data.takedowns)) == set(STATUSES)
        charts.board(data)  # fonts and caches warm, as in a worker that drew before
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        draws, thumbs = [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            picture = charts.board(data)
            draws.append(time.perf_counter() - start)
            start = time.perf_counter()
            charts.thumbnail(picture)
            thumbs.append(time.perf_counter() - start)
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before

        await make_board(db, ROOM, NOW)  # the worker process starts and imports matplotlib
        whole = []
        for _ in range(RUNS):
            start = time.perf_counter()
            made = await make_board(db, ROOM, NOW)
            whole.append(time.perf_counter() - start)
        assert made is not None and sum(made.statuses.values()) == 500
        await db.close()
        pool.stop()
    draw_p50, draw_max = _ms(draws)
    whole_p50, whole_max = _ms(whole)
    return {
        "draw_500_takedowns_ms_p50": draw_p50,
        "draw_500_takedowns_ms_max": draw_max,
        "target_ms": 1000,
        "thumbnail_ms_p50": _ms(thumbs)[0],
        "board_command_slow_part_ms_p50": whole_p50,
        "board_command_slow_part_ms_max": whole_max,
        "png": f"{picture.width}x{picture.height} px, {len(picture.data) // 1024} KiB",
        # Peak memory added by drawing RUNS more boards: flat, or a worker leaks per board.
        "peak_rss_growth_over_runs_mb": round(rss_growth / 1024, 1),
    }


if __name__ == "__main__":
    print(asyncio.run(main()))
