"""/task: add, list, done/start/block, assign, edit — who may change what, and what is kept."""

from __future__ import annotations

import json

import pytest

from storage.sealing import open_image
from tests.harness import LEAD, OFFICER, OTHER, Harness

TASK_ADD_USAGE = ('/task add "text" [@assignee] [due=TIME] [priority=low|normal|high|critical] '
                  "[tlp=CLEAR|GREEN|AMBER|AMBER+STRICT|RED]")


async def test_add_stores_the_task_with_its_bookkeeping(h: Harness) -> None:
    reply = await h.ok(f'!task add "Image <server> fra-2" {OFFICER} due=+2h priority=high '
                       "tlp=red", sender=LEAD)
    assert reply.text == (f"T-1 created: Image <server> fra-2 → {OFFICER} · due 241400ZNOV26"
                          " · high")
    assert "Image &lt;server&gt; fra-2" in reply.html and "<server>" not in reply.html
    assert f'<a href="https://matrix.to/#/{OFFICER}">' in reply.html  # the assignee is pinged
    [task] = await h.rows("SELECT * FROM tasks")
    assert {k: task[k] for k in ("seq", "text", "assignee", "agency", "due", "priority",
                                 "status", "tlp", "created_by", "created_at")} == {
        "seq": 1, "text": "Image <server> fra-2", "assignee": OFFICER, "agency": "DE-BKA",
        "due": "2026-11-24T14:00:00Z", "priority": "high", "status": "open", "tlp": "RED",
        "created_by": LEAD, "created_at": "2026-11-24T12:00:00Z"}
    [entry] = await h.rows("SELECT * FROM audit_log WHERE tbl='tasks'")
    assert entry["action"] == "insert" and entry["sender"] == LEAD
    # the log holds the text sealed (issue 18), and it opens with the task's key
    assert "Image" not in entry["after"]
    assert open_image(h.db.keys, json.loads(entry["after"]))["text"] == "Image <server> fra-2"


async def test_add_defaults(h: Harness) -> None:
    assert (await h.ok('!task add "Call Europol"', sender=OTHER)).text == (
        "T-1 created: Call Europol")
    [task] = await h.rows("SELECT assignee, agency, due, priority, tlp FROM tasks")
    # no assignee: the task belongs to the creator's agency; TLP from the operation
    assert task == {"assignee": None, "agency": "FR-OFAC", "due": None, "priority": "normal",
                    "tlp": "AMBER"}


async def test_numbers_are_per_operation_and_never_reused(h: Harness) -> None:
    await h.ok('!task add "one"', sender=OFFICER)
    await h.ok('!task add "two"', sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    assert "T-3 created" in (await h.ok('!task add "three"', sender=OFFICER)).text
    await h.ok('!op init "Other" code=OTHER', room="!b:localhost")
    assert "T-1 created" in (await h.ok('!task add "elsewhere"', room="!b:localhost")).text


@pytest.mark.parametrize(("line", "fragment"), [
    ("!task add", 'missing "text"'),
    ('!task add ""', "task text is empty"),
    ('!task add "' + "x" * 501 + '"', "task text is 501 characters; the limit is 500"),
    ('!task add "a\u202eb"', "control or invisible character (U+202E)"),
    ('!task add "x" priority=urgent', "'urgent' is not one of low, normal, high, critical"),
    ('!task add "x" priority=hihg', "did you mean high?"),
    ('!task add "x" due=tomorrow', "due=: 'tomorrow' is not a time"),
    ('!task add "x" due=H+2h', "H-hour is not set"),
    ('!task add "x" due=31/12/26', "ambiguous"),
    ('!task add "x" tlp=WHITE', "TLP 2.0 calls it CLEAR"),
    ('!task add "x" @bad', "assignee: '@bad' is not a Matrix user ID"),
    ('!task add "x" @a:b.example @c:d.example', "unexpected '@c:d.example'"),
    ('!task add "x" owner=@a:b.example', "unknown key owner="),
    ('!task add "x" "y"', "unexpected '\"y\"'"),
    ('!task add "x" due=in 2h', "unexpected '2h'; quote it: due=\"in 2h\""),
    ('!task add "x" due=in 2 h priority=high', "quote it: due=\"in 2 h\""),
])
async def test_add_validation_names_the_problem_and_shows_usage(
        h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line, sender=OFFICER)
    assert fragment in reply.text
    assert f"Usage: {TASK_ADD_USAGE}" in reply.text
    assert await h.rows("SELECT * FROM tasks") == []


async def test_status_changes_by_owner_assignee_or_lead(h: Harness) -> None:
    await h.ok(f'!task add "Seize server" {OFFICER}', sender=OTHER)
    # LEAD is neither creator nor assignee but a lead; OFFICER is the assignee
    blocked = await h.ok('!task block T-1 "no warrant yet"', sender=OFFICER)
    assert blocked.text == "T-1 open → blocked (no warrant yet): Seize server"
    assert "T-1 blocked → in-progress" in (await h.ok("!task start T-1", sender=LEAD)).text
    h.clock.advance(minutes=30)
    assert "in-progress → done" in (await h.ok("!task done T-1", sender=OTHER)).text
    [task] = await h.rows("SELECT status, reason, done_at FROM tasks")
    assert task == {"status": "done", "reason": None, "done_at": "2026-11-24T12:30:00Z"}
    assert "T-1 is already done" in (await h.fails("!task done T-1", sender=OTHER)).text
    actions = await h.rows("SELECT action FROM audit_log WHERE tbl='tasks' ORDER BY id")
    assert [a["action"] for a in actions] == ["insert", "update", "update", "update"]


async def test_an_officer_cannot_change_someone_elses_task(h: Harness) -> None:
    await h.ok('!task add "Lead\'s task"', sender=LEAD)
    for line in ("!task done T-1", "!task start T-1", '!task block T-1 "x"',
                 f"!task assign T-1 {OFFICER}", '!task edit T-1 text="mine now"'):
        reply = await h.fails(line, sender=OFFICER)
        assert f"T-1 was recorded by {LEAD}: only they or a lead can change it" in reply.text
    [task] = await h.rows("SELECT status, assignee, text FROM tasks")
    assert task == {"status": "open", "assignee": None, "text": "Lead's task"}


@pytest.mark.parametrize(("line", "fragment"), [
    ("!task done T-9", "there is no task T-9 in this operation"),
    ("!task done A-1", "A-1 is an arrest id; this needs a task id (T-N)"),
    ("!task done", "missing T-N"),
    ("!task done T-x", "is not an id like T-12"),
    ("!task frobnicate T-1", "/task needs one of:"),
])
async def test_status_validation(h: Harness, line: str, fragment: str) -> None:
    await h.ok('!task add "x"')
    assert fragment in (await h.fails(line)).text


async def test_blocking_a_task_needs_the_reason(h: Harness) -> None:
    await h.ok('!task add "x"')
    refused = await h.fails("!task block T-1")
    assert 'missing "reason"' in refused.text and 'Usage: /task block T-N "reason"' in refused.text
    assert (await h.rows("SELECT status FROM tasks"))[0]["status"] == "open"


async def test_ids_may_be_typed_loosely(h: Harness) -> None:
    await h.ok('!task add "x"')
    await h.ok("!task start t1")
    await h.ok('!task block #1 "no warrant"')
    await h.ok("!task done 1")
    assert (await h.rows("SELECT status FROM tasks"))[0]["status"] == "done"


async def test_assign_moves_the_task_to_the_assignees_agency(h: Harness) -> None:
    await h.ok('!task add "x"', sender=OFFICER)
    assert (await h.rows("SELECT agency FROM tasks"))[0]["agency"] == "DE-BKA"
    reply = await h.ok(f"!task assign T-1 {OTHER}", sender=OFFICER)
    assert reply.text == f"T-1 → {OTHER}: x"
    assert await h.rows("SELECT assignee, agency FROM tasks") == [
        {"assignee": OTHER, "agency": "FR-OFAC"}]
    # an assignee nobody has mapped yet: the task has no agency rather than a wrong one
    await h.ok("!task assign T-1 @guest:elsewhere.example", sender=LEAD)
    assert await h.rows("SELECT assignee, agency FROM tasks") == [
        {"assignee": "@guest:elsewhere.example", "agency": None}]
    assert "missing @assignee" in (await h.fails("!task assign T-1")).text


async def test_edit(h: Harness) -> None:
    await h.ok('!task add "x" priority=low', sender=OFFICER)
    reply = await h.ok('!task edit T-1 text="Image both servers" priority=critical '
                       "due=2026-11-25T10:00Z", sender=OFFICER)
    assert reply.text == ("T-1 updated: text=Image both servers, due=251000ZNOV26, "
                          "priority=critical")
    assert await h.rows("SELECT text, due, priority FROM tasks") == [
        {"text": "Image both servers", "due": "2026-11-25T10:00:00Z", "priority": "critical"}]
    assert "nothing to change" in (await h.fails("!task edit T-1", sender=OFFICER)).text
    assert "unknown key status=" in (await h.fails("!task edit T-1 status=done")).text


async def test_only_a_lead_lowers_a_tlp_and_the_refusal_records_nothing(h: Harness) -> None:
    await h.ok('!task add "raid plan" tlp=RED', sender=OFFICER)
    entries = len(await h.rows("SELECT n FROM audit_log"))
    refused = await h.fails('!task edit T-1 tlp=GREEN text="changed"', sender=OFFICER)
    assert refused.text.startswith("⚠️ only a lead (power level 50 or more) can lower the TLP "
                                   "of T-1 from RED to GREEN (anyone may raise it); nothing "
                                   "was changed")
    assert await h.rows("SELECT text, tlp FROM tasks") == [{"text": "raid plan", "tlp": "RED"}]
    assert len(await h.rows("SELECT n FROM audit_log")) == entries
    await h.ok("!task edit T-1 tlp=GREEN", sender=LEAD)
    [entry] = await h.rows("SELECT sender, before, after FROM audit_log WHERE n=?",
                           (entries + 1,))
    assert entry["sender"] == LEAD
    assert (json.loads(entry["before"])["tlp"], json.loads(entry["after"])["tlp"]) == (
        "RED", "GREEN")


async def test_anyone_may_raise_a_tlp(h: Harness) -> None:
    await h.ok('!task add "raid plan" tlp=GREEN', sender=OFFICER)
    assert (await h.ok("!task edit T-1 tlp=AMBER+STRICT", sender=OFFICER)).text == (
        "T-1 updated: tlp=AMBER+STRICT")
    assert "lower the TLP of T-1 from AMBER+STRICT to AMBER" in (
        await h.fails("!task edit T-1 tlp=AMBER", sender=OFFICER)).text


async def test_list_filters(h: Harness) -> None:
    await h.ok(f'!task add "for officer" {OFFICER} due=+1h', sender=LEAD)
    await h.ok(f'!task add "for other" {OTHER}', sender=LEAD)
    await h.ok('!task add "done one"', sender=LEAD)
    await h.ok("!task done T-3")
    h.clock.advance(hours=2)
    open_ = await h.ok("!task list", sender=OFFICER)
    assert open_.text.splitlines() == [
        "Tasks (open): 2",
        f"• T-1 [open] for officer → {OFFICER} · due 241300ZNOV26 ⚠️ OVERDUE",
        f"• T-2 [open] for other → {OTHER}",
    ]
    assert "Tasks (all): 3" in (await h.ok("!task list all")).text
    mine = await h.ok("!task list mine", sender=OFFICER)
    assert "T-1" in mine.text and "T-2" not in mine.text
    overdue = await h.ok("!task list overdue")
    assert "Tasks (overdue): 1" in overdue.text and "T-1" in overdue.text
    by_agency = await h.ok("!task list all agency=fr-ofac")
    assert "Tasks (all, FR-OFAC): 2" in by_agency.text and "T-1" not in by_agency.text
    assert "not registered" in (await h.fails("!task list agency=NL-POL")).text
    assert "'late' is not one of open, mine, overdue, all" in (
        await h.fails("!task list late")).text


async def test_list_pages_and_escapes(h: Harness) -> None:
    for i in range(21):
        await h.ok(f'!task add "<i>task {i}</i>"', sender=OFFICER)
    first = await h.ok("!task list")
    assert "… 1 more (/task list open page=2)" in first.text
    assert "&lt;i&gt;task 0&lt;/i&gt;" in first.html and "<i>" not in first.html
    assert "T-21" in (await h.ok("!task list page=2")).text
