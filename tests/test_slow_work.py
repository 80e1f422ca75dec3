"""The slow-work queue's policy (bot.slow_work), with jobs the test releases by hand; the
integration test shows the bot answering another room while an export waits."""

from __future__ import annotations

import asyncio

import pytest

from bot.slow_work import SlowWork


class Jobs:
    """Jobs that start, then wait until the test finishes them; records the order."""

    def __init__(self, queue: SlowWork) -> None:
        self.queue = queue
        self.started: list[str] = []
        self.finished: list[str] = []
        self._release: dict[str, asyncio.Event] = {}

    def submit(self, room: str, key: str, fail: bool = False) -> int | None:
        release = self._release[key] = asyncio.Event()

        async def run() -> None:
            self.started.append(key)
            await release.wait()
            if fail:
                raise RuntimeError("the build broke")
            self.finished.append(key)

        return self.queue.submit(room, key, run)

    async def finish(self, key: str) -> None:
        self._release[key].set()
        await settle()


async def settle() -> None:
    for _ in range(5):  # let the released job end and the next ones start
        await asyncio.sleep(0)


async def test_jobs_of_one_room_run_one_at_a_time_in_the_order_submitted() -> None:
    jobs = Jobs(SlowWork(workers=4))
    for key in ("a1", "a2", "a3"):
        jobs.submit("!a", key)
    await settle()
    assert jobs.started == ["a1"], "a room's second export waits for its first"
    await jobs.finish("a1")
    assert jobs.started == ["a1", "a2"]
    await jobs.finish("a2")
    await jobs.finish("a3")
    assert jobs.finished == ["a1", "a2", "a3"]
    await jobs.queue.wait_idle()


async def test_no_more_jobs_run_at_once_than_there_are_workers() -> None:
    jobs = Jobs(SlowWork(workers=2))
    for room in ("!a", "!b", "!c", "!d"):
        jobs.submit(room, room + "1")
    await settle()
    assert jobs.started == ["!a1", "!b1"] and jobs.queue.running() == 2
    await jobs.finish("!b1")
    assert jobs.started == ["!a1", "!b1", "!c1"] and jobs.queue.running() == 2
    await jobs.finish("!a1")
    await jobs.finish("!c1")
    await jobs.finish("!d1")
    assert sorted(jobs.finished) == ["!a1", "!b1", "!c1", "!d1"]
    assert len(jobs.queue) == 0


async def test_a_busy_room_does_not_keep_a_free_worker_from_another_room() -> None:
    jobs = Jobs(SlowWork(workers=2))
    jobs.submit("!a", "a1")
    jobs.submit("!a", "a2")  # waits for a1, though a worker is free
    assert jobs.submit("!b", "b1") == 0, "b starts at once on the free worker"
    await settle()
    assert jobs.started == ["a1", "b1"]
    await jobs.finish("a1")
    assert jobs.started == ["a1", "b1", "a2"]


async def test_a_job_that_waits_is_told_how_many_are_ahead_of_it() -> None:
    jobs = Jobs(SlowWork(workers=1))
    assert jobs.submit("!a", "a1") == 0, "nothing ahead: it starts, no queued notice"
    assert jobs.submit("!b", "b1") == 1
    assert jobs.submit("!a", "a2") == 2
    assert jobs.submit("!c", "c1") == 3
    await settle()
    await jobs.finish("a1")
    assert jobs.submit("!d", "d1") == 3, "a1 is done: b1 runs, a2 and c1 wait before it"
    await jobs.finish("b1")
    await jobs.finish("a2")
    await jobs.finish("c1")
    await jobs.finish("d1")
    assert jobs.finished == ["a1", "b1", "a2", "c1", "d1"]


async def test_the_same_command_offered_twice_runs_once() -> None:
    """The sync redelivers a command whose reply was not sent, and the restart resends it."""
    jobs = Jobs(SlowWork(workers=1))
    assert jobs.submit("!a", "$export") == 0
    assert jobs.queue.submit("!a", "$export", _never) is None
    await settle()
    await jobs.finish("$export")
    assert jobs.started == ["$export"] and jobs.finished == ["$export"]


async def test_a_failing_job_does_not_stop_the_queue() -> None:
    jobs = Jobs(SlowWork(workers=1))
    jobs.submit("!a", "a1", fail=True)
    jobs.submit("!a", "a2")
    await settle()
    await jobs.finish("a1")
    await jobs.finish("a2")
    assert jobs.finished == ["a2"]
    await jobs.queue.wait_idle()


async def test_closing_cancels_running_jobs_and_drops_waiting_ones() -> None:
    """Their replies stay undelivered in the database; the next start offers them again."""
    jobs = Jobs(SlowWork(workers=1))
    jobs.submit("!a", "a1")
    jobs.submit("!b", "b1")
    await settle()
    await asyncio.wait_for(jobs.queue.close(), 1)
    assert jobs.started == ["a1"] and jobs.finished == [] and len(jobs.queue) == 0
    with pytest.raises(RuntimeError):
        jobs.submit("!c", "c1")


def test_a_queue_needs_a_worker() -> None:
    with pytest.raises(ValueError):
        SlowWork(workers=0)


async def _never() -> None:
    raise AssertionError("a duplicate must not run")
