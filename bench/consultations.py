"""What the consultation log costs a command that shows records: p50 latency of `/task list`
and `/op` through the dispatcher with the log row (as declared) and without it (the
declaration's `shows` cleared for the run), on an operation with 500 tasks."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from commands import DECLARED_COMMANDS
from tests.harness import OFFICER, Harness

TASKS = 500
RUNS = 400
COMMANDS = {("task", "list"): "!task list all", ("op",): "!op"}


async def _p50(h: Harness, line: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        reply = await h.send(line, sender=OFFICER)
        times.append(time.perf_counter() - start)
        assert reply.ok, reply.text
    return round(statistics.median(times) * 1000, 2)


async def main() -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness.open(Path(tmp))
        await h.setup_operation()
        h.dispatcher.room_members = lambda room: [f"@member{n}:x" for n in range(30)]
        for n in range(TASKS):
            await h.send(f'!task add "task {n}"', sender=OFFICER)
        for path, line in COMMANDS.items():
            name = "_".join(path)
            command = DECLARED_COMMANDS[path]
            verb = command.shows
            results[f"{name}_ms_p50_with_log_row"] = await _p50(h, line)
            command.shows = None
            try:
                results[f"{name}_ms_p50_without_log_row"] = await _p50(h, line)
            finally:
                command.shows = verb
        rows = await h.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM consult_log"))
        assert rows == RUNS * len(COMMANDS), rows
        size = await h.db.read(lambda tx: tx.scalar(
            "SELECT SUM(pgsize) FROM dbstat WHERE name='consult_log'"))
        results["bytes_per_row"] = round(size / rows) if size else None
        await h.close()
    return results
