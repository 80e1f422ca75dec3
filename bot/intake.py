"""Rooms in parallel, each strictly in order, and the sync token saved only behind them.

Why lanes: a command waits for its own commit (an fsync). Handled one after another, the
events of a sync never share a commit and a slow room holds up every other; handled room
by room in parallel, commits group across rooms (storage.database) while each room's
events still run one at a time, in timeline order.

Why checkpoints: the sync loop does not wait for a batch to be handled before it fetches
the next, but the token of a batch is saved only once that batch and every batch before
it is fully handled, so a crash at any point refetches whatever was not (the dispatcher's
event-id check makes the repeat harmless).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
ROOMS_AT_ONCE = 32
RETRIES = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds between attempts of a failing job


class _Lane:
    def __init__(self) -> None:
        self.jobs: deque[tuple[Job, asyncio.Future[bool]]] = deque()
        self.worker: asyncio.Task | None = None


class RoomLanes:
    """Per-room FIFO of jobs; at most `rooms_at_once` rooms run a job at the same time.

    A job that raises is tried again (RETRIES), since what fails here is the homeserver
    or the disk, not the event; its future says False if it never succeeded. A lane and
    its worker exist only while the room has work, so nothing here grows with the number
    of rooms the bot is in."""

    def __init__(self, rooms_at_once: int = ROOMS_AT_ONCE,
                 retries: tuple[float, ...] = RETRIES) -> None:
        self._slots = asyncio.Semaphore(rooms_at_once)
        self._retries = retries
        self._lanes: dict[str, _Lane] = {}
        self._queued = 0
        self._changed = asyncio.Event()

    @property
    def queued(self) -> int:
        """Jobs not finished yet, across all rooms."""
        return self._queued

    def put(self, room_id: str, job: Job) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        lane = self._lanes.get(room_id)
        if lane is None:
            lane = self._lanes[room_id] = _Lane()
        lane.jobs.append((job, future))
        self._queued += 1
        if lane.worker is None:
            lane.worker = asyncio.create_task(self._work(room_id, lane))
        return future

    async def below(self, limit: int) -> None:
        """Wait until fewer than `limit` jobs are queued (the sync loop's back-pressure)."""
        while self._queued >= limit:
            self._changed.clear()
            await self._changed.wait()

    async def idle(self) -> None:
        while self._queued:
            self._changed.clear()
            await self._changed.wait()

    async def stop(self, grace: float) -> None:
        """Let running jobs finish for up to `grace` seconds, then cancel what is left: an
        unfinished batch is fetched again at the next start, so nothing is lost."""
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            log.warning("stopping with %d room batches unhandled; they are fetched again "
                        "at the next start", self._queued)
        workers = [lane.worker for lane in self._lanes.values() if lane.worker]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            for _, future in lane.jobs:
                future.cancel()
        self._lanes.clear()

    async def _work(self, room_id: str, lane: _Lane) -> None:
        try:
            while lane.jobs:
                job, future = lane.jobs[0]
                async with self._slots:
                    ok = await self._attempt(room_id, job)
                lane.jobs.popleft()
                self._queued -= 1
                self._changed.set()
                if not future.done():
                    future.set_result(ok)
        finally:
            lane.worker = None
            if not lane.jobs and self._lanes.get(room_id) is lane:
                del self._lanes[room_id]

    async def _attempt(self, room_id: str, job: Job) -> bool:
        for wait in (*self._retries, None):
            try:
                await job()
                return True
            except Exception:
                if wait is None:
                    log.exception("giving up on a batch of room %s", room_id)
                    return False
                log.warning("handling a batch of room %s failed; trying again in %.0f s",
                            room_id, wait, exc_info=True)
                await asyncio.sleep(wait)
        return False


class Checkpoints:
    """Saves each batch's sync token once the batch and all earlier ones are handled.

    If a batch could not be handled, no later token is saved in this run: the next start
    then fetches from before the failure and tries it again."""

    def __init__(self, save: Callable[[str], None]) -> None:
        self._save = save
        self._last: asyncio.Task | None = None
        self.broken = False

    def add(self, token: str, handled: Iterable[Awaitable[bool]]) -> None:
        previous, waits = self._last, list(handled)

        async def settle() -> None:
            results = await asyncio.gather(*waits)
            if previous is not None:
                await previous
            if not all(results) and not self.broken:
                self.broken = True
                log.error("a sync batch could not be fully handled: the sync position is "
                          "not saved any more in this run, so a restart fetches it again")
            if not self.broken:
                self._save(token)

        self._last = asyncio.create_task(settle())

    async def settled(self) -> None:
        if self._last is not None:
            await asyncio.gather(self._last, return_exceptions=True)

    async def cancel(self) -> None:
        if self._last is not None and not self._last.done():
            self._last.cancel()
        await self.settled()


class BoundedTasks:
    """Background coroutines, at most `limit` running at once (joins), cancellable as one."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Future[bool]:
        async def bounded() -> bool:
            try:
                async with self._slots:
                    await coro
                return True
            except Exception:
                log.exception("background task failed")
                return False

        task = asyncio.create_task(bounded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: coro.close())  # cancelled before it ever ran
        return task

    async def cancel(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
