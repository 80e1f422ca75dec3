"""What the people who run the bot rely on, against a real Synapse: the metrics scrape and
health check, the rate-limit answer, and the disk-full answer."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from bot.dev_homeserver import LocalSynapse
from tests.full_disk import FullDisk
from tests.integration.matrix_helpers import make_client, register_bot, running_bot
from tests.test_storage_full import LONG

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scrape(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text()


async def test_metrics_count_the_command_and_healthz_reports_the_sync(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    port = free_port()
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                {"metrics": {"listen": f"127.0.0.1:{port}"}})
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        reply, _ = await lead.command(room, '!op init "Operation Gauge" code=GAUGE')
        assert "GAUGE" in reply.body
        deadline = time.monotonic() + 10
        while True:  # the reply is in the room a moment before the bot hears it was
            status, text = await scrape(port, "/metrics")
            if "opsroom_reply_latency_seconds_count 1.0" in text or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert status == 200
        assert 'opsroom_commands_total{command="op init",outcome="ok"} 1.0' in text
        assert "opsroom_reply_latency_seconds_count 1.0" in text
        assert "opsroom_commit_seconds_count" in text
        health, body = await scrape(port, "/healthz")
        assert health == 200 and '"status": "ok"' in body
    with pytest.raises(aiohttp.ClientConnectionError):  # stopped with the bot
        await scrape(port, "/healthz")
    await lead.close()


async def test_a_member_over_the_rate_limit_is_told_for_each_command(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                {"limits": {"commands_per_minute": 6, "burst": 2}})
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Pace" code=PACE')
        await lead.command(room, '!task add "one"')
        answers = [(await lead.command(room, f'!task add "too fast {n}"'))[0] for n in range(2)]
        tasks = await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks"))
    for answer in answers:
        assert "too many commands: at most 6 a minute (2 in a row)" in answer.body
        assert "Nothing was recorded for this one" in answer.body
    assert [t["text"] for t in tasks] == ["one"]
    await lead.close()


async def test_a_command_on_a_full_disk_is_answered_and_the_bot_recovers(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    disk = FullDisk(tmp_path / "fs", size="16m")  # crypto store and database both on it
    print(f"full disk made with: {disk.how}")
    try:
        config = await register_bot(synapse, unique, disk.root / "bot")
        lead = await make_client(synapse, f"lead-{unique}", tmp_path)
        async with running_bot(config) as bot:
            room = await lead.create_room(invite=[config.matrix.user_id])
            await lead.wait_joined(room, config.matrix.user_id)
            await lead.command(room, '!op init "Operation Full" code=FULL')
            disk.fill(bot.db)
            refused, _ = await lead.command(room, f'!task add "{LONG}"')
            listing, _ = await lead.command(room, "!task list")
            disk.free()
            again, _ = await lead.command(room, '!task add "after"')
        assert "the bot's storage is full — nothing was recorded; tell the administrator" \
            in refused.body
        # a list is a consultation, which must be logged (LED art. 25): refused with the
        # reason while nothing can be written, never shown unlogged
        assert "cannot log this consultation, and shows no records until it can" \
            in listing.body
        assert "T-1 created" in again.body
        await lead.close()
    finally:
        disk.free()
        disk.unmount()


async def test_what_the_bot_keeps_per_room_goes_when_it_is_removed(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot", require_encryption=True)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        plain = await lead.create_room(invite=[config.matrix.user_id], encrypted=False)
        await lead.wait_joined(plain, config.matrix.user_id)
        await lead.command(plain, "!help")  # answered once: "not encrypted"
        assert plain in bot.state["joined_at"] and plain in bot.state["warned"]
        await lead.nio.room_kick(plain, config.matrix.user_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if plain not in bot.state["joined_at"]:
                break
            await asyncio.sleep(0.1)
        assert plain not in bot.state["joined_at"] and plain not in bot.state["warned"]
    await lead.close()
