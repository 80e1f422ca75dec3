"""The bot in real encrypted rooms on a real Synapse, talking to real encrypted clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import (
    is_reaction_to,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


async def test_invited_bot_joins_and_answers_encrypted_with_reaction_and_reply(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        reply, event_id = await lead.command(
            room, '!op init "Operation Firebreak" code=FIREBREAK tz=Europe/Paris')
        assert reply.source["type"] == "m.room.message"
        assert reply.decrypted, "the reply must be end-to-end encrypted"
        content = reply.source["content"]
        assert "FIREBREAK" in content["body"]
        assert content["format"] == "org.matrix.custom.html"
        assert "<b>Operation Firebreak</b>" in content["formatted_body"]
        await lead.wait_for(lambda r, e: is_reaction_to(e, event_id))
        [reaction] = lead.reactions_to(event_id)
        assert reaction.source["content"]["m.relates_to"]["key"] == "✅"

        reply, _ = await lead.command(room, '!task add "Image <server> fra-2" priority=high')
        assert "T-1 created" in reply.source["content"]["body"]
        assert "&lt;server&gt;" in reply.source["content"]["formatted_body"]

        # Picked from the mention autocomplete: the body has only the display name.
        reply, _ = await lead.command(
            room, "!task assign T-1 Lead Person",
            html=f'!task assign T-1 <a href="https://matrix.to/#/{lead.user_id}">Lead Person</a>')
        assert reply.source["content"]["body"].startswith(f"T-1 → {lead.user_id}")

        reply, bad_id = await lead.command(room, "!task add")
        assert "Usage: /task add" in reply.source["content"]["body"]
        await lead.sync()
        assert lead.reactions_to(bad_id) == [], "errors get no ✅"
        assert bot.client.device_id
    await lead.close()


async def test_roles_come_from_the_room(synapse: LocalSynapse, unique: str,
                                       tmp_path: Path) -> None:
    """The room creator (unlimited power in room v12) is a lead; a plain member is not."""
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id, officer.user_id])
        await officer.nio.join(room)
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.wait_joined(room, officer.user_id)
        reply, _ = await lead.command(room, '!op init "Operation Xray" code=XRAY')
        assert "Operation Xray" in reply.source["content"]["body"]
        await officer.sync()
        reply, _ = await officer.command(room, "!op phase action")
        assert "only a lead" in reply.source["content"]["body"]
        reply, _ = await officer.command(room, '!task add "check the VPS"')
        assert "T-1 created" in reply.source["content"]["body"]
    await lead.close()
    await officer.close()


async def test_disallowed_inviter_is_refused(synapse: LocalSynapse, unique: str,
                                             tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                allowed_inviters=["@lead-*:localhost"])
    stranger = await make_client(synapse, f"stranger-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await stranger.create_room(invite=[config.matrix.user_id])
        for _ in range(10):
            await stranger.sync()
        members = await stranger.nio.joined_members(room)
        assert config.matrix.user_id not in [m.user_id for m in members.members]
        assert room not in bot.client.rooms
    await stranger.close()


async def test_unencrypted_room_gets_one_warning_and_nothing_is_recorded(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id], encrypted=False)
        await lead.wait_joined(room, config.matrix.user_id)
        first = await lead.send_text(room, '!op init "Operation Y" code=Y')
        await lead.wait_for(lambda r, e: is_reply_to(e, first))
        assert "not end-to-end encrypted" in lead.replies_to(first)[0].body
        second = await lead.send_text(room, '!task add "x"')
        marker = await lead.send_text(room, "just chatting")
        await lead.wait_for(lambda r, e: getattr(e, "event_id", None) == marker)
        for _ in range(5):
            await lead.sync()
        assert lead.replies_to(second) == []
        count = await bot.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM operations"))
        assert count == 0
    await lead.close()
