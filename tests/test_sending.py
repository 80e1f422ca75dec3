"""When the bot's ✅ goes out relative to its replies (the policy, without a server; the
integration tests show the ✅ arriving for real)."""

from __future__ import annotations

import asyncio

import pytest

from bot.sending import MAX_DEFER_S, QUIET_S, Outgoing, SendQueues, _Room

ROOM = "!r:localhost"


def reply(n: int) -> Outgoing:
    return Outgoing(ROOM, {"body": f"reply {n}"})


def check(n: int) -> Outgoing:
    return Outgoing(ROOM, {"key": f"✅ {n}"}, event_type="m.reaction")


def queue_answer(room: _Room, n: int, at: float) -> None:
    room.last_put = at
    room.urgent.append(reply(n))
    room.later.append((check(n), at))


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
