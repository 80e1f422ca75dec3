"""Scheduled sitreps reach an encrypted room; downtime across slots gives one late sitrep.

The bot runs with a clock the test moves (the scheduler reads time only from it), so a
one-minute cron and a two-slot outage take seconds, not minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from bot.scheduler import SitrepScheduler
from tests.clock import FixedClock
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


def sitreps(client, room: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.body for r, e in client.events
            if r == room and getattr(e, "body", "").startswith("SITREP #")]


async def test_cron_sitrep_arrives_and_downtime_gives_one_late_sitrep(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    # Ten seconds past the next whole minute: slots fall at known distances from "now".
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = FixedClock(now + timedelta(minutes=1, seconds=10))
    async with running_bot(config, services=[SitrepScheduler()], clock=clock):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Clock" code=CLOCK')
        reply, _ = await lead.command(room, '!sitrep cron "* * * * *"')
        assert "cron" in reply.body
        clock.advance(seconds=65)
        await lead.wait_for(lambda r, e: bool(sitreps(lead, room)))
        [first] = sitreps(lead, room)
        assert first.startswith("SITREP #1 · Operation Clock (CLOCK)")
        assert "LATE" not in first
    clock.advance(minutes=2, seconds=30)  # two slots pass while the bot is down; the
    # latest of them is 45 s old at restart: posted once, marked late
    async with running_bot(config, services=[SitrepScheduler()], clock=clock):
        await lead.wait_for(lambda r, e: len(sitreps(lead, room)) >= 2)
        for _ in range(6):
            await lead.sync()
    later = sitreps(lead, room)[1:]
    assert len(later) == 1, later
    assert later[0].startswith("SITREP #2") and "LATE (slot" in later[0]
    await lead.close()
