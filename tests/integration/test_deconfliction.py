"""Deconfliction between two operation rooms of one bot, on a real Synapse with real
encrypted clients: each room decrypts its own notice, sent by the scheduler once the
hit's grace period (0 here) has passed, and after both leads agree each learns the other
lead's Matrix ID and operation code."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.dev_homeserver import LocalSynapse
from bot.services import services_for
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    TestClient,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


def body(event: Any) -> str:
    return str(event.source.get("content", {}).get("body", ""))


async def notice_in(client: TestClient, room_id: str, text: str) -> Any:
    """The bot's post in `room_id` containing `text`, as the client decrypted it."""
    event = await client.wait_for(lambda r, e: r == room_id and text in body(e))
    assert event.decrypted, "the notice must be end-to-end encrypted"
    assert event.source["content"]["msgtype"] == "m.notice"
    return event


async def test_two_rooms_learn_of_one_domain_and_both_leads_are_introduced(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                {"deconfliction": {"enabled": True, "grace_minutes": 0},
                                 **NO_RATE_LIMIT})
    bot_id = config.matrix.user_id
    lead_a = await make_client(synapse, f"lead-a-{unique}", tmp_path)
    lead_b = await make_client(synapse, f"lead-b-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config, services=services_for(config)) as bot:
        room_a = await lead_a.create_room(invite=[bot_id, officer.user_id])
        room_b = await lead_b.create_room(invite=[bot_id, officer.user_id])
        for room in (room_a, room_b):
            await officer.nio.join(room)
        for lead, room in ((lead_a, room_a), (lead_b, room_b)):
            await lead.wait_joined(room, bot_id)
            await lead.wait_joined(room, officer.user_id)
        await lead_a.command(room_a, '!op init "Operation Alder" code=ALDER')
        await lead_b.command(room_b, '!op init "Operation Birch" code=BIRCH')
        await officer.sync()

        first, _ = await officer.command(room_a, f"!seize domain c2-{unique}.example")
        assert "S-1" in body(first) and "deconfliction" not in body(first)
        second, _ = await officer.command(room_b, f"!seize domain C2-{unique}[.]Example")
        assert second.decrypted
        assert ("⚠️ deconfliction hit: S-1 is also held by another operation; its lead is "
                "being told") in body(second)

        # Each room's lead decrypts the notice of their own room, posted by the scheduler.
        told_a = await notice_in(lead_a, room_a, "on your S-1")
        found = re.match(r"⚠️ deconfliction hit (D-[A-Z]{2}-1) on your S-1\n", body(told_a))
        assert found, body(told_a)
        hit = found.group(1)
        await notice_in(lead_b, room_b, f"⚠️ deconfliction hit {hit}: your S-1 is also held")
        assert "BIRCH" not in body(told_a) and officer.user_id not in body(told_a)

        agreed, _ = await lead_a.command(room_a, f"!deconflict share {hit}")
        assert "your agreement is recorded" in body(agreed)
        asked = await notice_in(lead_b, room_b, "the other operation's lead agrees")
        assert "ALDER" not in body(asked) and lead_a.user_id not in body(asked)

        introduced, _ = await lead_b.command(room_b, f"!deconflict share {hit}")
        assert (f"{hit}: introduced. The other operation is ALDER; its lead is "
                f"{lead_a.user_id}.") in body(introduced)
        told = await notice_in(lead_a, room_a, f"{hit}: introduced")
        assert (f"deconfliction hit {hit}: introduced. The other operation is BIRCH; its lead "
                f"is {lead_b.user_id}.") in body(told)
        assert f'href="https://matrix.to/#/{lead_b.user_id}"' in (
            told.source["content"]["formatted_body"])
        # Sent, so crossed off the outbox (what is left there is sent again at a restart).
        deadline = time.monotonic() + 10
        while await bot.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM outbox")):
            assert time.monotonic() < deadline, "the notices stayed in the outbox"
            await asyncio.sleep(0.1)
    for client in (lead_a, lead_b, officer):
        await client.close()
