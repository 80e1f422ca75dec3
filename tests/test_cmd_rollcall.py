"""/rollcall, /ready, /notready: the go/no-go round, and the state the sitrep shows."""

from __future__ import annotations

import json
from typing import Any

from storage import rollcalls
from storage.sealing import open_image
from tests.harness import LEAD, OFFICER, OTHER, Harness


async def state(h: Harness) -> dict[str, Any]:
    async def q(tx):  # type: ignore[no-untyped-def]
        op_id = await tx.scalar("SELECT id FROM operations WHERE room_id=?", (h.room,))
        return await rollcalls.rollcall_state(tx, op_id)

    return await h.db.read(q)


async def test_state_before_any_roll_call(h: Harness) -> None:
    assert await state(h) == {"open": False, "seq": None, "agencies": [
        {"code": "DE-BKA", "ready": None, "reason": None, "by": None, "at": None},
        {"code": "FR-OFAC", "ready": None, "reason": None, "by": None, "at": None}]}


async def test_lead_opens_a_round_listing_the_agencies(h: Harness) -> None:
    opened = await h.ok("!rollcall")
    assert opened.text.splitlines() == [
        'GO / NO-GO roll call R-1: each agency answers !ready or !notready "reason"',
        "Waiting for: DE-BKA, FR-OFAC",
    ]
    [call] = await h.rows("SELECT seq, status, opened_by, opened_at, closed_at FROM rollcalls")
    assert call == {"seq": 1, "status": "open", "opened_by": LEAD,
                    "opened_at": "2026-11-24T12:00:00Z", "closed_at": None}
    [entry] = await h.rows("SELECT action, sender FROM audit_log WHERE tbl='rollcalls'")
    assert entry == {"action": "insert", "sender": LEAD}
    assert (await state(h))["open"] is True


async def test_officer_cannot_open_or_close(h: Harness) -> None:
    refused = await h.fails("!rollcall", sender=OFFICER)
    assert "no roll call is open; only a lead (power level 50 or more) can open one" in (
        refused.text)
    assert await h.rows("SELECT * FROM rollcalls") == []
    await h.ok("!rollcall")
    assert "only a lead (power level 50 or more) can close the roll call" in (
        await h.fails("!rollcall close", sender=OFFICER)).text
    assert (await h.rows("SELECT status FROM rollcalls"))[0]["status"] == "open"


async def test_no_agencies_no_roll_call(bare: Harness) -> None:
    await bare.ok('!op init "Empty" code=EMPTY')
    reply = await bare.fails("!rollcall")
    assert "no agencies yet: add them with /agency add" in reply.text
    assert await bare.rows("SELECT * FROM rollcalls") == []


async def test_rollcall_while_open_shows_the_state_to_anyone(h: Harness) -> None:
    await h.ok("!rollcall")
    await h.ok('!notready "warrant not signed"', sender=OFFICER)
    shown = await h.ok("!rollcall", sender=OTHER)
    assert shown.text.splitlines() == [
        "Roll call R-1 (open)",
        f"DE-BKA: ⛔ NO-GO — warrant not signed ({OFFICER})",
        "FR-OFAC: … waiting",
        "NO-GO: DE-BKA",
        "Missing: FR-OFAC",
    ]
    again = await h.ok("!rollcall")  # a lead asking again does not open a second one
    assert "Roll call R-1 (open)" in again.text and "/rollcall close" in again.text
    assert len(await h.rows("SELECT * FROM rollcalls")) == 1


async def test_answers_change_show_who_is_missing_and_all_go(h: Harness) -> None:
    await h.ok("!rollcall")
    first = await h.ok("!ready", sender=OFFICER)
    assert first.text.splitlines()[0] == "DE-BKA GO"
    assert "Missing: FR-OFAC" in first.text and "ALL GO" not in first.text
    nogo = await h.ok("!notready “servers not yet located”", sender=OTHER)
    assert "FR-OFAC NO-GO — servers not yet located" in nogo.text
    assert "NO-GO: FR-OFAC" in nogo.text and "Missing" not in nogo.text
    h.clock.advance(minutes=10)
    go = await h.ok("!ready", sender=LEAD)  # same agency as OTHER: the answer is replaced
    assert go.text.splitlines()[-1] == "ALL GO"
    answers = await h.rows("SELECT agency, ready, reason, user_id, at FROM rollcall_answers "
                           "ORDER BY agency")
    assert answers == [
        {"agency": "DE-BKA", "ready": 1, "reason": None, "user_id": OFFICER,
         "at": "2026-11-24T12:00:00Z"},
        {"agency": "FR-OFAC", "ready": 1, "reason": None, "user_id": LEAD,
         "at": "2026-11-24T12:10:00Z"},
    ]
    changes = await h.rows("SELECT action, before, after FROM audit_log "
                           "WHERE tbl='rollcall_answers' ORDER BY id")
    assert [c["action"] for c in changes] == ["insert", "insert", "update"]
    before = open_image(h.db.keys, json.loads(changes[2]["before"]))
    assert before["reason"] == "servers not yet located"
    assert (await state(h))["agencies"][1] == {
        "code": "FR-OFAC", "ready": True, "reason": None, "by": LEAD,
        "at": "2026-11-24T12:10:00Z"}


async def test_an_agency_added_while_open_is_missing(h: Harness) -> None:
    await h.ok("!rollcall")
    await h.ok("!ready", sender=OFFICER)
    await h.ok("!ready", sender=OTHER)
    await h.ok("!agency add NL-POL country=NL tz=Europe/Amsterdam")
    shown = await h.ok("!rollcall")
    assert "Missing: NL-POL" in shown.text and "ALL GO" not in shown.text


async def test_answer_errors(h: Harness) -> None:
    for line in ("!ready", '!notready "x"'):
        reply = await h.fails(line, sender=OFFICER)
        assert "no roll call is open; a lead opens one with /rollcall" in reply.text
    await h.ok("!rollcall")
    unmapped = await h.fails("!ready", sender="@nobody:localhost")
    assert ("you are not mapped to an agency; a lead maps you with "
            "/member @nobody:localhost agency=CODE") in unmapped.text
    missing = await h.fails("!notready", sender=OFFICER)
    assert 'missing "reason"' in missing.text and 'Usage: /notready "reason"' in missing.text
    assert "reason is empty" in (await h.fails('!notready ""', sender=OFFICER)).text
    assert "unexpected 'now'" in (await h.fails("!ready now", sender=OFFICER)).text
    assert await h.rows("SELECT * FROM rollcall_answers") == []


async def test_reasons_are_escaped_in_html(h: Harness) -> None:
    await h.ok("!rollcall")
    reply = await h.ok('!notready "<script>alert(1)</script>"', sender=OFFICER)
    assert "<script>" not in reply.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.html
    assert "<script>alert(1)</script>" in reply.text


async def test_close_keeps_the_result_and_a_new_round_starts_fresh(h: Harness) -> None:
    await h.ok("!rollcall")
    await h.ok("!ready", sender=OFFICER)
    h.clock.advance(minutes=5)
    closed = await h.ok("!rollcall close")
    assert closed.text.splitlines()[:3] == [
        "Roll call R-1 closed", f"DE-BKA: ✅ GO ({OFFICER})", "FR-OFAC: … waiting"]
    assert await h.rows("SELECT status, closed_at FROM rollcalls") == [
        {"status": "closed", "closed_at": "2026-11-24T12:05:00Z"}]
    after_close = await state(h)
    assert after_close["open"] is False and after_close["seq"] == 1
    assert after_close["agencies"][0]["ready"] is True  # the sitrep still sees the result
    assert "no roll call is open" in (await h.fails("!ready", sender=OTHER)).text
    assert "no roll call is open" in (await h.fails("!rollcall close")).text
    reopened = await h.ok("!rollcall")
    assert "roll call R-2" in reopened.text and "Waiting for: DE-BKA, FR-OFAC" in reopened.text
    fresh = await state(h)
    assert fresh["seq"] == 2 and {a["ready"] for a in fresh["agencies"]} == {None}


async def test_sitrep_shows_go_no_go(h: Harness) -> None:
    await h.ok("!rollcall")
    await h.ok('!notready "waiting for warrant"', sender=OFFICER)
    sitrep = await h.ok("!sitrep")
    [line] = [x for x in sitrep.text.splitlines() if x.startswith("Go/no-go")]
    assert "R-1 (open)" in line and "waiting FR-OFAC" in line
    assert "NO-GO DE-BKA (waiting for warrant)" in line
