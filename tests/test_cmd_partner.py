"""A partner room gets only what a lead assigned to that partner, at or below the link's
TLP; partners report on their takedowns there and can change nothing else."""

from __future__ import annotations

import json

from tests.harness import OFFICER, Harness

PARTNER_ROOM = "!partner:localhost"
HOST = "@host:localhost"


async def _linked(h: Harness) -> None:
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!seize server 203.0.113.5 tlp=GREEN")
    await h.ok("!seize domain secret-c2.example tlp=AMBER")
    await h.ok("!arrest add SUSPECT-77 country=FR agency=FR-OFAC")
    await h.ok("!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN")
    await h.ok("!takedown add S-2 agency=FR-OFAC at=H+30m")
    await h.ok(f'!partner link {PARTNER_ROOM} name="Example Hosting" tz=America/New_York '
               'alias="Op Dawn"')


async def _posts(h: Harness, room: str) -> list[str]:
    rows = await h.rows("SELECT content FROM outbox WHERE room_id=? ORDER BY id", (room,))
    return [json.loads(row["content"])["body"] for row in rows]


async def _partner(h: Harness, line: str) -> object:
    return await h.send(line, sender=HOST, room=PARTNER_ROOM)


async def test_the_partner_room_is_told_only_what_was_assigned_in_its_own_zone(
        h: Harness) -> None:
    await _linked(h)
    await h.ok('!partner assign S-1 K-1 "Example Hosting"')
    told = "\n".join(await _posts(h, PARTNER_ROOM))
    assert "203[.]0[.]113[.]5" in told and "K-1" in told
    assert "EST" in told and "Nov 24, 2026, 23:00" in told  # H-hour on New York's clock
    for secret in ("secret-c2", "SUSPECT-77", "Firebreak", "FIREBREAK", "K-2"):
        assert secret not in told
    assert "Op Dawn" in told


async def test_a_record_above_the_links_tlp_cannot_be_assigned(h: Harness) -> None:
    await _linked(h)
    refused = await h.fails('!partner assign S-2 "Example Hosting"')
    assert "above the partner's TLP:GREEN: S-2" in refused.text
    assert await h.rows("SELECT * FROM partner_assignments") == []


async def test_only_a_lead_links_and_assigns(h: Harness) -> None:
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    refused = await h.fails(f'!partner link {PARTNER_ROOM} name="X"', sender=OFFICER)
    assert "only a lead" in refused.text
    assert await h.rows("SELECT * FROM partner_links") == []


async def test_a_room_the_bot_and_the_lead_do_not_share_cannot_be_linked(h: Harness) -> None:
    refused = await h.fails(f'!partner link {PARTNER_ROOM} name="X"')
    assert "invite the bot there first" in refused.text


async def test_red_never_goes_to_a_partner(h: Harness) -> None:
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    refused = await h.fails(f'!partner link {PARTNER_ROOM} name="X" tlp=RED')
    assert "CLEAR, GREEN or AMBER" in refused.text


async def test_done_from_the_partner_is_recorded_on_the_takedown_and_told_to_the_operation(
        h: Harness) -> None:
    await _linked(h)
    await h.ok('!partner assign K-1 "Example Hosting"')
    reply = await _partner(h, '!done K-1 "server offline 05:02"')
    assert reply.ok, reply.text
    [takedown] = await h.rows("SELECT status, note, executed_at FROM takedowns WHERE seq=1")
    assert takedown["status"] == "done" and "Example Hosting" in takedown["note"]
    assert takedown["executed_at"]
    told = "\n".join(await _posts(h, h.room))
    assert "Example Hosting reports K-1 DONE: server offline 05:02" in told
    chains = await h.rows("SELECT room_id, tbl, sender FROM audit_log WHERE sender=?", (HOST,))
    assert {(c["room_id"], c["tbl"]) for c in chains} == {
        (h.room, "takedowns"), (h.room, "partner_reports"), (PARTNER_ROOM, "partner_reports")}
    sitrep = await h.ok("!sitrep")
    assert "1 executed" in sitrep.text and "K-1 FR-OFAC 241200ZNOV26" in sitrep.text


async def test_a_partner_cannot_report_a_takedown_not_theirs_nor_learn_it_exists(
        h: Harness) -> None:
    await _linked(h)
    await h.ok('!partner assign K-1 "Example Hosting"')
    other = await _partner(h, "!done K-2")
    missing = await _partner(h, "!done K-99")
    assert not other.ok and not missing.ok
    assert other.text.replace("K-2", "K-N") == missing.text.replace("K-99", "K-N")
    [k2] = await h.rows("SELECT status FROM takedowns WHERE seq=2")
    assert k2["status"] == "planned"


async def test_any_other_command_from_a_partner_room_records_nothing(h: Harness) -> None:
    await _linked(h)
    before = await h.rows("SELECT COUNT(*) AS n FROM audit_log")
    for line in ('!task add "x"', "!seize ip 198.51.100.1", "!partner unlink Example Hosting",
                 "!op", "!sitrep", "!undo", '!takedown done K-1'):
        refused = await _partner(h, line)
        assert not refused.ok and "partner room" in refused.text, line
    assert await h.rows("SELECT COUNT(*) AS n FROM audit_log") == before


async def test_ack_and_question_reach_the_operation_room(h: Harness) -> None:
    await _linked(h)
    assert (await _partner(h, "!ack")).ok
    assert (await _partner(h, '!question "may we notify the customer after H?"')).ok
    told = "\n".join(await _posts(h, h.room))
    assert "Example Hosting acknowledges" in told
    assert "Example Hosting asks: may we notify the customer after H?" in told


async def test_partner_commands_are_refused_in_an_operation_room(h: Harness) -> None:
    refused = await h.fails("!done K-1")
    assert "partner room only" in refused.text


async def test_unlinking_ends_the_partner_room_and_says_so_in_both(h: Harness) -> None:
    await _linked(h)
    await h.ok('!partner assign K-1 "Example Hosting"')
    reply = await h.ok('!partner unlink "Example Hosting"')
    assert "unlinked" in reply.text
    assert "no longer linked" in (await _posts(h, PARTNER_ROOM))[-1]
    after = await _partner(h, "!done K-1")
    assert not after.ok
    [k1] = await h.rows("SELECT status FROM takedowns WHERE seq=1")
    assert k1["status"] == "planned"
    listing = await h.ok("!partner list")
    assert "Example Hosting" not in listing.text
