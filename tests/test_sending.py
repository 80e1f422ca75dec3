"""When the bot's ✅ goes out relative to its replies, how much it queues, and how it
retries (the policy, without a server; the integration tests show the ✅ arriving for
real)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from nio import RoomSendError, RoomSendResponse

from bot.sending import MAX_ATTEMPTS, MAX_DEFER_S, QUIET_S, Outgoing, SendQueues, _Quiet, _Room

ROOM = "!r:localhost"


def reply(n: int, room: str = ROOM) -> Outgoing:
    return Outgoing(room, {"body": f"reply {n}"})


def check(n: int, room: str = ROOM) -> Outgoing:
    return Outgoing(room, {"key": f"✅ {n}"}, event_type="m.reaction")


def queue_answer(room: _Room, n: int, at: float, room_id: str = ROOM) -> None:
    room.quiet.last_put = at
    room.urgent.append(reply(n, room_id))
    room.later.append((check(n, room_id), at))


def test_the_check_mark_follows_once_the_room_is_quiet() -> None:
    room = _Room()
    queue_answer(room, 1, at=0.0)
    assert room.next(0.0) is not None and room.next(0.0) is None  # the reply, then wait
    assert room.wait_for(0.0) == QUIET_S
    assert room.next(QUIET_S - 0.01) is None
    assert room.next(QUIET_S).content == {"key": "✅ 1"}


def test_replies_to_new_commands_go_before_held_check_marks() -> None:
    room = _Room()
    queue_answer(room, 1, at=0.0)
    room.next(0.0)
    queue_answer(room, 2, at=0.1)  # the next command came in before the room was quiet
    assert room.next(0.2).content == {"body": "reply 2"}
    assert room.next(0.2) is None and room.wait_for(0.2) == pytest.approx(QUIET_S - 0.1)
    sent = [room.next(0.1 + QUIET_S).content, room.next(0.1 + QUIET_S).content]
    assert sent == [{"key": "✅ 1"}, {"key": "✅ 2"}]  # in order, once quiet


def test_a_check_mark_waits_no_longer_than_the_cap_and_then_one_at_a_time() -> None:
    room = _Room()
    t = 0.0
    for n in range(100):  # a storm: a command every 0.1 s, never quiet
        queue_answer(room, n, at=t)
        assert room.next(t).content == {"body": f"reply {n}"}
        if t >= MAX_DEFER_S:
            # overdue: one ✅ between two replies, the oldest first, never a batch
            late = room.next(t)
            assert late is not None and late.event_type == "m.reaction"
            assert room.next(t) is None
        else:
            assert room.next(t) is None
        t = round(t + 0.1, 1)


def test_on_shutdown_nothing_is_held_back() -> None:
    room = _Room()
    queue_answer(room, 1, at=0.0)
    room.next(0.0)
    room.flush = True
    assert room.next(0.0).content == {"key": "✅ 1"}
    assert room.wait_for(0.0) is None


def test_a_reply_in_another_room_holds_the_check_mark_back_too() -> None:
    quiet = _Quiet()
    a, b = _Room(quiet), _Room(quiet)
    queue_answer(a, 1, at=0.0, room_id="!a:localhost")
    assert a.next(0.0).content == {"body": "reply 1"}
    queue_answer(b, 2, at=0.2, room_id="!b:localhost")  # room a is quiet, the bot is not
    assert b.next(0.2).content == {"body": "reply 2"}
    assert a.next(QUIET_S) is None
    assert a.wait_for(QUIET_S) == pytest.approx(0.2)
    assert a.next(0.2 + QUIET_S).content == {"key": "✅ 1"}


def test_twenty_busy_rooms_write_one_event_per_command_until_the_burst_is_over() -> None:
    """Each of 20 rooms gets a command every second, staggered, for 4 s: each room is
    quiet for most of the time, the bot never is."""
    quiet = _Quiet()
    rooms = [_Room(quiet) for _ in range(20)]
    commands = written = 0
    ticks = int((MAX_DEFER_S - 1) * 100)  # 10 ms each
    for tick in range(ticks):
        t = tick / 100
        if tick % 5 == 0:  # a command every 0.05 s, each room in turn: one a second per room
            i = (tick // 5) % 20
            queue_answer(rooms[i], commands, at=t, room_id=f"!{i}:localhost")
            commands += 1
        for room in rooms:
            while room.next(t) is not None:
                written += 1
    assert commands == 80
    assert written <= 1.2 * commands, f"{written} events for {commands} commands"
    assert not any(room.urgent for room in rooms)  # every reply went at once
    later = ticks / 100 + QUIET_S
    after = sum(1 for room in rooms for _ in iter(lambda r=room: r.next(later), None))
    assert written + after == 2 * commands  # then every ✅ follows


class FakeClient:
    """Stands in for nio's client: records what is sent, answers as told."""

    def __init__(self, answers: list[Any] | None = None) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.answers = answers or []
        self.gate: asyncio.Event | None = None
        self.rooms: dict[str, Any] = {}

    async def room_send(self, room_id: str, event_type: str, content: dict, **_: Any) -> Any:
        if self.gate is not None:
            await self.gate.wait()
        if self.answers:
            return self.answers.pop(0)
        self.sent.append((room_id, content))
        return RoomSendResponse(f"$e{len(self.sent)}", room_id)


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_idle_rooms_give_back_their_worker_and_get_one_again_on_demand() -> None:
    client = FakeClient()
    queues = SendQueues(client, idle_s=0.05)  # type: ignore[arg-type]
    for i in range(200):
        queues.put(reply(i, f"!{i}:localhost"))
    await wait_until(lambda: len(client.sent) == 200)
    await wait_until(lambda: not queues._rooms and not queues._workers)
    queues.put(reply(1000, "!7:localhost"))  # a room that was idle speaks again
    await wait_until(lambda: len(client.sent) == 201)
    assert client.sent[-1] == ("!7:localhost", {"body": "reply 1000"})
    await queues.close()


async def test_a_full_queue_holds_intake_back_and_loses_nothing() -> None:
    client = FakeClient()
    client.gate = asyncio.Event()  # the homeserver is not taking anything yet
    queues = SendQueues(client, room_cap=3, total_cap=5)  # type: ignore[arg-type]
    for n in range(4):
        queues.put(reply(n))
    intake = asyncio.create_task(queues.room_for(ROOM))
    other_room = asyncio.create_task(queues.room_for("!other:localhost"))
    await asyncio.sleep(0.05)
    assert not intake.done(), "the room is over its cap: the next command must wait"
    assert other_room.done(), "another room is not held up while the total is below its cap"
    for n in range(4, 6):
        queues.put(reply(n, "!other:localhost"))
    assert queues.depth() >= 5
    blocked = asyncio.create_task(queues.room_for("!third:localhost"))
    await asyncio.sleep(0.05)
    assert not blocked.done(), "over the total cap every room waits"
    client.gate.set()
    await asyncio.wait_for(asyncio.gather(intake, blocked), 5)
    await queues.close()
    assert sorted(c["body"] for _, c in client.sent) == [f"reply {n}" for n in range(6)]


async def test_rate_limit_answers_are_waited_out_without_using_up_attempts() -> None:
    limited = [RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=20)
               for _ in range(MAX_ATTEMPTS + 4)]
    client = FakeClient(answers=limited)
    queues = SendQueues(client)  # type: ignore[arg-type]
    started = time.monotonic()
    queues.put(reply(1))
    await wait_until(lambda: len(client.sent) == 1, timeout=10)
    assert time.monotonic() - started >= 0.02 * (MAX_ATTEMPTS + 4)  # as long as asked
    await queues.close()


async def test_other_errors_still_give_up_after_the_attempts() -> None:
    failing = [RoomSendError("oops", "M_LIMIT_EXCEEDED_NOT", retry_after_ms=1)
               for _ in range(MAX_ATTEMPTS)]
    client = FakeClient(answers=failing)
    queues = SendQueues(client)  # type: ignore[arg-type]
    queues.put(reply(1))
    queues.put(reply(2))
    await wait_until(lambda: len(client.sent) == 1, timeout=10)
    assert client.sent == [(ROOM, {"body": "reply 2"})]  # the first was given up on
    await queues.close()


class UnreachableHomeserver:
    """A client whose requests never come back, as with a homeserver that is unreachable."""

    async def room_send(self, *args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()


async def test_closing_stops_waiting_for_an_unreachable_homeserver_and_marks_nothing_sent(
) -> None:
    queues = SendQueues(UnreachableHomeserver())  # type: ignore[arg-type]
    delivered: list[str] = []

    async def done() -> None:
        delivered.append("reply")

    queues.put(Outgoing(ROOM, {"body": "reply"}, done=done))
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await queues.close(deadline=0.2)
    assert loop.time() - started < 1
    assert delivered == [], "still owed: sent at the next start"
