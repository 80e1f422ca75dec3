"""Room lanes, checkpoints and cursors (bot.intake, bot.backfill) without a server: the
integration tests show them against Synapse; these pin the ordering and failure rules."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from nio import MessageDirection, RoomMessagesResponse, UnknownBadEvent

from bot.backfill import SKEW_MS, Cursor, GapFetcher
from bot.intake import BoundedTasks, Checkpoints, RoomLanes
from storage.intake import RoomMark


def event(event_id: str, ts: int) -> SimpleNamespace:
    return SimpleNamespace(event_id=event_id, server_timestamp=ts)


async def test_a_room_runs_its_jobs_one_at_a_time_in_order_while_rooms_run_side_by_side(
) -> None:
    lanes = RoomLanes(rooms_at_once=8)
    log: list[str] = []
    running: set[str] = set()
    overlap_in_room = False
    most_at_once = 0

    def job(room: str, n: int):
        async def run() -> None:
            nonlocal overlap_in_room, most_at_once
            overlap_in_room |= room in running
            running.add(room)
            most_at_once = max(most_at_once, len(running))
            await asyncio.sleep(0.01 * (3 - n))  # later jobs are quicker: order must hold
            log.append(f"{room}{n}")
            running.discard(room)
        return run

    futures = [lanes.put(room, job(room, n)) for n in range(3) for room in "abc"]
    assert all(await asyncio.gather(*futures))
    for room in "abc":
        assert [x for x in log if x[0] == room] == [f"{room}0", f"{room}1", f"{room}2"]
    assert not overlap_in_room
    assert most_at_once == 3
    assert lanes.queued == 0


async def test_no_more_rooms_run_at_once_than_allowed() -> None:
    lanes = RoomLanes(rooms_at_once=2)
    running = 0
    most = 0

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    await asyncio.gather(*(lanes.put(f"room{i}", job) for i in range(10)))
    assert most == 2


async def test_a_failing_job_is_tried_again_and_reports_whether_it_succeeded() -> None:
    lanes = RoomLanes(retries=(0.0, 0.0))
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 2:
            raise ConnectionError("homeserver hiccup")

    async def broken() -> None:
        raise RuntimeError("always")

    assert await lanes.put("a", flaky) is True and attempts == 2
    assert await lanes.put("a", broken) is False


async def test_stop_cancels_what_does_not_finish_in_time() -> None:
    lanes = RoomLanes()
    finished: list[str] = []

    async def quick() -> None:
        finished.append("quick")

    async def stuck() -> None:
        await asyncio.Event().wait()  # a request to a homeserver that never answers

    waits = [lanes.put("a", quick), lanes.put("b", stuck), lanes.put("b", quick)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    await lanes.stop(0.2)
    assert loop.time() - started < 1
    assert finished == ["quick"]
    assert waits[0].result() is True and waits[1].cancelled() and waits[2].cancelled()


async def test_a_token_is_saved_only_behind_every_earlier_batch() -> None:
    saved: list[str] = []
    checkpoints = Checkpoints(saved.append)
    first, second = asyncio.Event(), asyncio.Event()

    async def wait(gate: asyncio.Event) -> bool:
        await gate.wait()
        return True

    checkpoints.add("t1", [asyncio.ensure_future(wait(first))])
    checkpoints.add("t2", [asyncio.ensure_future(wait(second))])
    second.set()  # the later batch is done first
    await asyncio.sleep(0.01)
    assert saved == []
    first.set()
    await checkpoints.settled()
    assert saved == ["t1", "t2"]


async def test_after_a_batch_that_failed_no_token_is_saved_so_a_restart_retries_it() -> None:
    saved: list[str] = []
    checkpoints = Checkpoints(saved.append)

    async def outcome(ok: bool) -> bool:
        return ok

    checkpoints.add("t1", [outcome(True)])
    checkpoints.add("t2", [outcome(False)])
    checkpoints.add("t3", [outcome(True)])
    await checkpoints.settled()
    assert saved == ["t1"] and checkpoints.broken


async def test_background_tasks_run_bounded_and_cancel_together() -> None:
    tasks = BoundedTasks(limit=2)
    running = 0
    most = 0

    async def join() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    assert all(await asyncio.gather(*(tasks.spawn(join()) for _ in range(6))))
    assert most == 2
    stuck = tasks.spawn(asyncio.Event().wait())
    await tasks.cancel()
    assert stuck.cancelled()


def test_cursor_skips_history_from_before_the_join() -> None:
    cursor = Cursor(floor_ts=1000)
    assert not cursor.admits(event("$old", 999))
    assert cursor.admits(event("$new", 1000))


def test_cursor_resumes_right_after_the_mark_when_the_mark_is_in_view() -> None:
    mark = RoomMark("$mark", 5_000_000)
    cursor = Cursor.after_mark(mark, mark_in_view=True)
    seen = [e.event_id for e in (event("$a", 4_000_000), event("$mark", 5_000_000),
                                 event("$skewed", 4_000_000), event("$b", 5_000_001))
            if cursor.admits(e)]
    assert seen == ["$skewed", "$b"], "after the mark even an event with an older clock"


def test_cursor_without_the_mark_in_view_resumes_a_little_before_its_time() -> None:
    mark = RoomMark("$mark", 5_000_000)
    cursor = Cursor.after_mark(mark, mark_in_view=False)
    assert cursor.admits(event("$near", 5_000_000 - SKEW_MS))
    assert not cursor.admits(event("$older", 5_000_000 - SKEW_MS - 1))


def test_a_room_without_a_mark_or_token_acts_on_nothing() -> None:
    assert not Cursor.nothing().admits(event("$x", 10**15))


async def test_paging_back_to_the_mark_passes_over_a_malformed_event() -> None:
    """A history event without an id or time (nio's UnknownBadEvent) between the gap and
    the mark does not stop the room from resuming at its mark."""
    page = [UnknownBadEvent({"type": "m.room.message"}), event("$newer", 2_000),
            event("$mark", 1_000)]

    class History:
        async def room_messages(self, room_id: str, start: str | None, end: str | None,
                                direction: MessageDirection, limit: int
                                ) -> RoomMessagesResponse:
            assert direction == MessageDirection.back and start == "gap-start"
            return RoomMessagesResponse(room_id, page, "gap-start", "before-mark")

    fetcher = GapFetcher(History())  # a stand-in for nio's AsyncClient
    assert await fetcher.start_at_mark("!r", "gap-start", RoomMark("$mark", 1_000)) == (
        "before-mark", True)
