"""/op, /agency, /member, /task, /help and the grammar, as officers and leads meet them."""

from __future__ import annotations

import pytest

from commands.core import registry, spec
from tests.harness import LEAD, OFFICER, OTHER, Harness


async def test_op_init_binds_the_room_once(bare: Harness) -> None:
    reply = await bare.ok('!op init "Firebreak" code=FIREBREAK tz=europe/paris tlp=green')
    assert "Operation Firebreak" in reply.text
    [op] = await bare.rows("SELECT * FROM operations")
    assert (op["code"], op["tz"], op["tlp"], op["phase"]) == (
        "FIREBREAK", "Europe/Paris", "GREEN", "planning")
    again = await bare.fails('!op init "Other" code=OTHER')
    assert "already" in again.text


async def test_commands_need_an_operation_first(bare: Harness) -> None:
    reply = await bare.fails('!task add "x"', sender=OFFICER)
    assert "/op init" in reply.text


async def test_officer_cannot_init_or_change_phase(bare: Harness) -> None:
    reply = await bare.fails('!op init "X" code=XRAY', sender=OFFICER)
    assert "only a lead" in reply.text
    await bare.ok('!op init "X" code=XRAY')
    assert "only a lead" in (await bare.fails("!op phase action", sender=OFFICER)).text
    assert "phase planning → action" in (await bare.ok("!op phase action")).text


async def test_closed_operation_is_final(h: Harness) -> None:
    await h.ok("!op phase closed")
    assert "closed" in (await h.fails("!op phase action")).text


@pytest.mark.parametrize(("line", "fragment"), [
    ("!op init code=XRAY", "missing"),
    ('!op init "X" code=XRAY tz=Mars/Base', "tz="),
    ('!op init "X" code=XRAY tlp=WHITE', "CLEAR"),
    ('!op init "X" code=1XRAY', "code="),
    ('!op init "X" code=XRAY colour=red', "unknown key colour="),
])
async def test_op_init_validation(bare: Harness, line: str, fragment: str) -> None:
    reply = await bare.fails(line)
    assert fragment in reply.text
    assert "Usage: /op init" in reply.text


async def test_agency_and_member(h: Harness) -> None:
    listing = await h.ok("!agency list", sender=OFFICER)
    assert "DE-BKA" in listing.text and "Bundeskriminalamt" in listing.text
    assert "already" in (await h.fails("!agency add DE-BKA country=DE tz=Europe/Berlin")).text
    assert "only a lead" in (await h.fails("!agency add NL-X country=NL tz=Europe/Amsterdam",
                                           sender=OFFICER)).text
    assert "ISO 3166" in (await h.fails("!agency add UK-NCA country=XX tz=Europe/London")).text
    assert "not registered" in (await h.fails(f"!member {OFFICER} agency=NL-X")).text
    moved = await h.ok(f"!member {OFFICER} agency=FR-OFAC")
    assert "moved DE-BKA → FR-OFAC" in moved.text
    assert "Matrix user ID" in (await h.fails("!member @bad agency=FR-OFAC")).text


async def test_task_lifecycle_and_roles(h: Harness) -> None:
    reply = await h.fails('!task add "x" due=H+2h', sender=OFFICER)
    assert "H-hour is not set" in reply.text
    added = await h.ok(f'!task add "Image <server>" {OFFICER} due=+2h priority=high',
                       sender=LEAD)
    assert "T-1 created" in added.text and "&lt;server&gt;" in added.html
    [task] = await h.rows("SELECT * FROM tasks")
    assert (task["assignee"], task["agency"], task["priority"], task["due"]) == (
        OFFICER, "DE-BKA", "high", "2026-11-24T14:00:00Z")
    assert "recorded by" in (await h.fails("!task done T-1", sender=OTHER)).text
    assert "open → done" in (await h.ok("!task done T-1", sender=OFFICER)).text
    assert "already done" in (await h.fails("!task done T-1", sender=OFFICER)).text
    assert "no task T-9" in (await h.fails("!task start T-9")).text
    assert "arrest id" in (await h.fails("!task start A-1")).text
    assert "nothing to change" in (await h.fails("!task edit T-1")).text
    edited = await h.ok('!task edit T-1 text="Image both servers" priority=critical')
    assert "priority=critical" in edited.text


async def test_task_lists_filter_and_page(h: Harness) -> None:
    for i in range(25):
        await h.ok(f'!task add "task {i}"', sender=OFFICER)
    await h.ok(f"!task assign T-3 {OTHER}")
    await h.ok('!task add "late" due=+1h', sender=OFFICER)
    h.clock.advance(hours=2)
    first = await h.ok("!task list")
    assert "Tasks (open): 26" in first.text and "… 6 more" in first.text
    second = await h.ok("!task list page=2")
    assert "T-26" in second.text and "T-1 " not in second.text
    assert "T-3" in (await h.ok("!task list mine", sender=OTHER)).text
    overdue = await h.ok("!task list overdue")
    assert "T-26" in overdue.text and "OVERDUE" in overdue.text and "T-1 " not in overdue.text
    assert "T-3" in (await h.ok("!task list agency=FR-OFAC")).text


async def test_help_lists_every_command_and_usage_comes_from_declarations(h: Harness) -> None:
    registry.load()
    text = (await h.ok("!help", sender=OFFICER)).text
    for name in spec.top_level_names():
        assert f"!{name}" in text
    task_help = (await h.ok("!help task")).text
    for cmd in spec.subcommands("task"):
        assert cmd.usage in task_help
    assert "Did you mean /task?" in (await h.fails("!tsak list")).text
    assert "did you mean task?" in (await h.fails("!help tsak")).text.lower()
    error = await h.fails("!seize list status=gone")
    assert spec.REGISTRY[("seize", "list")].usage in error.text


async def test_slash_and_bang_are_the_same(h: Harness) -> None:
    await h.ok('/task add "slash"', sender=OFFICER)
    await h.ok('!task add "bang"', sender=OFFICER)
    assert len(await h.rows("SELECT * FROM tasks")) == 2
