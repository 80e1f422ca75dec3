"""/task: who does what by when."""

from __future__ import annotations

from typing import Any

from commands import args as A
from commands import records
from commands.context import CommandError, Context, Reply
from commands.records import dtg, label
from commands.reply import B, Ping, ReplyBuilder, ok
from commands.spec import Choice, command, key, mention, pos
from storage.codec import to_db_time

PRIORITIES = ("low", "normal", "high", "critical")
STATUSES = ("open", "in-progress", "blocked", "done")
TASK_REF = A.ref("T")


async def _assignee_agency(ctx: Context, user: str | None) -> str | None:
    if user is None:
        return ctx.agency["code"] if ctx.agency else None
    row = await ctx.tx.one(
        "SELECT agency FROM members WHERE op_id=? AND user_id=?", (ctx.require_op()["id"], user)
    )
    return row["agency"] if row else None


@command(
    "task", "add",
    params=[
        pos("text", A.text("task text")),
        mention("assignee"),
        key("due", A.TIME),
        key("priority", Choice(PRIORITIES)),
        key("tlp", A.TLP),
    ],
    summary="create a task",
    examples=['!task add "Image server fra-2" @anna:police.example due=H+2h priority=high'],
)
async def task_add(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await records.create(ctx, "tasks", {
        "text": a["text"],
        "assignee": a["assignee"],
        "agency": await _assignee_agency(ctx, a["assignee"]),
        "due": to_db_time(a["due"].at) if a["due"] else None,
        "priority": a["priority"] or "normal",
        "status": "open",
        "tlp": a["tlp"],
    })
    parts: list[Any] = [B(label("tasks", row["seq"])), " created: ", row["text"]]
    if row["assignee"]:
        parts += [" → ", Ping(row["assignee"])]
    if row["due"]:
        parts += [f" · due {dtg(row['due'])}"]
    if row["priority"] != "normal":
        parts += [f" · {row['priority']}"]
    return ok(*parts)


def _task_line(row: dict, now_iso: str) -> list[Any]:
    overdue = row["due"] and row["status"] != "done" and row["due"] < now_iso
    parts: list[Any] = [B(label("tasks", row["seq"])), f" [{row['status']}] ", row["text"]]
    if row["assignee"]:
        parts.append(f" → {row['assignee']}")
    if row["due"]:
        parts.append(f" · due {dtg(row['due'])}" + (" ⚠️ OVERDUE" if overdue else ""))
    if row["priority"] in ("high", "critical"):
        parts.append(f" · {row['priority']}")
    return parts


@command(
    "task", "list",
    params=[
        pos("filter", Choice(("open", "mine", "overdue", "all")), required=False),
        key("agency", A.AGENCY),
        key("page", A.PAGE),
    ],
    summary="list tasks",
)
async def task_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    which = a["filter"] or "open"
    now_iso = to_db_time(ctx.clock.now())
    where, params = ["op_id=?"], [op["id"]]
    if which != "all":
        where.append("status != 'done'")
    if which == "mine":
        where.append("assignee=?")
        params.append(ctx.sender)
    if which == "overdue":
        where.append("due IS NOT NULL AND due < ?")
        params.append(now_iso)
    if a["agency"]:
        await records.require_agency(ctx, a["agency"])
        where.append("agency=?")
        params.append(a["agency"])
    rows = await ctx.tx.all(f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY seq",
                            params)
    r = ReplyBuilder().heading(f"Tasks ({which}{', ' + a['agency'] if a['agency'] else ''}): "
                               f"{len(rows)}")
    r.bullets([_task_line(t, now_iso) for t in rows], page=a["page"] or 1,
              more_hint=f"/task list {which}")
    return r.build()


async def _owned_task(ctx: Context, seq: int) -> dict:
    row = await records.get(ctx, "tasks", seq)
    ctx.require_owner(row, label("tasks", seq), also="assignee")
    return row


def _status_command(verb: str, status: str, summary: str, reason_required: bool) -> None:
    @command(
        "task", verb,
        params=[pos("task", TASK_REF),
                pos("reason", A.text("reason", metavar='"reason"'), required=reason_required)],
        summary=summary,
    )
    async def handler(ctx: Context, a: dict[str, Any]) -> Reply:
        row = await _owned_task(ctx, a["task"])
        if row["status"] == status:
            raise CommandError(f"{label('tasks', row['seq'])} is already {status}",
                               show_usage=False)
        changes: dict[str, Any] = {"status": status, "reason": a["reason"]}
        changes["done_at"] = ctx.stamp if status == "done" else None
        after = await records.change(ctx, "tasks", row, changes)
        note = f" ({after['reason']})" if after["reason"] else ""
        return ok(B(label("tasks", after["seq"])), f" {row['status']} → {status}{note}: ",
                  after["text"])


_status_command("done", "done", "mark a task done", False)
_status_command("start", "in-progress", "mark a task started", False)
_status_command("block", "blocked", "mark a task blocked (say why)", False)


@command(
    "task", "assign",
    params=[pos("task", TASK_REF), mention("assignee", required=True)],
    summary="assign a task to someone",
)
async def task_assign(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await _owned_task(ctx, a["task"])
    after = await records.change(ctx, "tasks", row, {
        "assignee": a["assignee"], "agency": await _assignee_agency(ctx, a["assignee"])})
    return ok(B(label("tasks", after["seq"])), " → ", Ping(after["assignee"]), ": ",
              after["text"])


@command(
    "task", "edit",
    params=[
        pos("task", TASK_REF),
        key("text", A.text("task text")),
        key("due", A.TIME),
        key("priority", Choice(PRIORITIES)),
        key("tlp", A.TLP),
    ],
    summary="change a task's text, due time, priority or TLP",
)
async def task_edit(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await _owned_task(ctx, a["task"])
    changes: dict[str, Any] = {}
    if a["text"] is not None:
        changes["text"] = a["text"]
    if a["due"] is not None:
        changes["due"] = to_db_time(a["due"].at)
    if a["priority"] is not None:
        changes["priority"] = a["priority"]
    if a["tlp"] is not None:
        changes["tlp"] = a["tlp"]
    if not changes:
        raise CommandError("nothing to change: give at least one of text=, due=, priority=, tlp=")
    after = await records.change(ctx, "tasks", row, changes)
    what = ", ".join(f"{k}={after[k] if k != 'due' else dtg(after[k])}" for k in changes)
    return ok(B(label("tasks", after["seq"])), f" updated: {what}")

