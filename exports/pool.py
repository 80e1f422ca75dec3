"""The worker processes that build export files, sized to the bot's slow-work queue.

Kept apart from exports.build (which imports the format libraries) so the bot can size
and stop the pool without paying for those imports at start-up. Workers are spawned on
first use, not forked: the bot process has threads (aiosqlite, nio) a fork would copy.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

_size = 1
_pool: ProcessPoolExecutor | None = None


def configure(workers: int) -> None:
    """As many processes as the slow-work queue runs jobs at once (`runtime.slow_workers`):
    more would sit idle, fewer would make a started job wait for a process."""
    global _size
    if workers < 1:
        raise ValueError("at least one export worker is needed")
    if workers != _size:
        stop()
        _size = workers


def executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=_size,
                                    mp_context=multiprocessing.get_context("spawn"))
    return _pool


def stop() -> None:
    """End the workers now, mid-export if need be (on shutdown): an export's reply stays
    undelivered in the database and its file is built again at the next start, so
    waiting for a 100,000-record build would only delay the exit."""
    global _pool
    pool, _pool = _pool, None
    if pool is None:
        return
    processes = list((pool._processes or {}).values())  # no public way to end a busy worker
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)
