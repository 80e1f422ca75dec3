"""Restarts, downtime and shutdown: nothing lost, nothing answered twice, one device."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.crypto.cross_signing import canonical_json, signable, unb64
from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import (
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


async def test_restart_keeps_the_device_and_does_not_answer_twice(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        device = bot.client.device_id
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        _, first = await lead.command(room, '!op init "Operation Restart" code=RESTART')
    async with running_bot(config) as bot:
        assert bot.client.device_id == device
        reply, _ = await lead.command(room, "!op")
        assert "RESTART" in reply.source["content"]["body"]
    for _ in range(3):
        await lead.sync()
    assert len(lead.replies_to(first)) == 1
    await lead.close()


async def test_command_sent_while_the_bot_is_down_is_answered_once_after_start(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Down" code=DOWN')
    offline = await lead.send_text(room, '!task add "sent while the bot was down"')
    async with running_bot(config) as bot:
        await lead.wait_for(lambda r, e: is_reply_to(e, offline))
        for _ in range(3):
            await lead.sync()
        tasks = await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks"))
    assert len(lead.replies_to(offline)) == 1
    assert "T-1 created" in lead.replies_to(offline)[0].body
    assert [t["text"] for t in tasks] == ["sent while the bot was down"]
    await lead.close()


async def query_keys(synapse: LocalSynapse, token: str, user_id: str) -> dict:
    """Raw /keys/query: nio does not surface cross-signing keys."""
    async with aiohttp.ClientSession() as http, http.post(
            f"{synapse.base_url}/_matrix/client/v3/keys/query",
            json={"device_keys": {user_id: []}},
            headers={"Authorization": f"Bearer {token}"}) as r:
        return await r.json()


async def test_bot_device_is_cross_signed_on_the_server(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    other = await make_client(synapse, f"peer-{unique}", tmp_path)
    async with running_bot(config) as bot:
        bot_id, device_id = bot.client.user_id, bot.client.device_id
        keys_file = config.data_dir / "keys" / "cross_signing.json"
        assert keys_file.stat().st_mode & 0o077 == 0
    resp = await query_keys(synapse, other.nio.access_token, bot_id)
    master = resp["master_keys"][bot_id]
    ssk = resp["self_signing_keys"][bot_id]
    master_pub = next(iter(master["keys"].values()))
    ssk_id, ssk_pub = next(iter(ssk["keys"].items()))
    Ed25519PublicKey.from_public_bytes(unb64(master_pub)).verify(
        unb64(ssk["signatures"][bot_id][f"ed25519:{master_pub}"]), canonical_json(signable(ssk)))
    device = resp["device_keys"][bot_id][device_id]
    Ed25519PublicKey.from_public_bytes(unb64(ssk_pub)).verify(
        unb64(device["signatures"][bot_id][ssk_id]), canonical_json(signable(device)))
    # A restart must not create new keys or a new device.
    async with running_bot(config) as bot:
        assert bot.client.device_id == device_id
    again = await query_keys(synapse, other.nio.access_token, bot_id)
    assert again["master_keys"][bot_id]["keys"] == master["keys"]
    assert list(again["device_keys"][bot_id]) == [device_id]
    await other.close()


async def test_sigterm_stops_the_bot_cleanly(synapse: LocalSynapse, unique: str,
                                             tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[matrix]\nhomeserver = "{synapse.base_url}"\nuser_id = "{config.matrix.user_id}"\n'
        f'password = "{config.matrix.password}"\n\n[storage]\ndata_dir = "{config.data_dir}"\n\n'
        '[access]\nallowed_inviters = ["@*:localhost"]\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "-c", str(config_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    while b"running as" not in line:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
    await asyncio.sleep(1)
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
