"""SIGTERM stops the bot within 10 s even when its homeserver is gone, and what it could
not send goes out, once, at the next start.

Each test runs its own Synapse, since it takes that homeserver away."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    is_reaction_to,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
    start_bot_process,
    write_config_file,
)

pytestmark = pytest.mark.integration
EXIT_WITHIN_S = 10.0


def unsent_replies(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'opsroom.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM processed_events WHERE delivered=0").fetchone()[0]


@pytest.mark.parametrize("gone", ["down", "unreachable"])
async def test_sigterm_exits_in_time_without_the_homeserver_and_nothing_is_lost(
        tmp_path: Path, gone: str) -> None:
    hs = LocalSynapse(tmp_path / "synapse")
    await hs.start()
    try:
        config = await register_bot(hs, "shutdown", tmp_path / "bot", sections=NO_RATE_LIMIT)
        lead = await make_client(hs, "lead", tmp_path)
        proc = await start_bot_process(write_config_file(config, tmp_path / "config.toml"),
                                       tmp_path / "bot.log")
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Blackout" code=BLACKOUT')
        commands = [await lead.send_text(room, f'!task add "before the outage {i}"')
                    for i in range(30)]
        # The homeserver goes away while the bot still has answers to send.
        hs.send_signal(signal.SIGKILL if gone == "down" else signal.SIGSTOP)
        await asyncio.sleep(1)
        assert unsent_replies(config.data_dir) > 0, "the outage came too late to test"
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), EXIT_WITHIN_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            pytest.fail(f"still running {EXIT_WITHIN_S:.0f} s after SIGTERM "
                        f"({(tmp_path / 'bot.log').read_text()[-1500:]})")
        took = time.monotonic() - stopping
        assert code == 0, (tmp_path / "bot.log").read_text()[-1500:]
        assert took < EXIT_WITHIN_S

        history: list = []
        if gone == "down":
            await hs.start()
        else:
            hs.send_signal(signal.SIGCONT)
        async with running_bot(config):
            deadline = time.monotonic() + 60
            while not all(any(is_reaction_to(e, c) for e in history) for c in commands):
                assert time.monotonic() < deadline, "not every command was answered"
                await lead.sync(1000)
                history = await lead.history(room)
            await asyncio.sleep(2)  # anything sent twice would be in by now
            history = await lead.history(room)
        for event_id in commands:
            assert len([e for e in history if is_reply_to(e, event_id)]) == 1
            assert len([e for e in history if is_reaction_to(e, event_id)]) == 1
        assert unsent_replies(config.data_dir) == 0
        await lead.close()
    finally:
        if gone == "unreachable":
            hs.send_signal(signal.SIGCONT)
        await hs.stop()


async def test_a_sitrep_the_outage_kept_from_the_room_is_posted_once_after_restart(
        tmp_path: Path) -> None:
    hs = LocalSynapse(tmp_path / "synapse")
    await hs.start()
    try:
        config = await register_bot(hs, "outbox", tmp_path / "bot")
        lead = await make_client(hs, "lead", tmp_path)
        async with running_bot(config) as bot:
            room = await lead.create_room(invite=[config.matrix.user_id])
            await lead.wait_joined(room, config.matrix.user_id)
            await lead.command(room, '!op init "Operation Outbox" code=OUTBOX')
            hs.send_signal(signal.SIGSTOP)
            # What the sitrep scheduler does when a sitrep is due.
            await bot.post(room, "SITREP 1 — Operation Outbox", "<b>SITREP 1</b>")
            stopping = time.monotonic()
        assert time.monotonic() - stopping < EXIT_WITHIN_S
        hs.send_signal(signal.SIGCONT)
        async with running_bot(config):
            await lead.wait_for(lambda r, e: "SITREP 1" in getattr(e, "body", ""), timeout=30)
            await asyncio.sleep(2)  # a second copy would be in by now
            history = await lead.history(room)
        assert len([e for e in history if "SITREP 1" in getattr(e, "body", "")]) == 1
        await lead.close()
    finally:
        hs.send_signal(signal.SIGCONT)
        await hs.stop()
