"""/hhour and /takedown: the synchronized action day.

A takedown planned relative to H-hour (`at=H+30m`) keeps its offset, so moving H-hour
moves it (an audited update per takedown). Officers may plan and report takedowns of their
own agency only; leads any. States: planned → go → done | failed, and planned|go → aborted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from commands import args as A
from commands import records, timeparse, validate
from commands.context import CommandError, Context, Reply
from commands.records import dtg, label
from commands.reply import B, ReplyBuilder, ok
from commands.spec import Choice, Fn, Role, command, key, pos, rest
from storage.codec import from_db_time, to_db_time

TRANSITIONS = {
    "go": ("planned",),
    "done": ("planned", "go"),
    "failed": ("planned", "go"),
    "abort": ("planned", "go"),
}
RESULT = {"go": "go", "done": "done", "failed": "failed", "abort": "aborted"}


async def _local_times(ctx: Context, iso: str | None) -> str:
    """Each agency's wall-clock time, agencies sharing a zone's display grouped together."""
    at = from_db_time(iso)
    if at is None:
        return ""
    agencies = await ctx.tx.all("SELECT code, tz FROM agencies WHERE op_id=? ORDER BY code",
                                (ctx.require_op()["id"],))
    grouped: dict[str, list[str]] = {}
    for agency in agencies:
        grouped.setdefault(timeparse.format_local(at, agency["tz"]), []).append(agency["code"])
    return " · ".join(f"{', '.join(codes)} {local}" for local, codes in grouped.items())


@command("hhour", params=[rest("time", A.TIME, required=False)], role=Role.OFFICER,
         summary="show or (lead) set H-hour of the action day",
         examples=['!hhour 2026-11-25 05:00 Europe/Paris', "!hhour 250400ZNOV26"])
async def hhour(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    if a["time"] is None:
        if not op["hhour"]:
            raise CommandError("H-hour is not set; a lead sets it with /hhour TIME",
                               show_usage=False)
        delta = from_db_time(op["hhour"]) - ctx.now  # type: ignore[operator]
        when = (f"T-{timeparse.format_offset(delta)[1:]}" if delta > timedelta(0)
                else f"T+{timeparse.format_offset(-delta)[1:]}")
        return ok("H-hour ", B(dtg(op["hhour"])), f" ({when}) · ",
                  await _local_times(ctx, op["hhour"]))
    ctx.require_lead("set H-hour")
    if a["time"].h_offset is not None:
        raise CommandError("H-hour cannot be set relative to itself; give a time")
    new = a["time"].at
    if new <= ctx.now:
        raise CommandError(f"H-hour {timeparse.format_dtg(new)} is in the past")
    _, after = await ctx.tx.update("operations", op["id"],
                                   {"hhour": to_db_time(new), "updated_at": ctx.stamp})
    ctx.op = after
    moved = 0
    for row in await ctx.tx.all("SELECT * FROM takedowns WHERE op_id=? AND h_offset IS NOT NULL "
                                "AND status IN ('planned', 'go')", (op["id"],)):
        planned = new + timedelta(seconds=row["h_offset"])
        await records.change(ctx, "takedowns", row, {"planned_at": to_db_time(planned)})
        moved += 1
    r = ReplyBuilder().line("H-hour set: ", B(dtg(after["hhour"])), " · ",
                            await _local_times(ctx, after["hhour"]))
    if op["hhour"]:
        r.line(f"(was {dtg(op['hhour'])})")
    if moved:
        r.line(f"{moved} takedown(s) planned relative to H moved with it.")
    return r.build()


def _target(raw: str) -> tuple[str, int | None]:
    value = raw.strip()
    if value[:2].upper() == "S-":
        return value.upper(), validate.record_ref(value, "S")
    return validate.text(value, field="target", max_len=200), None


def _owner_agency(ctx: Context, agency: str) -> None:
    if ctx.is_lead:
        return
    mine = ctx.agency["code"] if ctx.agency else None
    if mine != agency:
        raise CommandError(
            f"officers may plan and report only their own agency's takedowns "
            f"(yours: {mine or 'none — a lead maps you with /member'}; this one: {agency})",
            show_usage=False)


async def _line(ctx: Context, row: dict) -> list[Any]:
    parts: list[Any] = [B(label("takedowns", row["seq"])), f" {row['target']} · {row['agency']}"
                        f" [{row['status']}] · plan {dtg(row['planned_at'])}"]
    if row["executed_at"]:
        parts.append(f" · done {dtg(row['executed_at'])}")
    return parts


@command(
    "takedown", "add",
    params=[
        pos("target", Fn(_target, "TARGET")),
        key("agency", A.AGENCY, required=True),
        key("at", A.TIME, help="planned time, e.g. H+30m; default H"),
        key("tlp", A.TLP),
    ],
    summary="plan a takedown (TARGET = S-n or free text)",
    examples=["!takedown add S-4 agency=DE-BKA at=H+30m"],
)
async def takedown_add(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    await records.require_agency(ctx, a["agency"])
    _owner_agency(ctx, a["agency"])
    target, seizure_seq = a["target"]
    if seizure_seq is not None:
        seizure = await records.get(ctx, "seizures", seizure_seq)
        target = (f"{label('seizures', seizure_seq)} "
                  f"{validate.defang(seizure['type'], seizure['value'])}")
    at = a["at"]
    if at is None and op["hhour"]:
        at = timeparse.ParsedTime(from_db_time(op["hhour"]), h_offset=timedelta(0))  # type: ignore[arg-type]
    row = await records.create(ctx, "takedowns", {
        "target": target, "seizure_seq": seizure_seq, "agency": a["agency"],
        "planned_at": to_db_time(at.at) if at else None,
        "h_offset": int(at.h_offset.total_seconds()) if at and at.h_offset is not None else None,
        "status": "planned", "tlp": a["tlp"],
    })
    r = ReplyBuilder().line(*await _line(ctx, row))
    if row["planned_at"]:
        r.line(await _local_times(ctx, row["planned_at"]))
    return r.build()


@command(
    "takedown", "list",
    params=[pos("which", Choice(("planned", "executed", "failed", "all")), required=False),
            key("page", A.PAGE)],
    summary="list takedowns",
)
async def takedown_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    which = a["which"] or "all"
    statuses = {"planned": ("planned", "go"), "executed": ("done",),
                "failed": ("failed", "aborted")}.get(which)
    sql = "SELECT * FROM takedowns WHERE op_id=?"
    if statuses:
        sql += f" AND status IN ({', '.join(repr(s) for s in statuses)})"
    rows = await ctx.tx.all(sql + " ORDER BY planned_at IS NULL, planned_at, seq", (op["id"],))
    r = ReplyBuilder().heading(f"Takedowns ({which}): {len(rows)}")
    r.bullets([await _line(ctx, x) for x in rows], page=a["page"] or 1,
              more_hint=f"/takedown list {which}")
    return r.build()


@command(
    "takedown",
    params=[pos("action", Choice(tuple(TRANSITIONS))), pos("takedown", A.ref("K")),
            pos("note", A.text("note", max_len=300, metavar='"note"'), required=False)],
    summary="report a takedown's execution (done stamps the actual time)",
)
async def takedown_report(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await records.get(ctx, "takedowns", a["takedown"])
    _owner_agency(ctx, row["agency"])
    action = a["action"]
    if row["status"] not in TRANSITIONS[action]:
        raise CommandError(f"{label('takedowns', row['seq'])} is {row['status']}; "
                           f"{action} is not possible now", show_usage=False)
    changes: dict[str, Any] = {"status": RESULT[action]}
    if a["note"]:
        changes["note"] = a["note"]
    if action == "done":
        changes["executed_at"] = ctx.stamp
    after = await records.change(ctx, "takedowns", row, changes)
    r = ReplyBuilder().line(B(label("takedowns", after["seq"])),
                            f" {after['target']} → {after['status'].upper()}")
    if action == "done":
        planned = from_db_time(after["planned_at"])
        offset = (f" ({timeparse.format_offset(ctx.now - planned)} vs plan)"
                  if planned else "")
        r.line(f"Executed {dtg(after['executed_at'])}{offset} · ",
               await _local_times(ctx, after["executed_at"]))
    return r.build()
