"""Personal data have a lifetime: review periods per category from the operation's closure,
warnings 30 and 7 days ahead, legal holds that restrict instead of erasing, and what is due
for erasure (storage.retention.due_for_erasure)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import ConfigError, parse, use_kek_file
from bot.scheduler import SitrepScheduler
from exports.build import build_export
from storage import retention
from storage.keystore import KEK_ENV
from tests.harness import OFFICER, START, Harness
from tests.test_config import GOOD, with_

CLOSED = START  # the harness's clock: the operation is closed at once in these tests


# -- configuration ---------------------------------------------------------------------

def test_review_periods_default_to_3y_suspects_1y_victims_and_witnesses_5y_others() -> None:
    config = parse(GOOD)
    assert config.settings.retention_periods == {
        "suspect": "3y", "victim": "1y", "witness": "1y", "other": "5y"}
    assert config.data_protection_room is None and config.kek_file is None
    config = parse(with_("personal_data", suspect="18m", witness="90d",
                         contact="!dpo:police.example"))
    assert config.settings.retention_periods["suspect"] == "18m"
    assert config.settings.retention_periods["witness"] == "90d"
    assert config.data_protection_room == "!dpo:police.example"


@pytest.mark.parametrize(("values", "key"), [
    ({"suspect": "3 years"}, "personal_data.suspect"),
    ({"victim": "0y"}, "personal_data.victim"),
    ({"other": 5}, "personal_data.other"),
    ({"witness": "1w"}, "personal_data.witness"),
    ({"contact": "@dpo:police.example"}, "personal_data.contact"),
    ({"kek_file": ""}, "personal_data.kek_file"),
    ({"suspects": "3y"}, "personal_data.suspects"),
])
def test_a_bad_retention_setting_names_its_key(values: dict, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(with_("personal_data", **values))
    assert str(exc.value).startswith(key), exc.value


def test_the_kek_file_is_read_beside_the_config_and_handed_to_export_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEK_ENV, "")  # restored (unset) after the test
    config = parse(with_("personal_data", kek_file="secrets/opsroom.kek"), base=tmp_path)
    assert use_kek_file(config) == tmp_path / "secrets" / "opsroom.kek"
    assert os.environ[KEK_ENV] == str(tmp_path / "secrets" / "opsroom.kek")


# -- /retention ---------------------------------------------------------------------------

async def policy_audit(h: Harness) -> list[dict]:
    return await h.rows("SELECT * FROM audit_log WHERE tbl='retention_policies' ORDER BY n")


async def test_retention_shows_periods_counts_and_that_they_run_from_closure(
        h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!seize domain evil[.]example subject=victim", sender=OFFICER)
    reply = await h.ok("!retention", sender=OFFICER)
    assert "suspect: 3 years after closure, runs from closure · 1 record" in reply.text
    assert "victim: 1 year after closure, runs from closure · 1 record" in reply.text
    assert "other: 5 years after closure" in reply.text


async def test_closing_the_operation_says_when_the_first_review_falls_and_starts_the_clocks(
        h: Harness) -> None:
    closed = await h.ok("!op phase closed")
    assert "First retention review 241200ZNOV27 (victim, witness)" in closed.text
    reply = await h.ok("!retention", sender=OFFICER)
    assert "suspect: 3 years after closure, due 241200ZNOV29" in reply.text
    assert "witness: 1 year after closure, due 241200ZNOV27" in reply.text


async def test_shortening_takes_effect_and_lengthening_needs_the_reason_both_audited(
        h: Harness) -> None:
    reply = await h.ok("!retention set witness 6m")
    assert "kept 6 months after closure (was 1 year)" in reply.text
    refused = await h.fails("!retention set suspect 5y")
    assert "needs the reason" in refused.text and "Usage: /retention set" in refused.text
    await h.ok('!retention set suspect 5y "trial set for 2029"')
    rows = await policy_audit(h)
    assert len(rows) == 2  # the refusal recorded nothing
    after = json.loads(rows[1]["after"])
    assert (after["category"], after["period"], after["reason"], after["created_by"]) == (
        "suspect", "5y", "trial set for 2029", "@lead:localhost")
    shown = await h.ok("!retention")
    assert "suspect: 5 years after closure" in shown.text
    assert "suspect set to 5 years by @lead:localhost 241200ZNOV26: trial set for 2029" in (
        shown.text)


@pytest.mark.parametrize(("line", "fragment"), [
    ('!retention extend suspect +1y', "reason"),
    ('!retention set suspects 1y', "suspect|victim|witness|other"),
    ('!retention set suspect 3 years', "not a review period"),
    ('!retention extend suspect +0y "x"', "not a review period"),
    ('!retention set suspect 3y', "already kept 3 years"),
])
async def test_bad_retention_changes_are_refused_with_the_reason_and_record_nothing(
        h: Harness, line: str, fragment: str) -> None:
    refused = await h.fails(line)
    assert fragment in refused.text
    assert await policy_audit(h) == []


async def test_only_a_lead_changes_a_retention_period(h: Harness) -> None:
    refused = await h.fails('!retention extend suspect +1y "trial"', sender=OFFICER)
    assert "lead" in refused.text
    assert await policy_audit(h) == []


async def test_an_extension_adds_to_the_period_and_shows_in_the_history(h: Harness) -> None:
    await h.ok("!op phase closed")
    reply = await h.ok('!retention extend suspect +1y "appeal pending, 123 Js 45/25"')
    assert "kept 4 years after closure (was 3 years), due 241200ZNOV30" in reply.text
    shown = await h.ok("!retention", sender=OFFICER)
    assert ("suspect extended to 4 years by @lead:localhost 241200ZNOV26: appeal pending, "
            "123 Js 45/25") in shown.text
    [row] = await policy_audit(h)
    assert json.loads(row["after"])["kind"] == "extend"


# -- warnings ------------------------------------------------------------------------------

class Sink:
    def __init__(self, h: Harness) -> None:
        self.db, self.clock = h.db, h.clock
        self.posts: list[tuple[str, str]] = []

    async def post(self, room_id: str, text: str, html: str, extra: dict | None = None,
                   *, lang: str | None = None) -> None:
        self.posts.append((room_id, text))


def scheduler(h: Harness, *, in_room: bool = True, contact: str | None = None
              ) -> tuple[SitrepScheduler, Sink]:
    sink = Sink(h)
    sched = SitrepScheduler(retention_periods={}, contact=contact)
    sched.bot = sink  # type: ignore[assignment]
    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    sched.in_room = lambda room: in_room
    return sched, sink


async def warned_at(h: Harness, sched: SitrepScheduler, sink: Sink, when: datetime
                    ) -> list[tuple[str, str]]:
    h.clock.current = when
    before = len(sink.posts)
    await sched.post_retention_warnings()
    return sink.posts[before:]


async def test_the_room_is_warned_30_and_7_days_before_a_due_date_once_each(
        h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!arrest add FR-2 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!retention set suspect 60d")
    sched, sink = scheduler(h)
    due = CLOSED + timedelta(days=60)
    assert await warned_at(h, sched, sink, due - timedelta(days=7)) == []  # still open
    h.clock.current = CLOSED
    await h.ok("!op phase closed")
    assert await warned_at(h, sched, sink, due - timedelta(days=30, seconds=1)) == []
    [(room, text)] = await warned_at(h, sched, sink, due - timedelta(days=30))
    assert room == h.room
    assert "suspect data due for erasure 231200ZJAN27" in text
    assert "In 30 days" in text and "2 × arrest" in text and "A-1, A-2" in text
    assert '/retention extend suspect +1y "…"' in text
    assert "FR-1" not in text  # handles, never values
    assert await warned_at(h, sched, sink, due - timedelta(days=29)) == []
    [(_, text)] = await warned_at(h, sched, sink, due - timedelta(days=7))
    assert "In 7 days" in text
    assert await warned_at(h, sched, sink, due - timedelta(days=6)) == []


async def test_an_extension_moves_the_warnings_to_the_new_date(h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!retention set suspect 60d")
    await h.ok("!op phase closed")
    sched, sink = scheduler(h)
    due = CLOSED + timedelta(days=60)
    assert len(await warned_at(h, sched, sink, due - timedelta(days=30))) == 1
    await h.ok('!retention extend suspect +60d "trial pending"')
    assert await warned_at(h, sched, sink, due - timedelta(days=7)) == []
    later = CLOSED + timedelta(days=120)
    [(_, text)] = await warned_at(h, sched, sink, later - timedelta(days=30))
    assert "due for erasure 241200ZMAR27" in text


async def test_a_room_the_bot_left_has_its_warning_sent_to_the_data_protection_contact(
        h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!retention set suspect 60d")
    await h.ok("!op phase closed")
    sched, sink = scheduler(h, in_room=False, contact="!dpo:localhost")
    due = CLOSED + timedelta(days=60)
    [(room, text)] = await warned_at(h, sched, sink, due - timedelta(days=30))
    assert room == "!dpo:localhost"
    assert "FIREBREAK" in text and "no longer in the operation's room !op:localhost" in text
    alone, sink = scheduler(h, in_room=False)
    with caplog.at_level(logging.WARNING):
        assert await warned_at(h, alone, sink, due - timedelta(days=7)) == []
    assert "contact is not set" in caplog.text and "FIREBREAK" in caplog.text


async def test_nothing_is_warned_of_when_everything_due_is_held(h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!retention set suspect 60d")
    await h.ok('!hold add "123 Js 45/25" suspect')
    await h.ok("!op phase closed")
    sched, sink = scheduler(h)
    assert await warned_at(h, sched, sink, CLOSED + timedelta(days=30)) == []


# -- holds ---------------------------------------------------------------------------------

async def records_of_three_kinds(h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!arrest add FR-2 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!seize domain evil[.]example subject=victim", sender=OFFICER)
    await h.ok('!task add "trace the wallet of FR-2" subject=suspect', sender=OFFICER)


async def test_held_records_leave_lists_unless_asked_for_and_the_list_says_so(
        h: Harness) -> None:
    await records_of_three_kinds(h)
    placed = await h.ok('!hold add "123 Js 45/25, AG Köln" A-2')
    assert "H-1 placed (A-2): 1 record" in placed.text
    listing = await h.ok("!arrest list", sender=OFFICER)
    assert "FR-1" in listing.text and "FR-2" not in listing.text
    assert "1 held record not shown (held=yes shows it)" in listing.text
    everything = await h.ok("!arrest list held=yes", sender=OFFICER)
    assert "FR-2" in everything.text and "held record" not in everything.text
    assert "evil" in (await h.ok("!seize list", sender=OFFICER)).text


async def test_a_hold_on_a_category_covers_its_records_of_every_kind(h: Harness) -> None:
    await records_of_three_kinds(h)
    await h.ok('!hold add "123 Js 45/25" suspect')
    arrests = await h.ok("!arrest list", sender=OFFICER)
    assert "FR-1" not in arrests.text and "2 held records not shown" in arrests.text
    tasks = await h.ok("!task list", sender=OFFICER)
    assert "trace the wallet" not in tasks.text and "1 held record not shown" in tasks.text
    seized = await h.ok("!seize list", sender=OFFICER)
    assert "evil" in seized.text and "held" not in seized.text  # a victim's: not held
    shown = await h.ok("!retention", sender=OFFICER)
    assert "suspect: 3 years after closure, runs from closure · 0 records, 3 held" in (
        shown.text)
    assert "H-1 123 Js 45/25 · suspect" in shown.text


async def test_held_records_leave_exports_unless_asked_for(h: Harness) -> None:
    await records_of_three_kinds(h)
    await h.ok('!hold add "123 Js 45/25" suspect')
    attachment, summary = await build_export(h.db, h.room, "json", None, START)
    text = attachment.path.read_text()
    assert "FR-1" not in text and "trace the wallet" not in text and "evil.example" in text
    assert summary.held_left_out == 3
    attachment, summary = await build_export(h.db, h.room, "json", None, START, held=True)
    text = attachment.path.read_text()
    assert "FR-1" in text and "trace the wallet" in text and summary.held_left_out == 0


async def test_a_sitrep_counts_held_records_but_does_not_name_them(h: Harness) -> None:
    await records_of_three_kinds(h)
    await h.ok('!sitrep note "FR-2 talks to the NL courier"')
    assert "talks to the NL courier" in (await h.ok("!sitrep", sender=OFFICER)).text
    await h.ok('!hold add "123 Js 45/25"')
    sitrep = await h.ok("!sitrep", sender=OFFICER)
    assert "talks to the NL courier" not in sitrep.text
    assert "1 record under a legal hold is counted but not named here" in sitrep.text
    assert "Arrests: 2" in sitrep.text  # counts name nobody


async def test_the_export_reply_says_how_many_held_records_it_left_out(h: Harness) -> None:
    await records_of_three_kinds(h)
    await h.ok('!hold add "123 Js 45/25" A-1,A-2')
    reply = await h.ok("!export md", sender=OFFICER)
    made = await reply.after_commit() if reply.after_commit else reply
    assert "2 held records not shown (held=yes shows them)" in made.text
    reply = await h.ok("!export md held=yes", sender=OFFICER)
    made = await reply.after_commit() if reply.after_commit else reply
    assert "held" not in made.text


async def test_two_holds_need_two_releases_before_the_records_are_due(h: Harness) -> None:
    await records_of_three_kinds(h)
    await h.ok('!hold add "123 Js 45/25" A-1')
    await h.ok('!hold add "77 KLs 3/26" suspect')
    await h.ok("!op phase closed")
    after = CLOSED + timedelta(days=3 * 366)

    async def due_suspects() -> list[tuple[str, int]]:
        scopes = await h.db.read(lambda tx: retention.due_for_erasure(tx, after, {}))
        return sorted((tbl, row_id) for s in scopes if s.category == "suspect"
                      for tbl, row_id, _key in s.records)

    assert await due_suspects() == []
    released = await h.ok('!hold release H-2 "judgment final"')
    assert "H-2 released (suspect)" in released.text
    assert await due_suspects() == [("arrests", 2), ("tasks", 1)]  # A-1 still held by H-1
    await h.ok("!hold release H-1")
    assert await due_suspects() == [("arrests", 1), ("arrests", 2), ("tasks", 1)]
    again = await h.fails("!hold release H-1")
    assert "already released" in again.text
    listing = await h.ok("!hold list", sender=OFFICER)
    assert "released by @lead:localhost 241200ZNOV26: judgment final" in listing.text
    holds = await h.rows("SELECT action FROM audit_log WHERE tbl='holds' ORDER BY n")
    assert [r["action"] for r in holds] == ["insert", "insert", "update", "update"]


async def test_due_for_erasure_returns_only_what_is_past_its_date_and_not_erased(
        h: Harness) -> None:
    await records_of_three_kinds(h)
    assert await h.db.read(lambda tx: retention.due_for_erasure(
        tx, CLOSED + timedelta(days=4000), {})) == []  # open: nothing runs yet
    await h.ok("!op phase closed")
    year = CLOSED + timedelta(days=366)
    [scope] = await h.db.read(lambda tx: retention.due_for_erasure(tx, year, {}))
    assert (scope.category, scope.room_id) == ("victim", h.room)
    [(tbl, _row, key)] = scope.records
    assert tbl == "seizures" and key is not None
    shorter = await h.db.read(lambda tx: retention.due_for_erasure(
        tx, year, {"suspect": "1y"}))
    assert {s.category for s in shorter} == {"victim", "suspect"}


async def test_a_hold_is_refused_for_records_that_do_not_exist_or_hold_no_personal_data(
        h: Harness) -> None:
    missing = await h.fails('!hold add "123 Js 45/25" A-9')
    assert "no arrest A-9" in missing.text
    wrong = await h.fails('!hold add "123 Js 45/25" P-1')
    assert "not a scope" in wrong.text
    officer = await h.fails('!hold add "123 Js 45/25"', sender=OFFICER)
    assert "lead" in officer.text
    assert await h.rows("SELECT * FROM holds") == []


async def test_asset_and_form_lists_leave_held_records_out_but_totals_count_them(
        h: Harness) -> None:
    await h.ok('!asset seized 2.5 BTC "wallet of FR-2"', sender=OFFICER)
    await h.ok('!asset seized 1 BTC "cold wallet"', sender=OFFICER)
    await h.ok('!hold add "123 Js 45/25" M-1')
    listing = await h.ok("!asset list", sender=OFFICER)
    assert "wallet of FR-2" not in listing.text and "cold wallet" in listing.text
    assert "3.5" in listing.text and "1 held record not shown" in listing.text
    assert "wallet of FR-2" in (await h.ok("!asset list held=yes", sender=OFFICER)).text


async def test_a_held_seized_item_is_not_named_through_its_takedown_in_an_export(
        h: Harness) -> None:
    await h.ok("!seize domain evil[.]example subject=victim", sender=OFFICER)
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add S-1 agency=FR-OFAC")
    await h.ok('!hold add "123 Js 45/25" S-1')
    attachment, _ = await build_export(h.db, h.room, "json", None, START)
    text = attachment.path.read_text()
    assert "evil.example" not in text and "S-1 (withheld)" in text
    attachment, _ = await build_export(h.db, h.room, "json", None, START, held=True)
    assert "evil.example" in attachment.path.read_text()


async def test_a_held_seized_item_is_not_named_through_its_takedown_in_the_list(
        h: Harness) -> None:
    await h.ok("!seize domain evil[.]example subject=victim", sender=OFFICER)
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add S-1 agency=FR-OFAC")
    await h.ok('!hold add "123 Js 45/25" S-1')
    listing = (await h.ok("!takedown list")).text
    assert "evil" not in listing and "K-1 S-1 (held)" in listing
    assert "evil[.]example" in (await h.ok("!takedown list held=yes")).text
