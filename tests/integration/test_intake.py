"""Nothing sent to the bot is missed: a backlog after downtime, a burst bigger than one sync
returns, and a command the bot cannot decrypt yet, across a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice

from bot import runtime
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


async def operation_rooms(lead: TestClient, bot_user: str, count: int) -> list[str]:
    rooms = []
    for n in range(count):
        room = await lead.create_room(invite=[bot_user])
        await lead.wait_joined(room, bot_user)
        await lead.command(room, f'!op init "Operation Backlog {n}" code=BL{n}')
        rooms.append(room)
    return rooms


def reply_target(event: Any) -> str | None:
    content = event.source.get("content", {})
    return content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")


async def answered_histories(client: TestClient, rooms: list[str], commands: list[str],
                             timeout: float = 120.0) -> dict[str, list[Any]]:
    """Each room's whole history once every command in it has a readable reply (a sync
    alone would show only the latest events of a busy room), and a little longer, so
    anything answered twice would be there too."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await client.sync(1000)  # the bot's room keys
        histories = {room: await client.history(room) for room in rooms}
        answered = {reply_target(e) for events in histories.values() for e in events
                    if isinstance(e, RoomMessageNotice)}
        missing = set(commands) - answered
        if not missing:
            await asyncio.sleep(2)
            return {room: await client.history(room) for room in rooms}
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(missing)} of {len(commands)} commands unanswered")


def answered_in_order(events: list[Any], commands: list[str]) -> list[str]:
    """The commands the replies in `events` answer, in the order the replies came."""
    wanted = set(commands)
    return [target for e in events if (target := reply_target(e)) in wanted
            and isinstance(e, RoomMessageNotice)]


def task_numbers(events: list[Any], commands: list[str]) -> list[int]:
    replies = {reply_target(e): e.body for e in events if isinstance(e, RoomMessageNotice)}
    return [int(re.search(r"T-(\d+) created", replies[c])[1]) for c in commands]


async def test_commands_sent_while_the_bot_was_down_are_each_answered_once_in_order(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                sections=NO_RATE_LIMIT)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        rooms = await operation_rooms(lead, config.matrix.user_id, 3)
    sent: dict[str, list[str]] = {room: [] for room in rooms}
    for i in range(200):  # far more per room than one sync's timeline holds
        room = rooms[i % 3]
        sent[room].append(await lead.send_text(room, f'!task add "backlog {i}"'))
    everything = [e for ids in sent.values() for e in ids]
    async with running_bot(config) as bot:
        histories = await answered_histories(lead, rooms, everything)
        tasks = await bot.db.read(lambda tx: tx.all(
            "SELECT o.room_id, t.seq, t.text FROM tasks t JOIN operations o ON o.id=t.op_id "
            "ORDER BY o.room_id, t.seq"))
    assert len(tasks) == 200, "each command applied exactly once"
    for room, ids in sent.items():
        assert answered_in_order(histories[room], ids) == ids, \
            "one reply per command, in the order the commands were sent"
        assert task_numbers(histories[room], ids) == list(range(1, len(ids) + 1))
        texts = [t["text"] for t in tasks if t["room_id"] == room]
        assert texts == [f"backlog {rooms.index(room) + 3 * k}" for k in range(len(ids))]
    await lead.close()


@pytest.mark.parametrize("first_sync", ["replayed", "fresh"])
async def test_without_its_sync_state_the_bot_resumes_each_room_where_it_stopped(
        synapse: LocalSynapse, unique: str, tmp_path: Path, first_sync: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync token file lost (a restore from backup, a disk problem): the rooms' marks
    in the database say where each room was left, so nothing is missed or redone.

    Synapse answers a first sync repeated within two minutes from its cache, so the
    restarted bot is first replayed the old run's syncs ("replayed"); with another filter
    it gets a fresh first sync and pages back to the mark ("fresh")."""
    config = await register_bot(synapse, unique, tmp_path / "bot", sections=NO_RATE_LIMIT)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        [room] = await operation_rooms(lead, config.matrix.user_id, 1)
        _, before = await lead.command(room, '!task add "before the loss"')
    (config.data_dir / "runtime_state.json").unlink()
    missed = [await lead.send_text(room, f'!task add "while down {i}"') for i in range(70)]
    if first_sync == "fresh":
        fresh = {"room": {**runtime.SYNC_FILTER["room"], "timeline": {"limit": 20}}}
        monkeypatch.setattr(runtime, "SYNC_FILTER", fresh)
    async with running_bot(config) as bot:
        histories = await answered_histories(lead, [room], missed)
        tasks = await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks ORDER BY seq"))
    assert answered_in_order(histories[room], [before, *missed]) == [before, *missed]
    assert [t["text"] for t in tasks] == ["before the loss"] + [
        f"while down {i}" for i in range(70)]
    await lead.close()


class BusyBot(Bot):
    """The bot, held between two syncs while `free` is clear: what a busy bot looks like
    to the homeserver, so that everything sent meanwhile arrives in one sync."""

    free: asyncio.Event

    async def _after_sync(self) -> None:
        await super()._after_sync()
        await self.free.wait()


async def test_a_burst_bigger_than_one_sync_is_all_answered(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                sections=NO_RATE_LIMIT)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    BusyBot.free = asyncio.Event()
    BusyBot.free.set()
    async with running_bot(config, bot_class=BusyBot) as bot:
        [room] = await operation_rooms(lead, config.matrix.user_id, 1)
        BusyBot.free.clear()
        burst = [await lead.send_text(room, f'!task add "burst {i}"') for i in range(120)]
        BusyBot.free.set()
        histories = await answered_histories(lead, [room], burst, timeout=90)
        count = await bot.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM tasks"))
    assert answered_in_order(histories[room], burst) == burst
    assert task_numbers(histories[room], burst) == list(range(1, 121))
    assert count == 120
    await lead.close()


async def test_a_command_the_bot_cannot_decrypt_is_answered_after_a_restart(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                sections=NO_RATE_LIMIT)
    config = dataclasses.replace(config, undecryptable_timeout=6.0)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config) as bot:
        bot_user, bot_device = bot.client.user_id, bot.client.device_id
        room = await lead.create_room(invite=[bot_user, officer.user_id])
        await officer.nio.join(room)
        await lead.wait_joined(room, bot_user)
        await lead.wait_joined(room, officer.user_id)
        await lead.command(room, '!op init "Operation Sealed" code=SEALED')
        # The officer's client keeps its room key from the bot: the bot sees the command
        # but cannot read it.
        while bot_device not in officer.nio.device_store[bot_user]:
            await officer.sync()
            await officer.nio.joined_members(room)
            if officer.nio.should_query_keys:
                await officer.nio.keys_query()
        officer.nio.blacklist_device(officer.nio.device_store[bot_user][bot_device])
        sealed = await officer.send_text(room, '!task add "sealed"')
        await lead.command(room, "!help")  # answered: so the bot has seen the sealed one
        assert officer.replies_to(sealed) == []
    started = asyncio.get_running_loop().time()
    async with running_bot(config):
        notice = await officer.wait_for(lambda r, e: is_reply_to(e, sealed), timeout=60)
        waited = asyncio.get_running_loop().time() - started
        for _ in range(2):
            await officer.sync(500)
    assert "could not decrypt" in notice.body
    assert waited >= 6.0, "the keys had their time to arrive after the restart"
    assert len(officer.replies_to(sealed)) == 1
    await lead.close()
    await officer.close()
