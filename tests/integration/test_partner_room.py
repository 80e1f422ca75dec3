"""A partner room through a real homeserver: an Element-style client in strict mode (the
partner) joins the room a lead linked, reads only what was assigned to it, reports a
takedown done, and the operation room hears it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import is_reply_to, make_client, register_bot, running_bot
from tests.integration.strict_client import run_strict_client

pytestmark = pytest.mark.integration


def _body(event: Any) -> str:
    return str(getattr(event, "body", ""))


async def test_a_strict_partner_reads_only_its_part_and_its_done_reaches_the_operation(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    host = f"host-{unique}"
    host_id = await synapse.register_user(host, f"pw-{host}")
    async with running_bot(config):
        op_room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(op_room, config.matrix.user_id)
        for line in ('!op init "Operation Nightjar" code=NIGHTJAR tlp=AMBER',
                     "!agency add FR-OFAC country=FR tz=Europe/Paris",
                     f"!member {lead.user_id} agency=FR-OFAC",
                     "!hhour 2026-12-24T04:00Z",
                     "!seize server 203.0.113.5 tlp=GREEN",
                     "!seize server 198.51.100.9 tlp=GREEN",
                     "!seize domain amber-c2.example",
                     "!arrest add SUSPECT-0042 country=FR agency=FR-OFAC",
                     "!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN",
                     "!takedown add S-3 agency=FR-OFAC at=H+1h"):
            await lead.command(op_room, line)
        partner_room = await lead.create_room(invite=[config.matrix.user_id, host_id])
        await lead.wait_joined(partner_room, config.matrix.user_id)
        partner = asyncio.create_task(run_strict_client(
            synapse.base_url, host, f"pw-{host}", config.matrix.user_id,
            '!done K-1 "server fra-2 offline"', expect="recorded as DONE",
            join=partner_room, wait_for="Assigned to you", timeout_ms=60000))
        await lead.wait_joined(partner_room, host_id, timeout=60)
        await asyncio.sleep(1)  # the partner's client has its keys up before the posts
        linked, _ = await lead.command(
            op_room, f'!partner link {partner_room} name="Example Hosting" '
            'tz=America/New_York alias="Op Dawn"')
        assert "linked at TLP:GREEN" in _body(linked), _body(linked)
        assigned, _ = await lead.command(op_room, '!partner assign S-1 K-1 "Example Hosting"')
        assert "assigned to Example Hosting" in _body(assigned), _body(assigned)
        result = await partner
        assert result.ok, (result.data, result.stderr)
        reported = await lead.wait_for(lambda r, e: r == op_room and
                                       "Example Hosting reports K-1 DONE" in _body(e))
        assert "server fra-2 offline" in _body(reported)
        sitrep, sitrep_id = await lead.command(op_room, "!sitrep")
        assert is_reply_to(sitrep, sitrep_id) and "1 executed" in _body(sitrep)
    seen = "\n".join(e.get("body") or "" for e in result.data["seen"])
    assert "203[.]0[.]113[.]5" in seen and "K-1" in seen and "Op Dawn" in seen
    assert "EST" in seen  # H-hour and the takedown on the partner's own clock
    for never in ("198[.]51[.]100[.]9", "amber-c2", "SUSPECT-0042", "Nightjar", "NIGHTJAR",
                  "K-2"):
        assert never not in seen, never
    failures = [e for e in result.data["seen"] if e.get("failure")]
    assert failures == [], "a strict client decrypts every post of the cross-signed bot"
    await lead.close()
