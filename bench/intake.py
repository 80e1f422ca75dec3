"""Intake after downtime and restart with many rooms, through a local Synapse.

- backlog: 1,000 commands sent to 10 operation rooms while the bot is down; from the
  restart until every one has its reply (goal < 30 s), each answered and applied once.
- invites: a command in a joined room while 299 invites arrive at once (goal: within 1 s;
  joins run in the background).
- restart: with 300 rooms joined, a command sent while the bot is down; from the start of
  the process's work until its reply, opsroom against a bare nio echo bot restarted the
  same way, in the same rooms, taking turns (goal: within 10%).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.echo import ResumableEcho
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.integration.matrix_helpers import (
    ENCRYPTION,
    NO_RATE_LIMIT,
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

BACKLOG = 1000
BACKLOG_ROOMS = 10
MANY_ROOMS = 300
RESTARTS = 3
# The observer sees whole timelines, so a busy room's replies are not cut off in its syncs.
WHOLE_TIMELINE = {"room": {"timeline": {"limit": 1000}, "state": {"lazy_load_members": True}}}


def reply_target(event: Any) -> str | None:
    content = event.source.get("content", {})
    return content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")


async def watch_replies(client: TestClient, commands: set[str], started: float,
                        sender: str, timeout: float = 300.0) -> tuple[float, float, Counter]:
    """Seconds from `started` to the first and to the last command's reply from `sender`,
    and the replies per command, following the client's syncs."""
    counts: Counter = Counter()
    first = last = 0.0
    seen = len(client.events)
    deadline = time.perf_counter() + timeout
    while not all(counts[c] for c in commands):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{sum(1 for c in commands if not counts[c])} unanswered")
        await client.sync(1000, sync_filter=WHOLE_TIMELINE)
        now = time.perf_counter() - started
        for _, event in client.events[seen:]:
            target = reply_target(event)
            if target in commands and event.sender == sender:
                counts[target] += 1
                first = first or now
                last = now
        seen = len(client.events)
    return first, last, counts


async def backlog(tmp: Path) -> dict[str, Any]:
    async with LocalSynapse(tmp / "synapse") as hs:
        user = await make_client(hs, "bench-lead", tmp)
        config = await register_bot(hs, "backlog", tmp / "bot",
                                    sections=NO_RATE_LIMIT)
        echo = await make_client(hs, "bench-echo", tmp)
        rooms = []
        async with running_bot(config):
            for n in range(BACKLOG_ROOMS):
                room = await user.create_room(invite=[config.matrix.user_id, echo.user_id])
                await echo.nio.join(room)
                await user.wait_joined(room, config.matrix.user_id)
                await user.command(room, f'!op init "Operation Backlog {n}" code=BL{n}')
                rooms.append(room)
        commands = [await user.send_text(rooms[i % BACKLOG_ROOMS], f'!task add "backlog {i}"')
                    for i in range(BACKLOG)]
        await user.sync(0, sync_filter=WHOLE_TIMELINE)  # what was sent is behind us
        started = time.perf_counter()
        async with running_bot(config) as bot:
            handled = asyncio.create_task(_all_handled(bot, set(commands), started))
            first, last, counts = await watch_replies(user, set(commands), started,
                                                      config.matrix.user_id)
            handled_s = await handled
            seen = len(user.events)
            await asyncio.sleep(3)  # a second answer would arrive by now
            await user.sync(1000, sync_filter=WHOLE_TIMELINE)
            counts.update(t for _, e in user.events[seen:] if (t := reply_target(e)) in counts
                          and e.sender == config.matrix.user_id)
            recorded = await bot.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM tasks"))
        # The homeserver's share: a bare client posting the same 1,000 replies, a room at
        # a time per sender as the bot does, all rooms at once.
        started = time.perf_counter()
        await asyncio.gather(*(_post_replies(echo, room, commands[n::BACKLOG_ROOMS])
                               for n, room in enumerate(rooms)))
        _, bare, _ = await watch_replies(user, set(commands), started, echo.user_id)
        await echo.close()
        await user.close()
    twice = [c for c, n in counts.items() if n > 1]
    return {"backlog_commands": BACKLOG, "backlog_rooms": BACKLOG_ROOMS,
            "backlog_restart_to_all_handled_s": round(handled_s, 2),
            "backlog_restart_to_first_answer_s": round(first, 2),
            "backlog_restart_to_all_answered_s": round(last, 2),
            "backlog_answered_twice": len(twice), "backlog_tasks_recorded": recorded,
            "backlog_bare_client_posting_1000_replies_s": round(bare, 2)}


async def _post_replies(client: TestClient, room: str, commands: list[str]) -> None:
    await client.sync(0)  # the room and its members
    for event_id in commands:
        await client.nio.room_send(room, "m.room.message", {
            "msgtype": "m.notice", "body": "echo",
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}},
            ignore_unverified_devices=True)


async def _all_handled(bot: Bot, commands: set[str], started: float) -> float:
    """Seconds from `started` until every command is committed (its reply may still be on
    its way): separates the bot's own work from the homeserver's."""
    while True:
        done = await bot.db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM processed_events WHERE room_id IN "
            "(SELECT room_id FROM operations)"))
        if done >= len(commands) + BACKLOG_ROOMS:  # and the rooms' !op init
            return time.perf_counter() - started
        await asyncio.sleep(0.1)


async def _joined_everywhere(user: TestClient, rooms: list[str], members: list[str]) -> None:
    deadline = time.monotonic() + 600
    while True:
        await user.sync(1000)
        if all(user.has_joined(r, m) for r in rooms for m in members):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bots did not join every room")


async def restart_many_rooms(tmp: Path) -> dict[str, Any]:
    async with LocalSynapse(tmp / "synapse") as hs:
        user = await make_client(hs, "bench-lead", tmp)
        config = await register_bot(hs, "restart", tmp / "bot",
                                    sections=NO_RATE_LIMIT)
        await hs.register_user("echo", "pw-echo")
        echo = ResumableEcho(hs.base_url, "@echo:localhost", "pw-echo", tmp / "echo",
                             prefix="ping")
        await echo.start()
        bots = [config.matrix.user_id, "@echo:localhost"]
        # An officer in the first room only: what the lead's client sees is slowed by the
        # 300 rooms it creates, which an officer elsewhere would not notice.
        officer = await make_client(hs, "bench-officer", tmp)
        async with running_bot(config):
            rooms = [await user.create_room(invite=[*bots, officer.user_id])]
            await officer.nio.join(rooms[0])
            await officer.wait_joined(rooms[0], officer.user_id)
            await _joined_everywhere(user, rooms, [*bots, officer.user_id])
            await user.command(rooms[0], "!help")  # room keys shared both ways
            await officer.command(rooms[0], "!help")
            # A command while the other invites arrive, all at once.
            invited = time.perf_counter()
            for _ in range(0, MANY_ROOMS - 1, 50):
                created = await asyncio.gather(*(
                    user.nio.room_create(invite=bots, initial_state=[ENCRYPTION])
                    for _ in range(min(50, MANY_ROOMS - len(rooms)))))
                rooms += [r.room_id for r in created]
            started = time.perf_counter()
            await officer.command(rooms[0], "!help")
            during_invites = time.perf_counter() - started
            await _joined_everywhere(user, rooms, bots[:1])
            all_joined = time.perf_counter() - invited
            await _joined_everywhere(user, rooms, bots)
        await officer.close()
        await user.command(rooms[0], "ping")
        await echo.stop()
        times: dict[str, list[float]] = {"opsroom": [], "echo": []}
        for n in range(RESTARTS):
            room = rooms[(n + 1) * MANY_ROOMS // (RESTARTS + 1)]
            event_id = await user.send_text(room, "!help")
            started = time.perf_counter()
            bot = Bot(config)
            await bot.start()
            running = asyncio.create_task(bot.run())
            await user.wait_for(lambda r, e, c=event_id: is_reply_to(e, c), timeout=120)
            times["opsroom"].append(time.perf_counter() - started)
            bot.request_stop()
            await running

            event_id = await user.send_text(room, f"ping {n}")
            started = time.perf_counter()
            await echo.start()
            await user.wait_for(lambda r, e, c=event_id: is_reply_to(e, c), timeout=120)
            times["echo"].append(time.perf_counter() - started)
            await echo.stop()
        await user.close()
    ops, base = statistics.median(times["opsroom"]), statistics.median(times["echo"])
    return {"command_while_invites_arrive_s": round(during_invites, 2),
            "invites_sent_to_all_joined_s": round(all_joined, 2),
            "restart_rooms_joined": MANY_ROOMS,
            "restart_to_first_answer_opsroom_s": round(ops, 2),
            "restart_to_first_answer_echo_s": round(base, 2),
            "restart_to_first_answer_ratio": round(ops / base, 2),
            "restart_to_first_answer_opsroom_each_s": [round(t, 2) for t in times["opsroom"]],
            "restart_to_first_answer_echo_each_s": [round(t, 2) for t in times["echo"]]}


async def main() -> dict:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        result.update(await backlog(Path(tmp_name) / "backlog"))
    with tempfile.TemporaryDirectory() as tmp_name:
        result.update(await restart_many_rooms(Path(tmp_name) / "restart"))
    return result


if __name__ == "__main__":
    print(asyncio.run(main()))
