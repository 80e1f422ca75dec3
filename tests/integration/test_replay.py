"""A homeserver re-serving a command's ciphertext under a new event id, after the bot
restarted (nio's own replay check is in memory only): refused, nothing run twice."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import is_reply_to, make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


async def test_an_old_ciphertext_under_a_new_event_id_is_refused_after_a_restart(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    headers = {"Authorization": f"Bearer {lead.nio.access_token}"}
    rooms_api = f"{synapse.base_url}/_matrix/client/v3/rooms"
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Echo" code=ECHO')
        reply, command_id = await lead.command(room, '!task add "run once"')
        assert "T-1" in reply.source["content"]["body"]
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{rooms_api}/{room}/event/{command_id}") as resp:
            stored = await resp.json()
        assert stored["type"] == "m.room.encrypted"
        async with running_bot(config) as bot:
            # What the homeserver's admin can do: the same ciphertext, a new event id.
            async with http.put(f"{rooms_api}/{room}/send/m.room.encrypted/replay-{unique}",
                                json=stored["content"]) as resp:
                replay_id = (await resp.json())["event_id"]
            refused = await lead.wait_for(lambda r, e: is_reply_to(e, replay_id))
            listing, _ = await lead.command(room, "!task list")
            tasks = await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks"))
    assert replay_id != command_id
    assert "replay" in refused.source["content"]["body"]
    assert command_id in refused.source["content"]["body"]
    assert [t["text"] for t in tasks] == ["run once"]
    assert "T-2" not in listing.source["content"]["body"]
