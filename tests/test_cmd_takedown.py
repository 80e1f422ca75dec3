"""/hhour and /takedown: the action day on H-hour, in UTC and in each agency's clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commands.core import i18n
from commands.takedown import wall_clock
from tests.harness import LEAD, OFFICER, OTHER, Harness

NYC = "@nyc:localhost"


@pytest.fixture
async def h3(h: Harness) -> Harness:
    """FIREBREAK plus an agency on another continent, so local times differ."""
    await h.ok("!agency add US-FBI country=US tz=America/New_York")
    await h.ok(f"!member {NYC} agency=US-FBI")
    return h


# -- /hhour -------------------------------------------------------------------------------

async def test_hhour_set_shows_dtg_t_minus_and_each_agencys_local_time(h3: Harness) -> None:
    reply = await h3.ok("!hhour 2026-11-25 05:00 Europe/Paris")
    assert reply.text.splitlines() == [
        "H-hour set: 250400ZNOV26 (T-16h) · DE-BKA, FR-OFAC Nov 25, 2026, 05:00 CET"
        " · US-FBI Nov 24, 2026, 23:00 EST",
        "No takedown is planned relative to H, so none moved.",
    ]
    assert "<b>250400ZNOV26</b>" in reply.html
    [op] = await h3.rows("SELECT hhour FROM operations")
    assert op["hhour"] == "2026-11-25T04:00:00Z"
    [entry] = await h3.rows("SELECT sender, before, after FROM audit_log "
                            "WHERE tbl='operations' AND action='update'")
    assert entry["sender"] == LEAD
    assert json.loads(entry["before"])["hhour"] is None
    assert json.loads(entry["after"])["hhour"] == "2026-11-25T04:00:00Z"


async def test_hhour_without_zone_is_read_in_the_senders_agency_zone(h3: Harness) -> None:
    await h3.ok("!member @nyclead:localhost agency=US-FBI")
    await h3.ok("!hhour 2026-11-25 05:00", sender="@nyclead:localhost", power=100)
    assert (await h3.rows("SELECT hhour FROM operations"))[0]["hhour"] == "2026-11-25T10:00:00Z"


async def test_hhour_accepts_dtg_and_relative(h: Harness) -> None:
    await h.ok("!hhour 250400ZNOV26")
    assert (await h.rows("SELECT hhour FROM operations"))[0]["hhour"] == "2026-11-25T04:00:00Z"
    await h.ok("!hhour in 90m")
    assert (await h.rows("SELECT hhour FROM operations"))[0]["hhour"] == "2026-11-24T13:30:00Z"


async def test_hhour_show_counts_down_then_up(h: Harness) -> None:
    assert "H-hour is not set; a lead sets it with /hhour TIME" in (
        await h.fails("!hhour", sender=OFFICER)).text
    await h.ok("!hhour 2026-11-25T04:00Z")
    shown = await h.ok("!hhour", sender=OFFICER)
    assert shown.text == ("H-hour 250400ZNOV26 (T-16h) · DE-BKA, FR-OFAC "
                          "Nov 25, 2026, 05:00 CET")
    h.clock.current = datetime(2026, 11, 25, 4, 45, tzinfo=UTC)
    assert "(T+45m)" in (await h.ok("!hhour", sender=OFFICER)).text


@pytest.mark.parametrize(("line", "fragment"), [
    ("!hhour 2026-11-01T04:00Z", "H-hour 010400ZNOV26 is in the past"),
    ("!hhour now", "is in the past"),
    ("!hhour -1h", "is in the past"),
    ("!hhour soon", "time: 'soon' is not a time"),
    ("!hhour 2026-11-25 05:00 Mars/Base", "not an IANA time zone"),
    ("!hhour H+1h", "H-hour is not set"),
])
async def test_hhour_refusals(h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line)
    assert fragment in reply.text and "Usage: /hhour [TIME]" in reply.text
    assert (await h.rows("SELECT hhour FROM operations"))[0]["hhour"] is None


async def test_hhour_is_lead_only_and_cannot_be_relative_to_itself(h: Harness) -> None:
    refused = await h.fails("!hhour 2026-11-25T04:00Z", sender=OFFICER)
    assert "only a lead (power level 50 or more) can set H-hour" in refused.text
    await h.ok("!hhour 2026-11-25T04:00Z")
    assert "cannot be set relative to itself" in (await h.fails("!hhour H+1h")).text
    assert (await h.rows("SELECT hhour FROM operations"))[0]["hhour"] == "2026-11-25T04:00:00Z"


async def test_moving_h_moves_only_h_relative_open_takedowns_with_audit(h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add a agency=DE-BKA at=H+30m")           # K-1 relative
    await h.ok("!takedown add b agency=DE-BKA at=H-1h")            # K-2 relative, goes
    await h.ok("!takedown add c agency=DE-BKA at=2026-11-25T06:00Z")  # K-3 absolute
    await h.ok("!takedown add d agency=FR-OFAC")                    # K-4 at H by default
    await h.ok("!takedown add e agency=FR-OFAC at=H")               # K-5 relative, done
    await h.ok("!takedown go K-2")
    await h.ok("!takedown done K-5")
    audit_before = len(await h.rows("SELECT id FROM audit_log"))
    moved = await h.ok("!hhour 2026-11-25T05:00Z")
    assert "(was 250400ZNOV26)" in moved.text
    assert "3 takedowns planned relative to H moved with it." in moved.text
    rows = await h.rows("SELECT seq, planned_at, h_offset FROM takedowns ORDER BY seq")
    assert rows == [
        {"seq": 1, "planned_at": "2026-11-25T05:30:00Z", "h_offset": 1800},
        {"seq": 2, "planned_at": "2026-11-25T04:00:00Z", "h_offset": -3600},
        {"seq": 3, "planned_at": "2026-11-25T06:00:00Z", "h_offset": None},
        {"seq": 4, "planned_at": "2026-11-25T05:00:00Z", "h_offset": 0},
        {"seq": 5, "planned_at": "2026-11-25T04:00:00Z", "h_offset": 0},  # done: history
    ]
    entries = await h.rows("SELECT tbl, action, row_id FROM audit_log ORDER BY id")
    new = entries[audit_before:]
    assert [(e["tbl"], e["action"]) for e in new] == [
        ("operations", "update")] + [("takedowns", "update")] * 3


async def test_takedown_planned_at_h_before_h_is_set_gets_its_time_when_it_is(
        h: Harness) -> None:
    added = await h.ok("!takedown add botnet-c2 agency=DE-BKA", sender=OFFICER)
    assert "plan at H (H-hour not set)" in added.text
    assert "1 takedown planned relative to H moved" in (
        await h.ok("!hhour 2026-11-25T04:00Z")).text
    assert await h.rows("SELECT planned_at, h_offset FROM takedowns") == [
        {"planned_at": "2026-11-25T04:00:00Z", "h_offset": 0}]


def test_local_times_are_written_as_the_readers_locale_writes_them() -> None:
    at = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    with i18n.speaking("fr"):
        assert wall_clock(at, "America/New_York") == "24 nov. 2026, 23:00 EST"
    with i18n.speaking("es"):
        assert wall_clock(at, "Europe/Paris") == "25 nov 2026, 5:00 CET"
    with i18n.speaking("ar"):
        shown = wall_clock(at, "Europe/Paris")
        # no bidi mark from Babel: a reply would show it as <U+200F>
        assert "2026" in shown and shown.endswith(" CET")
        assert not set(shown) & {"\u200e", "\u200f", "\u061c"}


# -- /takedown add ------------------------------------------------------------------------

async def test_add_for_a_seized_item_links_it_and_shows_it_defanged(h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!seize domain evil.example", sender=OFFICER)
    reply = await h.ok("!takedown add s-1 agency=DE-BKA at=H+30m tlp=RED", sender=OFFICER)
    assert reply.text.splitlines() == [
        "K-1 S-1 evil[.]example · DE-BKA [planned] · plan 250430ZNOV26 (H+30m)",
        "DE-BKA, FR-OFAC Nov 25, 2026, 05:30 CET",
    ]
    [row] = await h.rows("SELECT * FROM takedowns")
    assert {k: row[k] for k in ("seq", "target", "seizure_seq", "agency", "planned_at",
                                "h_offset", "status", "executed_at", "tlp", "created_by")} == {
        "seq": 1, "target": "S-1 evil[.]example", "seizure_seq": 1, "agency": "DE-BKA",
        "planned_at": "2026-11-25T04:30:00Z", "h_offset": 1800, "status": "planned",
        "executed_at": None, "tlp": "RED", "created_by": OFFICER}
    # the indicator of record stays refanged in the seizure
    assert (await h.rows("SELECT value FROM seizures"))[0]["value"] == "evil.example"
    [entry] = await h.rows("SELECT action FROM audit_log WHERE tbl='takedowns'")
    assert entry["action"] == "insert"


async def test_add_free_text_and_bare_indicators(h: Harness) -> None:
    await h.ok('!takedown add "S-Bahn <signalling> panel" agency=FR-OFAC at=2026-11-25T06:00Z')
    await h.ok("!takedown add hxxps://evil[.]example/login agency=FR-OFAC at=+1h")
    await h.ok("!takedown add 203.0.113.7 agency=FR-OFAC at=+1h")
    reply = await h.ok("!takedown list")
    assert "S-Bahn &lt;signalling&gt; panel" in reply.html and "<signalling>" not in reply.html
    rows = await h.rows("SELECT target, seizure_seq, h_offset FROM takedowns ORDER BY seq")
    assert rows == [
        {"target": "S-Bahn <signalling> panel", "seizure_seq": None, "h_offset": None},
        {"target": "hxxps://evil[.]example/login", "seizure_seq": None, "h_offset": None},
        {"target": "203[.]0[.]113[.]7", "seizure_seq": None, "h_offset": None},
    ]


@pytest.mark.parametrize(("line", "fragment"), [
    ("!takedown add S-9 agency=DE-BKA", "there is no seized item S-9 in this operation"),
    ("!takedown add x agency=NL-POL", "agency NL-POL is not registered"),
    ("!takedown add x", "missing agency=CODE"),
    ("!takedown add agency=DE-BKA", "missing TARGET"),
    ('!takedown add "" agency=DE-BKA', "target is empty"),
    ('!takedown add "' + "x" * 201 + '" agency=DE-BKA', "target is 201 characters"),
    ("!takedown add x agency=DE-BKA at=H+30m", "H-hour is not set"),
    ("!takedown add x agency=DE-BKA at=later", "at=: 'later' is not a time"),
    ("!takedown add x agency=DE-BKA tlp=PINK", "not a TLP 2.0 level"),
    ("!takedown add x agency=DE-BKA when=H", "unknown key when="),
    ("!takedown add x y agency=DE-BKA", "unexpected 'y'"),
])
async def test_add_validation(h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line)
    assert fragment in reply.text
    assert await h.rows("SELECT * FROM takedowns") == []


async def test_officers_plan_only_their_own_agencys_takedowns(h: Harness) -> None:
    refused = await h.fails("!takedown add x agency=FR-OFAC", sender=OFFICER)
    assert ("officers may plan and report only their own agency's takedowns "
            "(yours: DE-BKA; this one: FR-OFAC)") in refused.text
    unmapped = await h.fails("!takedown add x agency=FR-OFAC", sender="@new:localhost")
    assert "yours: none — a lead maps you with /member" in unmapped.text
    await h.ok("!takedown add x agency=DE-BKA", sender=OFFICER)
    await h.ok("!takedown add y agency=DE-BKA", sender=LEAD)  # leads plan for anyone
    assert len(await h.rows("SELECT * FROM takedowns")) == 2


# -- /takedown list -----------------------------------------------------------------------

async def test_list_filters_order_and_local_times(h3: Harness) -> None:
    await h3.ok("!hhour 2026-11-25T04:00Z")
    await h3.ok("!takedown add late agency=DE-BKA at=H+2h")
    await h3.ok("!takedown add early agency=US-FBI at=H-1h")
    await h3.ok("!takedown add nope agency=FR-OFAC")
    await h3.ok("!takedown add gone agency=FR-OFAC")
    await h3.ok("!takedown done K-1")
    await h3.ok('!takedown failed K-3 "hoster refused"')
    await h3.ok("!takedown abort K-4")
    planned = await h3.ok("!takedown list planned", sender=OFFICER)
    assert planned.text.splitlines() == [
        "Takedowns (planned): 1",
        "• K-2 early · US-FBI [planned] · plan 250300ZNOV26 (H-1h) · DE-BKA, FR-OFAC "
        "Nov 25, 2026, 04:00 CET · US-FBI Nov 24, 2026, 22:00 EST",
    ]
    executed = await h3.ok("!takedown list executed")
    assert "Takedowns (executed): 1" in executed.text and "done 241200ZNOV26" in executed.text
    failed = await h3.ok("!takedown list failed")
    assert "K-3" in failed.text and "K-4" in failed.text and "hoster refused" in failed.text
    everything = (await h3.ok("!takedown list")).text.splitlines()
    assert everything[0] == "Takedowns (all): 4"
    assert [line.split()[1] for line in everything[1:]] == ["K-2", "K-3", "K-4", "K-1"]
    assert "not one of planned, executed, failed, all" in (
        await h3.fails("!takedown list done")).text


async def test_list_pages(h: Harness) -> None:
    for i in range(22):
        await h.ok(f"!takedown add t{i} agency=DE-BKA at=2026-11-25T{i:02d}:00Z")
    first = await h.ok("!takedown list")
    assert "… 2 more (/takedown list all page=2)" in first.text
    assert "K-22" in (await h.ok("!takedown list all page=2")).text


# -- /takedown go|done|failed|abort -------------------------------------------------------

async def test_go_then_done_stamps_the_command_time_with_offset_and_local_time(
        h3: Harness) -> None:
    await h3.ok("!hhour 2026-11-25T04:00Z")
    await h3.ok("!takedown add srv agency=DE-BKA at=H+30m", sender=OFFICER)
    h3.clock.current = datetime(2026, 11, 25, 4, 25, tzinfo=UTC)
    assert "K-1 srv → GO" in (await h3.ok("!takedown go K-1", sender=OFFICER)).text
    h3.clock.current = datetime(2026, 11, 25, 4, 37, tzinfo=UTC)
    done = await h3.ok('!takedown done K-1 "servers <imaged>"', sender=OFFICER)
    assert done.text.splitlines() == [
        "K-1 srv → DONE",
        "Executed 250437ZNOV26 (+7m vs plan) · DE-BKA, FR-OFAC Nov 25, 2026, 05:37 "
        "CET · US-FBI Nov 24, 2026, 23:37 EST",
        "Note: servers <imaged>",
    ]
    assert "servers &lt;imaged&gt;" in done.html
    [row] = await h3.rows("SELECT status, executed_at, note FROM takedowns")
    assert row == {"status": "done", "executed_at": "2026-11-25T04:37:00Z",
                   "note": "servers <imaged>"}
    updates = await h3.rows("SELECT sender, after FROM audit_log WHERE tbl='takedowns' "
                            "AND action='update' ORDER BY id")
    assert [json.loads(u["after"])["status"] for u in updates] == ["go", "done"]
    assert {u["sender"] for u in updates} == {OFFICER}


async def test_done_early_shows_a_negative_offset(h: Harness) -> None:
    await h.ok("!takedown add srv agency=DE-BKA at=2026-11-24T12:30Z")
    assert "(-30m vs plan)" in (await h.ok("!takedown done K-1")).text


async def test_done_without_a_plan_shows_no_offset(h: Harness) -> None:
    await h.ok("!takedown add srv agency=DE-BKA")  # at H, H-hour not set
    done = await h.ok("!takedown done K-1")
    assert "Executed 241200ZNOV26 · " in done.text and "vs plan" not in done.text


@pytest.mark.parametrize(("steps", "action", "state"), [
    (["go"], "go", "go"),
    (["done"], "go", "done"),
    (["done"], "done", "done"),
    (["done"], "failed", "done"),
    (["done"], "abort", "done"),
    (["failed"], "done", "failed"),
    (["abort"], "go", "aborted"),
    (["go", "abort"], "done", "aborted"),
])
async def test_invalid_transitions_name_the_current_state(
        h: Harness, steps: list[str], action: str, state: str) -> None:
    await h.ok("!takedown add srv agency=DE-BKA")
    for step in steps:
        await h.ok(f"!takedown {step} K-1")
    reply = await h.fails(f"!takedown {action} K-1")
    assert f"K-1 is {state}; {action} is not possible now" in reply.text
    assert (await h.rows("SELECT status FROM takedowns"))[0]["status"] == state


@pytest.mark.parametrize(("steps", "final"), [
    (["go", "done"], "done"), (["go", "failed"], "failed"), (["go", "abort"], "aborted"),
    (["abort"], "aborted"), (["done"], "done"), (["failed"], "failed"),
])
async def test_valid_transitions(h: Harness, steps: list[str], final: str) -> None:
    await h.ok("!takedown add srv agency=DE-BKA")
    for step in steps:
        await h.ok(f"!takedown {step} K-1")
    [row] = await h.rows("SELECT status, executed_at FROM takedowns")
    assert row["status"] == final
    assert (row["executed_at"] is not None) == (final == "done")


async def test_officers_report_only_their_own_agencys_takedowns(h: Harness) -> None:
    await h.ok("!takedown add de agency=DE-BKA")
    await h.ok("!takedown add fr agency=FR-OFAC")
    assert "own agency" in (await h.fails("!takedown go K-1", sender=OTHER)).text
    assert "own agency" in (await h.fails("!takedown done K-2", sender=OFFICER)).text
    await h.ok("!takedown go K-1", sender=OFFICER)  # created by the lead, but DE-BKA's
    await h.ok("!takedown done K-2", sender=OTHER)
    await h.ok("!takedown done K-1", sender=LEAD)
    assert [r["status"] for r in await h.rows("SELECT status FROM takedowns ORDER BY seq")] == [
        "done", "done"]


@pytest.mark.parametrize(("line", "fragment"), [
    ("!takedown go K-7", "there is no takedown K-7 in this operation"),
    ("!takedown go S-1", "S-1 is a seized item id; this needs a takedown id (K-N)"),
    ("!takedown go", "missing K-N"),
    ("!takedown", "missing go|done|failed|abort; see also /takedown add, /takedown list"),
    ("!takedown launch K-1", "'launch' is not one of go, done, failed, abort"),
    ('!takedown done K-1 "' + "x" * 301 + '"', "note is 301 characters"),
])
async def test_report_validation(h: Harness, line: str, fragment: str) -> None:
    await h.ok("!takedown add srv agency=DE-BKA")
    assert fragment in (await h.fails(line)).text
    assert (await h.rows("SELECT status FROM takedowns"))[0]["status"] == "planned"
