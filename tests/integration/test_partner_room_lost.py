"""A partner room that removes the bot, on a real Synapse: the kick reaches the bot as a
left room in its sync, and the link ends with the operation room told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


def body(event: Any) -> str:
    return str(event.source.get("content", {}).get("body", ""))


async def test_a_partner_room_that_kicks_the_bot_ends_its_link_and_the_operation_is_told(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    bot_id = config.matrix.user_id
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        op_room = await lead.create_room(invite=[bot_id])
        await lead.wait_joined(op_room, bot_id)
        partner_room = await lead.create_room(invite=[bot_id])
        await lead.wait_joined(partner_room, bot_id)
        await lead.command(op_room, '!op init "Operation Firebreak" code=FIREBREAK '
                                    'tz=Europe/Paris')
        reply, _ = await lead.command(op_room, f'!partner link {partner_room} '
                                               'name="Example Hosting"')
        assert "Example Hosting linked at TLP:GREEN" in body(reply)
        await lead.wait_for(lambda r, e: r == partner_room
                            and "This room is linked to the joint operation" in body(e))

        await lead.nio.room_kick(partner_room, bot_id, reason="we manage this room ourselves")
        told = await lead.wait_for(lambda r, e: r == op_room
                                   and "no longer in Example Hosting's room" in body(e))
        assert partner_room in body(told)
        reply, _ = await lead.command(op_room, "!partner list")
        assert body(reply).startswith("Partners: 0")
    await lead.close()
