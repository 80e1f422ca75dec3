"""/undo reverts only your own last change, is audited, and never clobbers later work."""

from __future__ import annotations

import sqlite3

from tests.harness import LEAD, OFFICER, OTHER, Harness


async def test_undo_removes_your_new_task_and_keeps_the_number(h: Harness) -> None:
    await h.ok('!task add "Image server"', sender=OFFICER)
    reply = await h.ok("!undo", sender=OFFICER)
    assert "T-1 removed" in reply.text
    assert await h.rows("SELECT * FROM tasks") == []
    await h.ok('!task add "Second"', sender=OFFICER)
    assert [r["seq"] for r in await h.rows("SELECT seq FROM tasks")] == [2]


async def test_undo_restores_the_before_image_of_an_update(h: Harness) -> None:
    await h.ok('!task add "Image server" priority=low', sender=OFFICER)
    await h.ok("!task edit T-1 priority=critical", sender=OFFICER)
    reply = await h.ok("!undo", sender=OFFICER)
    assert "T-1 restored" in reply.text
    [task] = await h.rows("SELECT priority FROM tasks")
    assert task["priority"] == "low"


async def test_undo_goes_back_one_change_at_a_time(h: Harness) -> None:
    await h.ok('!task add "one"', sender=OFFICER)
    await h.ok('!task add "two"', sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    assert await h.rows("SELECT * FROM tasks") == []


async def test_undo_only_touches_your_own_changes(h: Harness) -> None:
    await h.ok('!task add "mine"', sender=OFFICER)
    await h.ok('!task add "theirs"', sender=OTHER)
    await h.ok("!undo", sender=OFFICER)
    assert [r["text"] for r in await h.rows("SELECT text FROM tasks")] == ["theirs"]


async def test_undo_with_nothing_to_undo_says_so(h: Harness) -> None:
    reply = await h.fails("!undo", sender=OFFICER)
    assert "no change" in reply.text


async def test_undo_refuses_when_someone_changed_the_record_since(h: Harness) -> None:
    await h.ok('!task add "shared"', sender=OFFICER)
    await h.ok("!task edit T-1 priority=high", sender=LEAD)
    reply = await h.fails("!undo", sender=OFFICER)
    assert "changed again" in reply.text
    assert len(await h.rows("SELECT * FROM tasks")) == 1


async def test_undo_is_audited_and_the_log_still_verifies(h: Harness) -> None:
    await h.ok('!task add "x"', sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    undo_rows = await h.rows("SELECT action, undoes FROM audit_log WHERE undoes IS NOT NULL")
    assert [r["action"] for r in undo_rows] == ["delete"]
    reply = await h.ok("!audit verify")
    assert "intact" in reply.text


async def test_audit_verify_reports_tampering_in_the_room(h: Harness) -> None:
    await h.ok('!task add "x"', sender=OFFICER)
    with sqlite3.connect(h.db.path) as raw:
        raw.execute("UPDATE audit_log SET command='!task add \"y\"' WHERE n=2")
    reply = await h.fails("!audit verify")
    assert "FAILED" in reply.text and "#2" in reply.text


async def test_a_demoted_lead_cannot_undo_a_lead_only_command(h: Harness) -> None:
    await h.ok("!op phase action", sender=LEAD)
    refused = await h.fails("!undo", sender=LEAD, power=0)
    assert refused.text.startswith(
        "⚠️ only a lead (power level 50 or more) can undo your last change (!op phase action):"
        " it needed a lead to change the operation's phase; nothing was changed")
    assert [r["phase"] for r in await h.rows("SELECT phase FROM operations")] == ["action"]
    await h.ok("!undo", sender=LEAD, power=50)  # a lead again: allowed
    assert [r["phase"] for r in await h.rows("SELECT phase FROM operations")] == ["planning"]


async def test_a_change_from_before_lead_powers_were_kept_is_judged_by_its_command(
        h: Harness) -> None:
    """Changes recorded before `lead_changes` existed: the command's declaration decides."""
    await h.ok('!sitrep note "hold the line"', sender=LEAD)
    with sqlite3.connect(h.db.path) as raw:
        raw.execute("DELETE FROM lead_changes")
    refused = await h.fails("!undo", sender=LEAD, power=10)
    assert "/sitrep note is lead-only; nothing was changed" in refused.text
    assert len(await h.rows("SELECT * FROM sitrep_notes")) == 1


async def test_a_demoted_lead_cannot_undo_setting_h_hour(h: Harness) -> None:
    """/hhour is declared for everyone (it shows H-hour); setting it used a lead's power."""
    await h.ok("!hhour 2026-11-25T04:00Z", sender=LEAD)
    assert "it needed a lead to set H-hour" in (await h.fails("!undo", sender=LEAD,
                                                              power=0)).text
    [op] = await h.rows("SELECT hhour FROM operations")
    assert op["hhour"] == "2026-11-25T04:00:00Z"


async def test_a_demoted_lead_cannot_undo_a_change_to_an_officers_record(h: Harness) -> None:
    await h.ok('!task add "officer task"', sender=OFFICER)
    await h.ok('!task edit T-1 text="lead rewrote it"', sender=LEAD)
    refused = await h.fails("!undo", sender=LEAD, power=0)
    assert f"it needed a lead to change T-1, recorded by {OFFICER}" in refused.text
    assert [r["text"] for r in await h.rows("SELECT text FROM tasks")] == ["lead rewrote it"]


async def test_a_demoted_lead_cannot_undo_lowering_a_tlp(h: Harness) -> None:
    await h.ok('!task add "lead task" tlp=RED', sender=LEAD)
    await h.ok("!task edit T-1 tlp=CLEAR", sender=LEAD)
    refused = await h.fails("!undo", sender=LEAD, power=0)
    assert "lower the TLP of T-1 from RED to CLEAR" in refused.text
    assert [r["tlp"] for r in await h.rows("SELECT tlp FROM tasks")] == ["CLEAR"]


async def test_undoing_a_raise_lowers_the_tlp_so_it_needs_a_lead(h: Harness) -> None:
    await h.ok('!task add "mine" tlp=GREEN', sender=OFFICER)
    await h.ok("!task edit T-1 tlp=RED", sender=OFFICER)
    refused = await h.fails("!undo", sender=OFFICER)
    assert ("undoing it would lower the TLP of T-1 from RED back to GREEN; nothing was "
            "changed") in refused.text
    assert [r["tlp"] for r in await h.rows("SELECT tlp FROM tasks")] == ["RED"]
    await h.ok("!task edit T-1 tlp=AMBER", sender=LEAD)  # a lead may lower it
    assert [r["tlp"] for r in await h.rows("SELECT tlp FROM tasks")] == ["AMBER"]


async def test_an_officer_still_undoes_their_own_ordinary_change(h: Harness) -> None:
    await h.ok('!task add "mine" tlp=GREEN', sender=OFFICER)
    await h.ok("!task done T-1", sender=OFFICER)
    assert "T-1 restored" in (await h.ok("!undo", sender=OFFICER)).text


async def test_undo_names_an_agency_in_the_singular(h: Harness) -> None:
    await h.ok("!agency add NL-POL country=NL tz=Europe/Amsterdam")
    undone = await h.ok("!undo")
    assert "agency NL-POL removed" in undone.text, undone.text
