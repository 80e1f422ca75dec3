"""/hhour and /takedown: the synchronized action day.

A takedown planned relative to H-hour (`at=H+30m`, or no `at=` at all, which means H)
keeps its offset, so moving H-hour moves it (an audited update per takedown); one planned
at H before H-hour is set gets its time when H-hour is set.

Decisions:
- Officers may plan and report takedowns of their own agency only; leads any. Each agency
  answers for its own action on the day, and the SPEC lets officers mark only their own
  agency's takedowns, so planning follows the same line.
- States: planned → go → done | failed, and planned | go → aborted. `done` and `failed` are
  also accepted straight from planned: an officer on a raid often reports only the result,
  and refusing it would lose the actual time that `done` stamps.
- `target` holds a chat-safe description ("S-4 evil[.]example", or the free text with a bare
  domain/IP/URL defanged), since sitreps and exports print it as is; the indicator of
  record stays refanged in the seizure that `seizure_seq` points to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands.core import argtypes, i18n, records, timeparse, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg, label
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import Choice, Fn, Role, command, key, pos, rest
from commands.core.timeparse import ParsedTime
from commands.core.types import CommandError, Reply
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import agencies, retention, seizures, takedowns
from storage.codec import from_db_time, to_db_time
from storage.consultations import CONSULT
from storage.tx import Row

TRANSITIONS = {
    "go": ("planned",),
    "done": ("planned", "go"),
    "failed": ("planned", "go"),
    "abort": ("planned", "go"),
}
RESULT = {"go": "go", "done": "done", "failed": "failed", "abort": "aborted"}
# Bidi marks Babel puts in Arabic dates: the direction of a whole post is set where it is
# sent, and a mark inside a reply would be shown as <U+200F> (see commands.core.visible).

Zones = list[tuple[str, str]]


async def _zones(ctx: Context) -> Zones:
    """(agency code, zone) pairs; the operation's own zone when no agency is registered yet."""
    op = ctx.require_op()
    return await agencies.zones(ctx.tx, op["id"]) or [(op["code"], op["tz"])]


def wall_clock(at: datetime, zone: str) -> str:
    """`at` on the clock of `zone` as the reader's locale writes a date and time, with the
    zone's abbreviation (CET); shown beside a DTG, which stays the reference."""
    tz = ZoneInfo(zone)
    return f"{i18n.local_time(at, tz)} {at.astimezone(tz).tzname()}"


def _local(iso: str | None, zones: Zones) -> str:
    """Each agency's wall-clock time, agencies whose clocks read the same grouped together."""
    at = from_db_time(iso)
    if at is None:
        return ""
    grouped: dict[str, list[str]] = {}
    for code, tz in zones:
        grouped.setdefault(wall_clock(at, tz), []).append(code)
    return " · ".join(tr("{agencies} {when}").format(agencies=", ".join(codes), when=local)
                      for local, codes in grouped.items())


async def _local_times(ctx: Context, iso: str | None) -> str:
    return _local(iso, await _zones(ctx))


def _t_minus(hhour: datetime, now: datetime) -> str:
    delta = hhour - now
    if delta > timedelta(0):
        return f"T-{timeparse.format_offset(delta)[1:]}"
    return f"T+{timeparse.format_offset(-delta)[1:]}"


@dataclass(frozen=True)
class HhourArgs:
    time: ParsedTime | None


@command("hhour", params=[rest("time", argtypes.TIME, required=False)], role=Role.OFFICER,
         summary=N_("show or (lead) set H-hour of the action day"),
         examples=['!hhour 2026-11-25 05:00 Europe/Paris', "!hhour 250400ZNOV26"])
async def hhour(ctx: Context, args: HhourArgs) -> Reply:
    op = ctx.require_op()
    if args.time is None:
        hhour_at = from_db_time(op["hhour"])
        if hhour_at is None:
            raise CommandError(tr("H-hour is not set; a lead sets it with /hhour TIME"),
                               show_usage=False)
        return ok(*fill(tr("H-hour {at} ({countdown}) · {local}"), at=Bold(dtg(op["hhour"])),
                        countdown=_t_minus(hhour_at, ctx.now),
                        local=await _local_times(ctx, op["hhour"])))
    ctx.require_lead(tr("set H-hour"))
    if args.time.h_offset is not None:
        raise CommandError(tr("H-hour cannot be set relative to itself; give a time"))
    new = args.time.at
    if new <= ctx.now:
        raise CommandError(tr("H-hour {at} is in the past").format(
            at=timeparse.format_dtg(new)))
    _, after = await ctx.tx.update("operations", op["id"],
                                   {"hhour": to_db_time(new), "updated_at": ctx.stamp})
    ctx.op = after
    moved = 0
    for row in await takedowns.moving_with_hhour(ctx.tx, op["id"]):
        planned = new + timedelta(seconds=row["h_offset"])
        await records.change(ctx, "takedowns", row, {"planned_at": to_db_time(planned)})
        moved += 1
    reply = ReplyBuilder().line(*fill(
        tr("H-hour set: {at} ({countdown}) · {local}"), at=Bold(dtg(after["hhour"])),
        countdown=_t_minus(new, ctx.now), local=await _local_times(ctx, after["hhour"])))
    if op["hhour"]:
        reply.line(tr("(was {at})").format(at=dtg(op["hhour"])))
    reply.line(trn("{n} takedown planned relative to H moved with it.",
                   "{n} takedowns planned relative to H moved with it.", moved).format(n=moved)
               if moved else tr("No takedown is planned relative to H, so none moved."))
    return reply.build()


_SEIZURE_REF_RE = re.compile(r"^#?S-?\d+$", re.I)


def _target(raw: str) -> tuple[str, int | None]:
    value = raw.strip()
    if _SEIZURE_REF_RE.match(value):
        return value.upper(), validate.record_ref(value, "S")
    value = validate.text(value, field=tr("target"), max_len=200)
    if " " not in value:
        for kind in ("url", "ip", "domain"):
            try:
                return validate.shown(kind, validate.indicator(kind, value)), None
            except ValueError:
                continue
    return value, None


def _owner_agency(ctx: Context, agency: str) -> None:
    mine = ctx.agency["code"] if ctx.agency else None
    if mine != agency and not ctx.lead_override(f"act for {agency}, another agency"):
        raise CommandError(
            tr("officers may plan and report only their own agency's takedowns "
               "(yours: {mine}; this one: {agency})").format(
                mine=mine or tr("none — a lead maps you with /member"), agency=agency),
            show_usage=False)


def _line(row: Row, zones: Zones | None = None) -> list[Any]:
    plan = dtg(row["planned_at"]) if row["planned_at"] else (
        tr("at H (H-hour not set)") if row["h_offset"] == 0 else "—")
    if row["h_offset"] is not None and row["planned_at"]:
        plan += (f" (H{timeparse.format_offset(timedelta(seconds=row['h_offset']))})"
                 if row["h_offset"] else " (H)")
    parts: list[Any] = list(fill(
        tr("{ref} {target} · {agency} [{status}] · plan {plan}"),
        ref=Bold(label("takedowns", row["seq"])), target=row["target"], agency=row["agency"],
        status=row["status"], plan=plan))
    if zones and row["planned_at"]:
        parts.append(f" · {_local(row['planned_at'], zones)}")
    if row["executed_at"]:
        parts.append(" · " + tr("done {at}").format(at=dtg(row["executed_at"])))
    if row["note"]:
        parts.append(f" · {row['note']}")
    return parts


@dataclass(frozen=True)
class TakedownAddArgs:
    target: tuple[str, int | None]
    agency: str
    at: ParsedTime | None
    tlp: str | None


@command(
    "takedown", "add",
    params=[
        pos("target", Fn(_target, "TARGET")),
        key("agency", argtypes.AGENCY, required=True),
        key("at", argtypes.TIME, help=N_("planned time, e.g. H+30m; default H")),
        key("tlp", argtypes.TLP),
    ],
    summary=N_("plan a takedown (TARGET = S-n or free text)"),
    examples=["!takedown add S-4 agency=DE-BKA at=H+30m"],
)
async def takedown_add(ctx: Context, args: TakedownAddArgs) -> Reply:
    op = ctx.require_op()
    await records.require_agency(ctx, args.agency)
    _owner_agency(ctx, args.agency)
    target, seizure_seq = args.target
    if seizure_seq is not None:
        seizure = await records.get(ctx, "seizures", seizure_seq)
        target = (f"{label('seizures', seizure_seq)} "
                  f"{validate.shown(seizure['type'], seizure['value'])}")
    at = args.at
    h_offset: int | None
    if at is None:
        planned_at, h_offset = op["hhour"], 0
    else:
        planned_at = to_db_time(at.at)
        h_offset = int(at.h_offset.total_seconds()) if at.h_offset is not None else None
    row = await records.create(ctx, "takedowns", {
        "target": target, "seizure_seq": seizure_seq, "agency": args.agency,
        "planned_at": planned_at, "h_offset": h_offset, "status": "planned", "tlp": args.tlp,
    })
    reply = ReplyBuilder().line(*_line(row))
    if row["planned_at"]:
        reply.line(await _local_times(ctx, row["planned_at"]))
    return reply.build()


@dataclass(frozen=True)
class TakedownListArgs:
    which: str | None
    page: int | None
    held: str | None


@command(
    "takedown", "list",
    params=[pos("which", Choice(("planned", "executed", "failed", "all")), required=False),
            key("page", argtypes.PAGE), key("held", SHOW_HELD, help=HELD_HELP)],
    shows=CONSULT,
    summary=N_("list takedowns"),
)
async def takedown_list(ctx: Context, args: TakedownListArgs) -> Reply:
    op = ctx.require_op()
    which = args.which or "all"
    statuses = {"planned": ("planned", "go"), "executed": ("done",),
                "failed": ("failed", "aborted")}.get(which)
    rows, held = await unheld(ctx, "takedowns", await takedowns.listing(
        ctx.tx, op["id"], statuses=statuses), args.held)
    if args.held != "yes":
        # A takedown's target copies its seized item's value: a held item is named by
        # its number only, as exports do (exports/snapshot.py).
        kept = await seizures.held_seqs(ctx.tx, op["id"], await retention.held(ctx.tx, op["id"]))
        rows = [{**row, "target": label("seizures", row["seizure_seq"]) + " " + tr("(held)")}
                if row["seizure_seq"] in kept else row for row in rows]
    reply = ReplyBuilder().heading(tr("Takedowns ({which}): {n}").format(which=which,
                                                                        n=len(rows)))
    zones = await _zones(ctx)
    reply.bullets([_line(takedown, zones) for takedown in rows], page=args.page or 1,
                  more_hint=f"/takedown list {which}")
    return left_out(reply, held).build()


@dataclass(frozen=True)
class TakedownArgs:
    action: str
    takedown: int
    note: str | None


@command(
    "takedown",
    params=[pos("action", Choice(tuple(TRANSITIONS))), pos("takedown", argtypes.ref("K")),
            pos("note", argtypes.text("note", max_len=300, metavar='"note"'), required=False)],
    summary=N_("report a takedown's execution (done stamps the actual time)"),
)
async def takedown_report(ctx: Context, args: TakedownArgs) -> Reply:
    row = await records.get(ctx, "takedowns", args.takedown)
    _owner_agency(ctx, row["agency"])
    action = args.action
    if row["status"] not in TRANSITIONS[action]:
        raise CommandError(tr("{ref} is {status}; {action} is not possible now").format(
            ref=label("takedowns", row["seq"]), status=row["status"], action=action),
            show_usage=False)
    changes: dict[str, Any] = {"status": RESULT[action]}
    if args.note:
        changes["note"] = args.note
    if action == "done":
        changes["executed_at"] = ctx.stamp
    after = await records.change(ctx, "takedowns", row, changes)
    reply = ReplyBuilder().line(Bold(label("takedowns", after["seq"])),
                                f" {after['target']} → {after['status'].upper()}")
    if action == "done":
        planned = from_db_time(after["planned_at"])
        local = await _local_times(ctx, after["executed_at"])
        if planned:
            reply.line(tr("Executed {at} ({offset} vs plan) · {local}").format(
                at=dtg(after["executed_at"]), offset=timeparse.format_offset(ctx.now - planned),
                local=local))
        else:
            reply.line(tr("Executed {at} · {local}").format(at=dtg(after["executed_at"]),
                                                            local=local))
    if args.note:
        reply.line(*fill(tr("Note: {note}"), note=args.note))
    return reply.build()
