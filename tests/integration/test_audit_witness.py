"""A database rewrite that recomputes every hash is caught from the heads in the room.

The bot posts the audit head in a scheduled sitrep and in its /audit verify reply (both
megolm-encrypted). The database is then rewritten while the bot is down; after a restart
the bot reads its own encrypted posts back from the room's history (/messages) and
names the rewritten entries; so does `opsroom audit verify`, also while the bot runs, and
with the homeserver out of reach it says so and still checks the chain.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.dev_homeserver import LocalSynapse
from bot.scheduler import SitrepScheduler
from commands.core.timeparse import format_dtg
from storage import audit, witness
from storage.database import read_snapshot
from tests.audit_tamper import as_if_recorded_so
from tests.clock import FixedClock
from tests.integration.matrix_helpers import (
    make_client,
    register_bot,
    running_bot,
    write_config_file,
)

pytestmark = pytest.mark.integration
KEY = "org.opsroom.audit_head"


async def cli_audit_verify(config_file: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "audit", "verify", "-c", str(config_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


def witnessed_at(event: Any) -> str:
    return format_dtg(datetime.fromtimestamp(event.server_timestamp / 1000, UTC))


async def test_rewrite_with_recomputed_hashes_is_reported_after_a_restart(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    clock = FixedClock(datetime.now(UTC))
    async with running_bot(config, services=[SitrepScheduler()], clock=clock) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Witness" code=WITNESS')
        await lead.command(room, "!sitrep every 5m")
        await lead.command(room, '!task add "image the servers"')
        clock.advance(minutes=6)  # the 5-minute slot is due (the clock started earlier)
        sitrep = await lead.wait_for(
            lambda r, e: r == room and getattr(e, "body", "").startswith("SITREP #1"), 30)
        posted = sitrep.source["content"][KEY]
        assert f"Audit head #{posted['n']} · {posted['hash']}" in sitrep.body
        await lead.command(room, '!task add "brief the press"')
        await lead.command(room, '!task add "book the interpreters"')
        reply, _ = await lead.command(room, "!audit verify")
        head = await bot.db.read(lambda tx: audit.head(tx, room))
        assert head is not None and reply.source["content"][KEY] == {"n": head.n,
                                                                     "hash": head.hash}
        assert f"Audit head #{head.n} · {head.hash}" in reply.body
        assert f"matches every head posted in this room (1, newest #{posted['n']}" in reply.body
        await lead.command(room, '!task add "recorded after the last witness"')

    db_path = config.data_dir / "opsroom.db"
    # A consistent rewrite, as someone holding the database would make it: the row and its
    # newest audit image alike, every later hash recomputed.
    async with read_snapshot(db_path) as tx:
        # found once read: the text is sealed (storage.sealing), SQL cannot compare it
        row_id = next(r["id"] for r in await tx.all("SELECT id, text FROM tasks")
                      if r["text"] == "brief the press")
    as_if_recorded_so(db_path, room, "tasks", row_id, text="nothing was tasked")
    async with read_snapshot(db_path) as tx:  # neither the chain nor the records can tell
        assert (await audit.verify_room(tx, room)).ok
        assert not (await witness.check(tx, room)).mismatches
    expected = (f"entries #{posted['n'] + 1}..#{head.n} rewritten after they were witnessed "
                f"in the room at {witnessed_at(reply)} / {reply.event_id}")

    config_file = write_config_file(config, tmp_path / "config.toml")
    async with running_bot(config):
        after, _ = await lead.command(room, "!audit verify")
        assert "FAILED" in after.body and expected in after.body, after.body
        assert KEY not in after.source["content"]
        code, out = await cli_audit_verify(config_file)  # while the bot runs
        assert code == 1 and f"{room}: FAILED" in out and expected in out, out

    unreachable = write_config_file(config, tmp_path / "down.toml", "http://127.0.0.1:9")
    code, out = await cli_audit_verify(unreachable)
    assert code == 3, out
    assert "could not be reached" in out and f"{room}: intact" in out, out
    assert not list(config.data_dir.glob(".audit-verify-*"))  # the key copy is gone
    await lead.close()


async def test_intact_log_passes_against_the_room_from_the_cli(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Intact" code=INTACT')
        sitrep, _ = await lead.command(room, "!sitrep")
        assert KEY in sitrep.source["content"]
        await lead.command(room, '!task add "after the witness"')
    # Whoever holds the bot's account on its homeserver can post in its name, but not
    # encrypt with its device: a plaintext head is no witness (this one would not match).
    session = json.loads((config.data_dir / "session.json").read_text())
    async with aiohttp.ClientSession() as http, http.put(
            f"{synapse.base_url}/_matrix/client/v3/rooms/{room}/send/m.room.message/forged",
            json={"msgtype": "m.notice", "body": "Audit head #1",
                  KEY: {"n": 1, "hash": "0" * 64}},
            headers={"Authorization": f"Bearer {session['access_token']}"}) as resp:
        assert resp.status == 200
    code, out = await cli_audit_verify(write_config_file(config, tmp_path / "config.toml"))
    assert code == 0, out
    witnessed = sitrep.source["content"][KEY]["n"]  # the sitrep's head (pins come first)
    entries = witnessed + 1  # and the task after it
    assert f"{room}: intact ({entries} entries)" in out
    assert f"matches every head posted in this room (1, newest #{witnessed}" in out
    await lead.close()
