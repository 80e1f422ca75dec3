"""The bot knows which of its messages showed a record, and can take them back: what the
erasure run does after a subject's values are erased."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nio import RedactionEvent

from bot.dev_homeserver import LocalSynapse
from bot.redaction import redact_own
from storage import consultations
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


async def test_the_bots_messages_that_showed_a_record_are_redacted_for_every_member(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Ledger" code=LEDGER')
        await lead.command(room, "!agency add DE-BKA country=DE tz=Europe/Berlin")
        await lead.command(room, "!arrest add SUSPECT-9 country=DE agency=DE-BKA")
        listing, _ = await lead.command(room, "!arrest list")
        assert "A-1" in listing.body
        unrelated, _ = await lead.command(room, "!agency list")

        async def showing() -> list[str]:
            return await bot.db.read(
                lambda tx: consultations.events_showing(tx, room, ["A-1"]))

        deadline = time.monotonic() + 20
        while listing.event_id not in await showing():  # recorded once it is in the room
            assert time.monotonic() < deadline, "the reply's event was not recorded"
            await asyncio.sleep(0.1)
        shown = await showing()
        assert unrelated.event_id not in shown
        # The consultation was logged with the device the bot authenticated it from.
        rows = await bot.db.read(lambda tx: tx.all(
            "SELECT sender, device, scope FROM consult_log WHERE room_id=? ORDER BY n",
            (room,)))
        assert {"sender": lead.user_id, "device": lead.nio.device_id,
                "scope": "/arrest list"} in rows

        assert await redact_own(bot.client, room, shown) == len(shown)

        redaction = await lead.wait_for(lambda r, e: r == room and isinstance(e, RedactionEvent)
                                        and e.redacts == listing.event_id)
        assert redaction.reason == "personal data erased"
        gone = await lead.nio.room_get_event(room, listing.event_id)
        assert "body" not in gone.event.source.get("content", {})
    await lead.close()
