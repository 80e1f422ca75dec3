"""Sitrep content, schedules and reminders, with a clock the tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import SitrepScheduler
from commands import schedule
from tests.harness import OFFICER, OTHER, Harness

GOLDEN = """\
SITREP #2 · Operation Firebreak (FIREBREAK) · TLP:AMBER
250500ZNOV26 · phase action · H-hour 250400ZNOV26 · H+1h
Local time (Europe/Paris): Nov 25, 2026, 06:00 · H-hour Nov 25, 2026, 05:00
Changes since #1: BTC seized: 0 → 2.5; EUR frozen: 0 → 120000; \
H-hour: — → 250400ZNOV26; arrests: 0 → 2; domain seized: 0 → 1; ip identified: 0 → 1; \
phase: planning → action; \
preservation/MLA open: 0 → 1; searches: 0 → 12; \
seized items: 0 → 2; takedowns done: 0 → 2; takedowns planned: 0 → 1; tasks done: 0 → 1; \
tasks open: 0 → 1; tasks overdue: 0 → 1
Assessment / next steps: Servers imaged; next: follow-up searches
Tasks: DE-BKA 1 open/0 done/1 OVERDUE · FR-OFAC 0 open/1 done
Arrests: 2 (+2 since last) · DE 1, FR 1
Seized infrastructure: 2 (+2 since last) · domain: 1 seized · ip: 1 identified
Takedowns: 1 planned · 2 executed · 0 failed · 0 aborted
   K-1 FR-OFAC 250405ZNOV26 (+5m vs plan)
   K-2 DE-BKA 250420ZNOV26 (-10m vs plan)
   Spread: 250405ZNOV26 → 250420ZNOV26 (15m)
Assets: 120000 EUR frozen · 2.5 BTC seized
Tallies: searches 12
Preservation/MLA: 1 open · expiring ≤7d: P-1 ExampleHost 290420ZNOV26
Go/no-go: R-1 (closed) ALL GO"""


async def at(h: Harness, when: str) -> None:
    h.clock.current = datetime.fromisoformat(when).replace(tzinfo=UTC)


async def test_sitrep_golden_text(h: Harness) -> None:
    await h.ok("!sitrep")
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!seize domain evil.example", sender=OFFICER)
    await h.ok("!seize ip 203.0.113.9", sender=OFFICER)
    await h.ok("!seize status S-1 seized", sender=OFFICER)
    await h.ok("!takedown add S-1 agency=FR-OFAC at=H")
    await h.ok("!takedown add S-2 agency=DE-BKA at=H+30m")
    await h.ok('!takedown add "forum backend" agency=DE-BKA at=H+2h')
    await h.ok('!task add "image servers" due=+1h', sender=OFFICER)
    await h.ok('!task add "brief press"')
    await h.ok("!task done T-2")
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC")
    await h.ok("!arrest add DE-1 country=DE agency=DE-BKA", sender=OFFICER)
    await h.ok("!asset seized 2.5 BTC")
    await h.ok("!asset frozen 120000 EUR")
    await h.ok("!tally searches +12")
    await h.ok("!rollcall")
    await h.ok("!ready", sender=OFFICER)
    await h.ok("!ready", sender=OTHER)
    await h.ok("!rollcall close")
    await h.ok("!op phase action")
    await at(h, "2026-11-25T04:05:00")
    await h.ok("!takedown done K-1")
    await at(h, "2026-11-25T04:20:00")
    await h.ok("!takedown done K-2", sender=OFFICER)
    await h.ok("!preserve add ExampleHost country=US expires=+4d")
    await h.ok('!sitrep note "Servers imaged; next: follow-up searches"')
    await at(h, "2026-11-25T05:00:00")
    reply = await h.ok("!sitrep", sender=OFFICER)
    [head] = await h.rows("SELECT n, hash FROM audit_heads")
    # The last lines witness the audit chain and the consultation log as it stood before
    # this sitrep (the first sitrep's row; this one's is written with it), the full hashes,
    # also machine-readable.
    [consulted] = await h.rows("SELECT n, hash FROM consult_log WHERE n=1")
    assert reply.text == GOLDEN + (f"\nAudit head #{head['n']} · {head['hash']}"
                                   f"\nConsultation log head #1 · {consulted['hash']}")
    assert reply.extra_content == {"org.opsroom.audit_head": head,
                                   "org.opsroom.consult_head": consulted}
    again = await h.ok("!sitrep", sender=OFFICER)
    assert "Changes since #2: NO CHANGE" in again.text


async def test_schedule_parsing_and_limits() -> None:
    assert schedule.parse_every("6h") == "6h"
    assert schedule.parse_at("20:00, 8:00") == "08:00,20:00"
    assert schedule.parse_cron("0  */6 * * *", "UTC") == "0 */6 * * *"
    for bad in ("0m", "10s", "4m"):
        with pytest.raises(schedule.ScheduleError):
            schedule.parse_every(bad)
    for bad in ("25:00", "8", ""):
        with pytest.raises(schedule.ScheduleError):
            schedule.parse_at(bad)
    with pytest.raises(schedule.ScheduleError):
        schedule.parse_cron("61 * * * *", "UTC")


def test_at_schedule_follows_the_zone_across_dst() -> None:
    trigger = schedule.trigger_for("at", "08:00", "Europe/Paris", "2026-10-20T00:00:00Z")
    before = schedule.next_slot(trigger, datetime(2026, 10, 23, 12, tzinfo=UTC))
    after = schedule.next_slot(trigger, datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert before == datetime(2026, 10, 24, 8, tzinfo=ZoneInfo("Europe/Paris"))
    assert before.astimezone(UTC).hour == 6  # 08:00 CEST
    assert after.astimezone(UTC).hour == 7  # 08:00 CET, after the clocks went back


def test_only_the_latest_missed_slot_is_due() -> None:
    trigger = schedule.trigger_for("every", "1h", "UTC", "2026-11-24T00:00:00Z")
    start = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    now = datetime(2026, 11, 24, 5, 10, tzinfo=UTC)
    assert schedule.latest_due_slot(trigger, start, now) == datetime(2026, 11, 24, 5, tzinfo=UTC)
    assert schedule.latest_due_slot(trigger, now, now + timedelta(minutes=30)) is None


async def test_schedule_commands(h: Harness) -> None:
    assert "only a lead" in (await h.fails("!sitrep every 6h", sender=OFFICER)).text
    assert "5m" in (await h.fails("!sitrep every 10s")).text
    assert "cron" in (await h.fails('!sitrep cron "nope"')).text
    assert "IANA" in (await h.fails("!sitrep at 08:00 tz=Mars/Base")).text
    assert "at 08:00,20:00 (Europe/Paris)" in (await h.ok("!sitrep at 08:00,20:00")).text
    assert "(Europe/Paris)" in (await h.ok("!sitrep schedule", sender=OFFICER)).text
    assert "stopped" in (await h.ok("!sitrep off")).text
    assert "no sitrep schedule" in (await h.fails("!sitrep off")).text


class Sink:
    """Stands in for the bot's room sender: collects what would be posted."""

    def __init__(self, h: Harness) -> None:
        self.db = h.db
        self.clock = h.clock
        self.posts: list[tuple[str, str]] = []
        self.contents: list[dict | None] = []
        self.langs: list[str | None] = []

    async def post(self, room_id: str, text: str, html: str, extra: dict | None = None,
                   *, lang: str | None = None) -> None:
        self.posts.append((room_id, text))
        self.contents.append(extra)
        self.langs.append(lang)


async def scheduler_for(h: Harness) -> tuple[SitrepScheduler, Sink]:
    sink = Sink(h)
    sched = SitrepScheduler()
    sched.bot = sink  # type: ignore[assignment]
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    return sched, sink


async def test_scheduled_sitrep_posts_each_slot_once_and_one_late_after_downtime(
        h: Harness) -> None:
    await h.ok("!sitrep every 1h")
    sched, sink = await scheduler_for(h)
    await sched.reconcile()
    assert sink.posts == []
    h.clock.advance(hours=1, seconds=5)
    await sched.reconcile()
    await sched.reconcile()
    assert len(sink.posts) == 1 and "SITREP #1" in sink.posts[0][1]
    assert "LATE" not in sink.posts[0][1]
    [head] = await h.rows("SELECT n, hash FROM audit_heads")
    assert sink.contents == [{"org.opsroom.audit_head": head}]  # the scheduled post witnesses
    # The bot is down for three slots; on restart exactly one late sitrep, for the latest.
    restarted, sink2 = await scheduler_for(h)
    h.clock.advance(hours=3, minutes=20)
    await restarted.reconcile()
    await restarted.reconcile()
    assert len(sink2.posts) == 1
    assert "SITREP #2" in sink2.posts[0][1] and "LATE (slot 241600ZNOV26)" in sink2.posts[0][1]


async def test_t_minus_reminders_once_move_with_h_and_skip_when_passed(h: Harness) -> None:
    await h.ok("!hhour 2026-11-26T12:00Z")
    sched, sink = await scheduler_for(h)
    await at(h, "2026-11-25T12:00:30")
    await sched.post_reminders()
    await sched.post_reminders()
    assert [p[1].splitlines()[0] for p in sink.posts] == [
        "⏱ H-24h · FIREBREAK · H-hour 261200ZNOV26 (in 23h59m)"]
    await h.ok("!hhour 2026-11-26T14:00Z")  # moving H makes new reminders
    await at(h, "2026-11-26T13:00:10")
    restarted, sink2 = await scheduler_for(h)  # simulated restart: state is in the database
    await restarted.post_reminders()
    texts = [p[1] for p in sink2.posts]
    assert len(texts) == 1 and texts[0].startswith("⏱ H-1h") and "late" not in texts[0]
    await at(h, "2026-11-26T14:30:00")  # the bot slept through H-15m and H: H has passed
    await restarted.post_reminders()
    assert len(sink2.posts) == 1


async def test_overdue_task_and_expiring_preservation_reminders(h: Harness) -> None:
    await h.ok(f'!task add "image server" {OFFICER} due=+1h')
    await h.ok("!preserve add ExampleHost country=US expires=+10d")
    sched, sink = await scheduler_for(h)
    h.clock.advance(hours=1, minutes=1)
    await sched.post_reminders()
    assert len(sink.posts) == 1 and "T-1 is overdue" in sink.posts[0][1]
    assert OFFICER in sink.posts[0][1]
    await h.ok("!task edit T-1 due=+1h")
    h.clock.advance(hours=1, minutes=1)
    h.clock.advance(days=3)
    await sched.post_reminders()
    texts = [p[1] for p in sink.posts[1:]]
    assert any("T-1 is overdue" in t for t in texts), "a new due time gives a new reminder"
    assert any("P-1" in t and "expires" in t for t in texts)
    h.clock.advance(days=6)
    await sched.post_reminders()
    assert sum("P-1" in p[1] for p in sink.posts) == 2  # 7 days and 1 day before
    await sched.post_reminders()
    assert sum("P-1" in p[1] for p in sink.posts) == 2


async def test_closing_posts_the_final_report(h: Harness) -> None:
    reply = await h.ok("!op phase closed")
    assert "FINAL REPORT" in reply.text and "phase closed" in reply.text

