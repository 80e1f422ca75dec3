"""Slow follow-ups of commands (building an export's file) off the path of every command.

A command's transaction commits in milliseconds; the file of a 100,000-record export takes
seconds. Run inline, that wait holds up every later event the runtime handles — other
rooms' commands included. Here such jobs wait in one queue instead:

- at most `workers` jobs run at once (each export occupies a worker process), so a flood
  of exports cannot starve the machine the bot and the homeserver share;
- a room runs one job at a time, in the order its commands were handled, so its files
  arrive in that order, and one room's flood cannot take every worker from the others;
  fast commands of the same room are not queued and answer meanwhile;
- the next job to start is the oldest one whose room has nothing running;
- a job is keyed by its command's event id: the same command offered twice (the sync
  redelivers it and the restart resends its unsent reply) runs once.

Jobs are not persisted here: a job's reply stays undelivered in the database until the
job's own reply is sent, so after a crash the runtime offers it again (Dispatcher.
undelivered). Pure asyncio, so the policy is tested without a homeserver.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    key: str  # the command's event id
    room_id: str
    run: Callable[[], Awaitable[None]]


class SlowWork:
    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one worker is needed")
        self.workers = workers
        self._waiting: list[Job] = []  # in the order submitted
        self._running: dict[str, asyncio.Task[None]] = {}  # by room
        self._keys: set[str] = set()  # of jobs waiting or running
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def __len__(self) -> int:
        """Jobs waiting or running (the queue's depth, for metrics)."""
        return len(self._keys)

    def submit(self, room_id: str, key: str, run: Callable[[], Awaitable[None]]
               ) -> int | None:
        """Queue a job. Returns 0 when it started at once, else how many jobs submitted
        before it are not done yet (running or waiting: what an officer is told is ahead
        of his export); None when a job with this key is already queued or running."""
        if key in self._keys:
            return None
        if self._closed:
            raise RuntimeError("the slow-work queue is closed")
        ahead = len(self._keys)
        self._keys.add(key)
        self._idle.clear()
        job = Job(key, room_id, run)
        self._waiting.append(job)
        self._start_next()
        return 0 if job not in self._waiting else ahead

    def running(self) -> int:
        return len(self._running)

    async def wait_idle(self) -> None:
        """Until nothing waits or runs (tests and benchmarks)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Drop what waits and cancel what runs: their replies stay undelivered in the
        database and are offered again at the next start."""
        self._closed = True
        for job in self._waiting:
            self._keys.discard(job.key)
        self._waiting.clear()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start_next(self) -> None:
        while len(self._running) < self.workers:
            job = next((j for j in self._waiting if j.room_id not in self._running), None)
            if job is None:
                break
            self._waiting.remove(job)
            self._running[job.room_id] = asyncio.create_task(self._run(job),
                                                             name=f"slow-work {job.key}")
        if not self._keys:
            self._idle.set()

    async def _run(self, job: Job) -> None:
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # the job reports its own failure; this keeps the queue going
            log.exception("slow job for %s in %s failed", job.key, job.room_id)
        finally:
            del self._running[job.room_id]
            self._keys.discard(job.key)
            if not self._closed:
                self._start_next()
            elif not self._running:
                self._idle.set()
