"""/hhour, /takedown, /rollcall: the action day runs on H-hour and each agency's clock."""

from __future__ import annotations

from tests.harness import LEAD, OFFICER, OTHER, Harness


async def test_hhour_lead_only_not_in_the_past_shown_in_local_times(h: Harness) -> None:
    assert "only a lead" in (await h.fails("!hhour 2026-11-25T04:00Z", sender=OFFICER)).text
    assert "in the past" in (await h.fails("!hhour 2026-11-01T04:00Z")).text
    reply = await h.ok("!hhour 2026-11-25 05:00 Europe/Paris")
    assert "250400ZNOV26" in reply.text
    assert "DE-BKA, FR-OFAC 25 Nov 05:00 CET" in reply.text
    shown = await h.ok("!hhour", sender=OFFICER)
    assert "T-16h" in shown.text


async def test_takedowns_relative_to_h_move_with_it(h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!seize domain evil.example", sender=OFFICER)
    await h.ok("!takedown add S-1 agency=DE-BKA at=H+30m", sender=OFFICER)
    await h.ok('!takedown add "bulletproof host" agency=FR-OFAC at=2026-11-25T06:00Z')
    moved = await h.ok("!hhour 2026-11-25T05:00Z")
    assert "1 takedown(s)" in moved.text
    rows = await h.rows("SELECT seq, target, planned_at, h_offset FROM takedowns ORDER BY seq")
    assert rows[0]["planned_at"] == "2026-11-25T05:30:00Z" and rows[0]["h_offset"] == 1800
    assert "evil[.]example" in rows[0]["target"]
    assert rows[1]["planned_at"] == "2026-11-25T06:00:00Z" and rows[1]["h_offset"] is None


async def test_takedown_execution_states_and_agency_rule(h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok('!takedown add "server A" agency=DE-BKA', sender=OFFICER)
    refused = await h.fails('!takedown add "server B" agency=FR-OFAC', sender=OFFICER)
    assert "own agency" in refused.text
    assert "own agency" in (await h.fails("!takedown go K-1", sender=OTHER)).text
    await h.ok("!takedown go K-1", sender=OFFICER)
    h.clock.current = h.clock.current.replace(day=25, hour=4, minute=7)
    done = await h.ok('!takedown done K-1 "servers imaged"', sender=OFFICER)
    assert "+7m vs plan" in done.text
    [row] = await h.rows("SELECT status, executed_at, note FROM takedowns")
    assert row == {"status": "done", "executed_at": "2026-11-25T04:07:00Z",
                   "note": "servers imaged"}
    assert "is done" in (await h.fails("!takedown abort K-1", sender=LEAD)).text
    assert "no takedown K-5" in (await h.fails("!takedown go K-5")).text
    assert "K-1" in (await h.ok("!takedown list executed")).text


async def test_rollcall_go_no_go(h: Harness) -> None:
    assert "no roll call" in (await h.fails("!ready", sender=OFFICER)).text
    assert "only a lead" in (await h.fails("!rollcall", sender=OFFICER)).text
    opened = await h.ok("!rollcall")
    assert "DE-BKA, FR-OFAC" in opened.text
    reply = await h.ok("!ready", sender=OFFICER)
    assert "Missing: FR-OFAC" in reply.text
    reply = await h.ok('!notready "warrant not signed"', sender=OTHER)
    assert "NO-GO — warrant not signed" in reply.text
    assert "ALL GO" in (await h.ok("!ready", sender=LEAD)).text
    unmapped = await h.fails("!ready", sender="@nobody:localhost")
    assert "/member @nobody:localhost" in unmapped.text
    assert "missing" in (await h.fails("!notready", sender=OFFICER)).text
    assert "closed" in (await h.ok("!rollcall close")).text
    assert "no roll call" in (await h.fails("!ready", sender=OFFICER)).text
