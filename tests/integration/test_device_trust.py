"""Only cross-signed devices hear and command the bot (MSC4153), against a real Synapse.

Each test here would pass against a bot that shared keys with every device and obeyed
every event, and fails against it: that is what they are for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from nio import MegolmEvent

from bot.crypto.cross_signing import (
    CrossSigningKeys,
    CrossSigningMismatch,
    _Http,
    _upload_keys,
    ensure_cross_signed,
)
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from storage import identities
from tests.integration.matrix_helpers import (
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)
from tests.integration.strict_client import run_strict_client

pytestmark = pytest.mark.integration


async def _room(lead: TestClient, bot: Bot, *others: TestClient) -> str:
    room = await lead.create_room(invite=[bot.client.user_id, *(o.user_id for o in others)])
    for other in others:
        await other.nio.join(room)
        await other.sync()
    await lead.wait_joined(room, bot.client.user_id)
    reply, _ = await lead.command(room, '!op init "Operation Trust" code=TRUST')
    assert "Operation Trust" in reply.source["content"]["body"]
    return room


async def _tasks(bot: Bot) -> list[str]:
    return await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks ORDER BY seq"))


def _text(event: Any) -> str:
    return event.source.get("content", {}).get("body", "")


async def test_unsigned_second_session_is_neither_obeyed_nor_given_keys(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await _room(lead, bot, officer)
        reply, _ = await officer.command(room, '!task add "from the verified phone"')
        assert "T-1" in _text(reply)
        # An Element-like session of the same officer that was never cross-signed.
        second = await run_strict_client(
            synapse.base_url, f"officer-{unique}", f"pw-officer-{unique}",
            bot.client.user_id, '!task add "from the unsigned laptop"', room=room,
            command2='!task add "again from the unsigned laptop"', timeout_ms=12000)
        assert second.ok, (second.data, second.stderr)
        first_cmd, second_cmd = second.data["sent"]
        refusal = await officer.wait_for(lambda r, e: is_reply_to(e, first_cmd))
        # A later command from the verified device is answered after both: by then the
        # bot has handled both commands of the unsigned session.
        after, _ = await officer.command(room, "!task list")
        tasks = [t["text"] for t in await _tasks(bot)]
    assert "is not verified" in _text(refusal) and "Settings → Sessions" in _text(refusal)
    assert not officer.replies_to(second_cmd), "a refusal is answered once per device"
    assert tasks == ["from the verified phone"], tasks
    assert "unsigned laptop" not in _text(after)
    seen = second.data["seen"]
    assert seen, "the unsigned session saw the bot's events (as undecryptable)"
    # It could read none of the bot's replies: no event decrypted, each one failed.
    assert not [e for e in seen if e["body"] is not None], seen
    assert {e["id"] for e in seen} == {e["id"] for e in seen if e["failure"]}, seen
    device_id = _text(refusal).split("your device ")[1].split()[0]
    assert device_id != officer.nio.device_id


async def test_plaintext_event_in_encrypted_room_is_not_obeyed(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await _room(lead, bot)
        # Through the client-server API, not encrypted, into the encrypted room.
        url = (f"{synapse.base_url}/_matrix/client/v3/rooms/{room}/send/m.room.message/"
               f"plain-{unique}")
        async with aiohttp.ClientSession() as http, http.put(
                url, json={"msgtype": "m.text", "body": '!task add "plaintext"'},
                headers={"Authorization": f"Bearer {lead.nio.access_token}"}) as resp:
            event_id = (await resp.json())["event_id"]
        answer = await lead.wait_for(lambda r, e: is_reply_to(e, event_id))
        tasks = await _tasks(bot)
    assert "without encryption are not accepted" in _text(answer)
    assert tasks == []


async def _reset_identity(synapse: LocalSynapse, localpart: str, tmp: Path) -> TestClient:
    """What a hijacked (or reset) account looks like: a new session with new cross-signing
    keys replacing the ones on the server."""
    client = await make_client(synapse, localpart, tmp, register=False, cross_signed=False,
                               device="-reset")
    nio = client.nio
    keys = CrossSigningKeys.generate()
    async with aiohttp.ClientSession() as http:
        await _upload_keys(http, _Http(nio.homeserver, nio.access_token), nio, keys,
                           f"pw-{localpart}")
    keys_dir = tmp / f"client-{localpart}-reset" / "keys"
    keys.save(keys_dir / "cross_signing.json")
    await ensure_cross_signed(nio, f"pw-{localpart}", keys_dir)  # signs the new device
    return client


async def test_identity_reset_is_announced_and_waits_for_a_leads_trust(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    mallory = await make_client(synapse, f"mallory-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await _room(lead, bot, officer)
        elsewhere = await _room(lead, bot, officer)  # a second operation, shared all along
        reply, _ = await officer.command(room, '!task add "before the reset"')
        assert "T-1" in _text(reply)
        await officer.close()
        hijacked = await _reset_identity(synapse, f"officer-{unique}", tmp_path)
        warning = await lead.wait_for(
            lambda r, e: "identity changed" in _text(e) and officer.user_id in _text(e))
        # Its answer is for the room to read: the new session gets no key until /trust.
        refused_id = await hijacked.send_text(room, '!task add "after the reset"')
        refused = await lead.wait_for(lambda r, e: is_reply_to(e, refused_id))
        # The account's new holder joins a room an accomplice leads, who vouches for it.
        theirs = await _room(mallory, bot, hijacked)
        vouched, _ = await mallory.command(theirs, f"!trust {officer.user_id}")
        still_changed = (await bot.db.read(identities.pins))[officer.user_id].state
        listing, _ = await lead.command(room, "!trust")
        confirmed, _ = await lead.command(room, f"!trust {officer.user_id}")
        told = await lead.wait_for(lambda r, e: r == elsewhere and "was confirmed by" in _text(e))
        accepted, _ = await hijacked.command(room, '!task add "confirmed by the lead"')
        tasks = [t["text"] for t in await _tasks(bot)]
        pins = await bot.db.read(lambda tx: tx.all("SELECT * FROM identities"))
    assert f"/trust {officer.user_id}" in _text(warning)
    assert "identity changed" in _text(refused)
    assert "was not a member of this room when their identity changed" in _text(vouched)
    assert still_changed == identities.CHANGED
    assert lead.user_id in _text(told) and "in operation TRUST" in _text(told)
    assert officer.user_id in _text(listing) and "waiting for a lead" in _text(listing)
    assert "confirmed" in _text(confirmed)
    # The new session reads the bot's answer: it got the room key once confirmed.
    assert "T-2" in _text(accepted), _text(accepted)
    assert tasks == ["before the reset", "confirmed by the lead"], tasks
    assert any(p["user_id"] == officer.user_id and p["confirmed_by"] == lead.user_id
               for p in pins)
    # The pins survive a restart: no new warning, the confirmed identity is obeyed.
    async with running_bot(config) as bot:
        again, _ = await hijacked.command(room, '!task add "after the restart"')
        await lead.sync()
    assert "T-3" in _text(again), _text(again)
    warnings = lead.seen(lambda r, e: "identity changed" in _text(e)
                         and e.source.get("sender") == config.matrix.user_id
                         and "m.relates_to" not in e.source.get("content", {}))
    # One warning in each room shared with the officer when the change was seen.
    assert len(warnings) == 2, [_text(w) for w in warnings]
    audit = json.dumps([dict(p) for p in pins])
    assert "pinned" in audit


async def test_no_keys_for_an_unsigned_device(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    """The bot's replies reach the officer's cross-signed session, never an unsigned one."""
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await _room(lead, bot, officer)
        unsigned = await make_client(synapse, f"officer-{unique}", tmp_path, register=False,
                                     cross_signed=False, device="-unsigned")
        await unsigned.sync()
        reply, cmd = await officer.command(room, '!task add "seen by the signed session"')
        for _ in range(10):
            await unsigned.sync()
            if unsigned.replies_to(cmd) or unsigned.seen(
                    lambda r, e: isinstance(e, MegolmEvent) and e.sender == bot.client.user_id):
                break
    # Messages only: state events are never encrypted, and nio sends the ✅ reaction in
    # the clear (it holds the command's event id and "✅", nothing of the record).
    from_bot = unsigned.seen(lambda r, e: getattr(e, "sender", "") == bot.client.user_id
                             and "state_key" not in e.source
                             and e.source.get("type") != "m.reaction")
    assert "T-1" in _text(reply)
    assert from_bot and all(isinstance(e, MegolmEvent) for e in from_bot), from_bot


async def test_bot_stops_when_its_master_key_was_replaced_on_the_server(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    async with running_bot(config) as bot:
        nio = bot.client
        async with aiohttp.ClientSession() as http:  # an administrator's (or attacker's) reset
            await _upload_keys(http, _Http(nio.homeserver, nio.access_token), nio,
                               CrossSigningKeys.generate(), config.matrix.password)
    again = Bot(config)
    with pytest.raises(CrossSigningMismatch, match="will not replace it silently"):
        await again.start()
    await again.client.close()
    await again.db.close()
