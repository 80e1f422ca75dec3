"""Sitrep schedules: parsing what leads type, and which slot is due at a given moment.

APScheduler's triggers are the single source of fire times (time-zone and DST aware), both
for the live jobs in bot/scheduler.py and for the catch-up decision here, which is pure so
tests move a clock instead of sleeping. A schedule never fires more often than every
5 minutes with `every` (a typo like `every 1m` must not flood a room); a cron expression is
taken as written, since whoever writes one means its exact times.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from commands.core import timeparse
from commands.core.i18n import tr
from storage.codec import from_db_time

FLOOR = timedelta(minutes=5)
_AT_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    pass


def parse_every(raw: str) -> str:
    try:
        delta = timeparse.parse_duration(raw)
    except timeparse.TimeError as exc:
        raise ScheduleError(str(exc)) from None
    if delta < FLOOR:
        raise ScheduleError(tr("every {interval}: more often than every 5m is not allowed")
                            .format(interval=raw))
    return raw.strip().lower()


def parse_at(raw: str) -> str:
    times = [t.strip() for t in raw.split(",") if t.strip()]
    if not times:
        raise ScheduleError(tr("give times of day like 08:00,20:00"))
    out = []
    for t in times:
        m = _AT_RE.match(t)
        if not m:
            raise ScheduleError(tr("{time} is not a time of day (HH:MM)").format(time=repr(t)))
        out.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    return ",".join(sorted(set(out)))


def parse_cron(raw: str, tz: str) -> str:
    expr = " ".join(raw.split())
    try:
        trigger = CronTrigger.from_crontab(expr, timezone=ZoneInfo(tz))
    except (ValueError, KeyError) as exc:
        raise ScheduleError(tr('cron {expr} is not valid ({error}); e.g. "0 */6 * * *"').format(
            expr=repr(expr), error=exc)) from None
    if trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=ZoneInfo(tz))) is None:
        raise ScheduleError(tr("cron {expr} never fires").format(expr=repr(expr)))
    return expr


def trigger_for(kind: str, spec: str, tz: str, anchor: str) -> BaseTrigger:
    zone = ZoneInfo(tz)
    if kind == "every":
        # The first sitrep comes one interval after the schedule was set, not at once.
        delta = timeparse.parse_duration(spec)
        anchored = from_db_time(anchor)
        assert anchored is not None
        return IntervalTrigger(seconds=int(delta.total_seconds()), start_date=anchored + delta,
                               timezone=zone)
    if kind == "at":
        hours = sorted({int(t[:2]) for t in spec.split(",")})
        minutes = sorted({int(t[3:]) for t in spec.split(",")})
        if len(minutes) == 1:
            return CronTrigger(hour=",".join(map(str, hours)), minute=minutes[0], timezone=zone)
        return OrTrigger([CronTrigger(hour=int(t[:2]), minute=int(t[3:]), timezone=zone)
                          for t in spec.split(",")])
    return CronTrigger.from_crontab(spec, timezone=zone)


def describe(kind: str, spec: str, tz: str) -> str:
    if kind == "cron":
        return f'cron "{spec}" ({tz})'
    return f"{kind} {spec} ({tz})"


def latest_due_slot(trigger: BaseTrigger, after: datetime, now: datetime) -> datetime | None:
    """The most recent fire time in (after, now], or None: however many slots were missed,
    only the latest one is due, so a bot that was down posts one late sitrep, not a burst."""
    latest = None
    t = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    while t is not None and t <= now:
        latest = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return latest


def next_slot(trigger: BaseTrigger, now: datetime) -> datetime | None:
    upcoming: datetime | None = trigger.get_next_fire_time(None, now)
    return upcoming
