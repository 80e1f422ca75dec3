"""/sitrep: a situation report now, its schedule, and the lead's assessment.

`produce()` is the one way a sitrep comes to be — on /sitrep, on schedule (bot/scheduler.py)
and as the final report on /op phase closed — so numbering, "changes since the last one"
and the record of posted slots never diverge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from commands import schedule
from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import dtg
from commands.core.reply import Bold, fill, ok
from commands.core.spec import Fn, NoArgs, Role, command, key, pos
from commands.core.types import CommandError, Reply
from commands.sitrep_render import render
from storage import sitreps
from storage.codec import to_db_time
from storage.consultations import CONSULT
from storage.tx import Row, Tx


async def produce(tx: Tx, op: Row, now: datetime, *, slot: datetime | None = None,
                  late: bool = False, final: bool = False) -> Reply | None:
    """Render and record the next sitrep. Returns None if this slot was already posted."""
    slot_iso = to_db_time(slot) if slot else None
    if slot_iso and await sitreps.slot_posted(tx, op["id"], slot_iso):
        return None
    data = await sitreps.gather(tx, op, now)
    previous = data["previous"]
    number = (previous["number"] + 1) if previous else 1
    reply = render(data, number, late_slot=slot_iso if late else None, final=final)
    await sitreps.record(tx, op["id"], number, slot=slot_iso, posted_at=to_db_time(now),
                         late=late, final=final, counters=data["counters"])
    return reply


@command("sitrep", shows=CONSULT, summary=N_("post a situation report now"))
async def sitrep_now(ctx: Context, args: NoArgs) -> Reply:
    reply = await produce(ctx.tx, ctx.require_op(), ctx.now)
    assert reply is not None
    return reply


async def _set_schedule(ctx: Context, kind: str, spec: str, tz: str | None) -> Reply:
    op = ctx.require_op()
    zone = tz or op["tz"]
    if kind == "cron":
        try:
            spec = schedule.parse_cron(spec, zone)
        except schedule.ScheduleError as exc:
            raise CommandError(str(exc)) from None
    values = {"kind": kind, "spec": spec, "tz": zone, "anchor": ctx.stamp,
              "created_by": ctx.sender, "created_at": ctx.stamp}
    existing = await sitreps.schedule(ctx.tx, op["id"])
    if existing:
        await ctx.tx.update("sitrep_schedules", existing["id"], values)
    else:
        await ctx.tx.insert("sitrep_schedules", {"op_id": op["id"], **values})
    trigger = schedule.trigger_for(kind, spec, zone, ctx.stamp)
    upcoming = schedule.next_slot(trigger, ctx.now)
    return ok(*fill(tr("Sitreps {schedule} · next {when}"),
                    schedule=Bold(schedule.describe(kind, spec, zone)),
                    when=dtg(to_db_time(upcoming)) if upcoming else "—"))


def _checked(parse: Callable[[str], str], metavar: str) -> Fn[str]:
    def run(raw: str) -> str:
        try:
            return parse(raw)
        except schedule.ScheduleError as exc:
            raise ValueError(str(exc)) from None

    return Fn(run, metavar)


@dataclass(frozen=True)
class SitrepEveryArgs:
    interval: str
    tz: str | None


@command("sitrep", "every", params=[pos("interval", _checked(schedule.parse_every, "6h")),
                                    key("tz", argtypes.ZONE)],
         role=Role.LEAD, summary=N_("post sitreps at a fixed interval (5m or more)"))
async def sitrep_every(ctx: Context, args: SitrepEveryArgs) -> Reply:
    return await _set_schedule(ctx, "every", args.interval, args.tz)


@dataclass(frozen=True)
class SitrepAtArgs:
    times: str
    tz: str | None


@command("sitrep", "at", params=[pos("times", _checked(schedule.parse_at, "08:00,20:00")),
                                 key("tz", argtypes.ZONE)],
         role=Role.LEAD, summary=N_("post sitreps at times of day"))
async def sitrep_at(ctx: Context, args: SitrepAtArgs) -> Reply:
    return await _set_schedule(ctx, "at", args.times, args.tz)


@dataclass(frozen=True)
class SitrepCronArgs:
    expr: str
    tz: str | None


@command("sitrep", "cron", params=[pos("expr", Fn(str, '"0 */6 * * *"')), key("tz", argtypes.ZONE)],
         role=Role.LEAD, summary=N_("post sitreps on a cron schedule"))
async def sitrep_cron(ctx: Context, args: SitrepCronArgs) -> Reply:
    return await _set_schedule(ctx, "cron", args.expr, args.tz)


@command("sitrep", "off", role=Role.LEAD, summary=N_("stop scheduled sitreps"))
async def sitrep_off(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    existing = await sitreps.schedule(ctx.tx, op["id"])
    if existing is None:
        raise CommandError(tr("no sitrep schedule is set"), show_usage=False)
    await ctx.tx.delete("sitrep_schedules", existing["id"])
    return ok(tr("Scheduled sitreps stopped ({schedule}). /sitrep still works.").format(
        schedule=schedule.describe(existing["kind"], existing["spec"], existing["tz"])))


@command("sitrep", "schedule", summary=N_("show the sitrep schedule"))
async def sitrep_schedule(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    current = await sitreps.schedule(ctx.tx, op["id"])
    if current is None:
        return ok(tr("No sitrep schedule. A lead sets one with /sitrep every 6h"))
    return ok(*fill(tr("Sitreps {schedule}"), schedule=Bold(schedule.describe(
        current["kind"], current["spec"], current["tz"]))))


@dataclass(frozen=True)
class SitrepNoteArgs:
    note: str


@command("sitrep", "note",
         params=[pos("note", argtypes.text("note", max_len=1000, metavar='"..."'))],
         role=Role.LEAD, summary=N_("set the assessment and next steps carried into sitreps"))
async def sitrep_note(ctx: Context, args: SitrepNoteArgs) -> Reply:
    op = ctx.require_op()
    existing = await sitreps.note(ctx.tx, op["id"])
    values = {"note": args.note, "created_by": ctx.sender, "created_at": ctx.stamp}
    if existing:
        await ctx.tx.update("sitrep_notes", existing["id"], values)
    else:
        await ctx.tx.insert("sitrep_notes", {"op_id": op["id"], **values})
    return ok(tr("Assessment set; it will appear in the next sitrep."))
