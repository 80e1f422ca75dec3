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
