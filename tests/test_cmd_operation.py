"""/op init, /op, /op phase: binding a room to an operation and moving it to closed."""

from __future__ import annotations

import json

import pytest

from tests.harness import LEAD, OFFICER, Harness


async def test_init_binds_the_room_and_is_audited(bare: Harness) -> None:
    reply = await bare.ok('!op init "Firebreak" code=firebreak tz=europe/paris tlp=green')
    assert "Operation Firebreak (FIREBREAK) opened in this room" in reply.text
    assert "zone Europe/Paris" in reply.text and "TLP:GREEN" in reply.text
    [op] = await bare.rows("SELECT * FROM operations")
    assert {k: op[k] for k in ("room_id", "name", "code", "tz", "tlp", "phase", "hhour",
                               "created_by", "created_at")} == {
        "room_id": bare.room, "name": "Operation Firebreak", "code": "FIREBREAK",
        "tz": "Europe/Paris", "tlp": "GREEN", "phase": "planning", "hhour": None,
        "created_by": LEAD, "created_at": "2026-11-24T12:00:00Z"}
    [entry] = await bare.rows("SELECT * FROM audit_log")
    assert (entry["action"], entry["tbl"], entry["sender"]) == ("insert", "operations", LEAD)
    assert json.loads(entry["after"])["code"] == "FIREBREAK"


async def test_init_defaults_come_from_settings_and_name_keeps_operation_prefix(
        bare: Harness) -> None:
    await bare.ok('!op init "Operation Endgame" code=ENDGAME')
    [op] = await bare.rows("SELECT name, tz, tlp FROM operations")
    assert op == {"name": "Operation Endgame", "tz": "UTC", "tlp": "AMBER"}


async def test_init_twice_is_refused_and_changes_nothing(h: Harness) -> None:
    again = await h.fails('!op init "Other" code=OTHER')
    assert "already operation Operation Firebreak (FIREBREAK)" in again.text
    assert [r["code"] for r in await h.rows("SELECT code FROM operations")] == ["FIREBREAK"]


async def test_another_room_gets_its_own_operation(h: Harness) -> None:
    await h.ok('!op init "Second" code=SECOND', room="!other:localhost")
    assert len(await h.rows("SELECT * FROM operations")) == 2
    shown = await h.ok("!op", room="!other:localhost")
    assert "Operation Second" in shown.text and "0 agencies" in shown.text


async def test_officer_cannot_init(bare: Harness) -> None:
    reply = await bare.fails('!op init "X" code=XRAY', sender=OFFICER)
    assert "only a lead (power level 50 or more) can bind this room" in reply.text
    assert await bare.rows("SELECT * FROM operations") == []


async def test_lead_level_comes_from_settings(bare: Harness) -> None:
    # power 50 is exactly the default lead level
    await bare.ok('!op init "X" code=XRAY', sender=OFFICER, power=50)
    assert "only a lead" in (await bare.fails("!op phase action", sender=OFFICER,
                                              power=49)).text


async def test_commands_need_an_operation_first(bare: Harness) -> None:
    for line in ("!op", '!task add "x"', "!agency list", "!hhour", "!rollcall"):
        reply = await bare.fails(line, sender=OFFICER)
        assert '/op init "Operation NAME" code=CODE' in reply.text, line
    # help works anywhere
    await bare.ok("!help", sender=OFFICER)


@pytest.mark.parametrize(("line", "fragment"), [
    ("!op init code=XRAY", 'missing "Operation NAME"'),
    ('!op init "X"', "missing code=CODE"),
    ('!op init "X" code=XRAY tz=Mars/Base', "tz=: 'Mars/Base' is not an IANA time zone"),
    ('!op init "X" code=XRAY tlp=WHITE', "TLP 2.0 calls it CLEAR"),
    ('!op init "X" code=1XRAY', "code=: '1XRAY' is not a code"),
    ('!op init "X" code=XRAY colour=red', "unknown key colour="),
    ('!op init "X" code=XRAY code=YANKEE', "code= is given twice"),
    ('!op init "X" code=XRAY extra', "unexpected 'extra'"),
    ('!op init "" code=XRAY', "operation name is empty"),
    ('!op init "' + "x" * 200 + '" code=XRAY', "operation name is 200 characters"),
    ('!op init "bad\u0007bell" code=XRAY', "control or invisible character"),
])
async def test_init_validation_names_the_problem_and_shows_usage(
        bare: Harness, line: str, fragment: str) -> None:
    reply = await bare.fails(line)
    assert fragment in reply.text
    assert ('Usage: /op init "Operation NAME" code=CODE [tz=Zone] '
            "[tlp=CLEAR|GREEN|AMBER|AMBER+STRICT|RED]") in reply.text
    assert await bare.rows("SELECT * FROM operations") == []


async def test_operation_name_is_escaped_in_html(bare: Harness) -> None:
    reply = await bare.ok('!op init "<img src=x onerror=alert(1)>" code=XRAY')
    assert "<img" not in reply.html and "&lt;img src=x onerror=alert(1)&gt;" in reply.html
    assert "<img src=x" in reply.text  # the plain body is plain text


async def test_show_counts_and_h_hour(h: Harness) -> None:
    await h.ok('!task add "one"', sender=OFFICER)
    await h.ok("!hhour 2026-11-25T04:00Z")
    shown = await h.ok("!op", sender=OFFICER)
    assert "Operation Firebreak (FIREBREAK) · phase planning · TLP:AMBER" in shown.text
    assert "H-hour 250400ZNOV26" in shown.text
    assert "2 agencies · 1 task · 0 arrests · 0 seized items" in shown.text
    # H-hour on the operation's clock, as the reader's locale writes it, beside the DTG
    assert "Zone Europe/Paris · H-hour 250400ZNOV26 (Nov 25, 2026, 05:00 CET)" in (
        shown.text)


async def test_show_without_h_hour(h: Harness) -> None:
    assert "Zone Europe/Paris · H-hour —" in (await h.ok("!op", sender=OFFICER)).text


async def test_show_and_set_the_rooms_language(h: Harness) -> None:
    # both read English by their own choice, so what the room reads does not change theirs
    await h.ok("!lang en", sender=OFFICER)
    await h.ok("!lang en")
    shown = await h.ok("!op", sender=OFFICER)
    assert "Language: English (en), the bot's default" in shown.text.splitlines()
    refused = await h.fails("!op lang fr", sender=OFFICER)
    assert "only a lead" in refused.text
    changed = await h.ok("!op lang FR")
    assert changed.text == ("FIREBREAK: the room reads Français (fr) from now on; each "
                            "member's replies stay in their own language (/lang).")
    assert "Language: Français (fr)" in (await h.ok("!op", sender=OFFICER)).text.splitlines()
    again = await h.fails("!op lang fr")
    assert "the room's language is already Français (fr)" in again.text
    assert (await h.rows("SELECT lang FROM operations"))[0]["lang"] == "fr"


async def test_phase_changes_lead_only_and_audited(h: Harness) -> None:
    refused = await h.fails("!op phase action", sender=OFFICER)
    assert "only a lead (power level 50 or more) can change the operation's phase" in refused.text
    assert (await h.rows("SELECT phase FROM operations"))[0]["phase"] == "planning"
    assert "phase planning → action" in (await h.ok("!op phase action")).text
    assert "already in phase action" in (await h.fails("!op phase action")).text
    assert "phase action → follow-up" in (await h.ok("!op phase FOLLOW-UP")).text
    bad = await h.fails("!op phase done")
    assert "'done' is not one of planning, action, follow-up, closed" in bad.text
    [entry] = await h.rows("SELECT before, after FROM audit_log WHERE tbl='operations' "
                           "AND action='update' ORDER BY id DESC LIMIT 1")
    assert json.loads(entry["before"])["phase"] == "action"
    assert json.loads(entry["after"])["phase"] == "follow-up"


async def test_closed_is_final(h: Harness) -> None:
    await h.ok('!task add "open at close"', sender=OFFICER)
    closed = await h.ok("!op phase closed")
    assert "phase planning → closed" in closed.text and "FINAL REPORT" in closed.text
    assert "closed; its record is final" in (await h.fails("!op phase action")).text
    assert "already in phase closed" in (await h.fails("!op phase closed")).text
    audit_before = await h.rows("SELECT COUNT(*) AS n FROM audit_log")
    for line, who in (('!task add "late"', OFFICER), ("!task done T-1", OFFICER),
                      ("!hhour 2026-11-25T04:00Z", LEAD), ("!undo", LEAD),
                      ("!agency add NL-POL country=NL tz=Europe/Amsterdam", LEAD)):
        reply = await h.fails(line, sender=who)
        assert "is closed and its record is final: nothing was recorded" in reply.text, line
    assert await h.rows("SELECT COUNT(*) AS n FROM audit_log") == audit_before
    assert [t["status"] for t in await h.rows("SELECT status FROM tasks")] == ["open"]
    # reading still works
    assert "T-1" in (await h.ok("!task list", sender=OFFICER)).text
    assert "phase closed" in (await h.ok("!op", sender=OFFICER)).text
