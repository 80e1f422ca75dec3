"""An erasure ordered in an encrypted room is finished by the running bot: the room is told
what was erased, why and by whom, and the bot's earlier message showing the record is
redacted for every member."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RedactionEvent

from bot.dev_homeserver import LocalSynapse
from bot.scheduler import SitrepScheduler
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


async def test_an_erasure_is_told_in_the_room_and_the_bots_earlier_message_is_redacted(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config, services=[SitrepScheduler()]) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Ledger" code=LEDGER')
        await lead.command(room, "!agency add DE-BKA country=DE tz=Europe/Berlin")
        await lead.command(room, "!arrest add SUSPECT-9 country=DE agency=DE-BKA")
        listing, _ = await lead.command(room, "!arrest list")
        assert "SUSPECT-9" in listing.body
        started, _ = await lead.command(room, '!erase A-1 "acquitted"')
        assert "E-1 started" in started.body

        told = await lead.wait_for(lambda r, e: r == room
                                   and getattr(e, "body", "").startswith("E-1: erased"), 30)
        assert "(A-1) — acquitted — " + lead.user_id in told.body
        redaction = await lead.wait_for(lambda r, e: r == room and isinstance(e, RedactionEvent)
                                        and e.redacts == listing.event_id, 30)
        assert redaction.reason == "personal data erased"
        gone = await lead.nio.room_get_event(room, listing.event_id)
        assert "body" not in gone.event.source.get("content", {})
        [row] = await bot.db.read(lambda tx: tx.all("SELECT state, announced_at FROM erasures"))
        assert row["state"] == "done" and row["announced_at"]
        again, _ = await lead.command(room, "!arrest list")
        assert "SUSPECT-9" not in again.body and "[erased]" in again.body
    await lead.close()
