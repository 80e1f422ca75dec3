"""/task: who does what by when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands.core import argtypes, records
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import dtg, label
from commands.core.reply import Bold, Part, Ping, ReplyBuilder, fill, ok
from commands.core.spec import Choice, command, key, mention, pos
from commands.core.timeparse import ParsedTime
from commands.core.types import CommandError, Reply
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import agencies, tasks
from storage.codec import to_db_time
from storage.consultations import CONSULT
from storage.tx import Row

PRIORITIES = ("low", "normal", "high", "critical")
STATUSES = ("open", "in-progress", "blocked", "done")
TASK_REF = argtypes.ref("T")


async def _assignee_agency(ctx: Context, user: str | None) -> str | None:
    if user is None:
        return ctx.agency["code"] if ctx.agency else None
    return await agencies.code_of_member(ctx.tx, ctx.require_op()["id"], user)


@dataclass(frozen=True)
class TaskAddArgs:
    text: str
    assignee: str | None
    due: ParsedTime | None
    priority: str | None
    tlp: str | None
    subject: str | None


@command(
    "task", "add",
    params=[
        pos("text", argtypes.text(N_("task text"))),
        mention("assignee"),
        key("due", argtypes.TIME),
        key("priority", Choice(PRIORITIES)),
        key("tlp", argtypes.TLP),
        key("subject", argtypes.SUBJECT,
            help=N_("whose data the text holds, for its retention; default other")),
    ],
    summary=N_("create a task"),
    examples=['!task add "Image server fra-2" @anna:police.example due=H+2h priority=high'],
)
async def task_add(ctx: Context, args: TaskAddArgs) -> Reply:
    row = await records.create(ctx, "tasks", {
        "text": args.text,
        "assignee": args.assignee,
        "agency": await _assignee_agency(ctx, args.assignee),
        "due": to_db_time(args.due.at) if args.due else None,
        "priority": args.priority or "normal",
        "status": "open",
        "tlp": args.tlp,
        "subject_category": args.subject,
    })
    parts: list[Part] = [*fill(tr("{ref} created: {text}"), ref=Bold(label("tasks", row["seq"])),
                               text=row["text"])]
    if row["assignee"]:
        parts += [" → ", Ping(row["assignee"])]
    if row["due"]:
        parts += [" · ", tr("due {when}").format(when=dtg(row["due"]))]
    if row["priority"] != "normal":
        parts += [f" · {row['priority']}"]
    return ok(*parts)


def _task_line(row: Row, now_iso: str) -> list[Part]:
    overdue = row["due"] and row["status"] != "done" and row["due"] < now_iso
    parts: list[Part] = [Bold(label("tasks", row["seq"])), f" [{row['status']}] ", row["text"]]
    if row["assignee"]:
        parts.append(f" → {row['assignee']}")
    if row["due"]:
        parts.append(" · " + tr("due {when}").format(when=dtg(row["due"])))
        if overdue:
            parts.append(" " + tr("⚠️ OVERDUE"))
    if row["priority"] in ("high", "critical"):
        parts.append(f" · {row['priority']}")
    return parts


@dataclass(frozen=True)
class TaskListArgs:
    filter: str | None
    agency: str | None
    page: int | None
    held: str | None


@command(
    "task", "list",
    shows=CONSULT, params=[
        pos("filter", Choice(("open", "mine", "overdue", "all")), required=False),
        key("agency", argtypes.AGENCY),
        key("page", argtypes.PAGE),
        key("held", SHOW_HELD, help=HELD_HELP),
    ],
    summary=N_("list tasks"),
)
async def task_list(ctx: Context, args: TaskListArgs) -> Reply:
    op = ctx.require_op()
    which = args.filter or "open"
    now_iso = to_db_time(ctx.clock.now())
    if args.agency:
        await records.require_agency(ctx, args.agency)
    rows = await tasks.listing(ctx.tx, op["id"], include_done=which == "all",
                               assignee=ctx.sender if which == "mine" else None,
                               due_before=now_iso if which == "overdue" else None,
                               agency=args.agency)
    rows, held = await unheld(ctx, "tasks", rows, args.held)
    shown = f"{which}, {args.agency}" if args.agency else which
    r = ReplyBuilder().heading(tr("Tasks ({which}): {n}").format(which=shown, n=len(rows)))
    r.bullets([_task_line(t, now_iso) for t in rows], page=args.page or 1,
              more_hint=f"/task list {which}")
    return left_out(r, held).build()


async def _owned_task(ctx: Context, seq: int) -> Row:
    row = await records.get(ctx, "tasks", seq)
    ctx.require_owner(row, label("tasks", seq), also="assignee")
    return row


REASON = argtypes.text(N_("reason"), metavar=N_('"reason"'))


@dataclass(frozen=True)
class TaskStatusArgs:
    task: int
    reason: str | None


@dataclass(frozen=True)
class TaskBlockArgs:
    task: int
    reason: str


async def _set_status(ctx: Context, seq: int, status: str, reason: str | None) -> Reply:
    """The one path for /task done, start and block: who may, what is kept, what is said."""
    row = await _owned_task(ctx, seq)
    if row["status"] == status:
        raise CommandError(tr("{ref} is already {status}").format(
            ref=label("tasks", row["seq"]), status=status), show_usage=False)
    after = await records.change(ctx, "tasks", row, {
        "status": status, "reason": reason,
        "done_at": ctx.stamp if status == "done" else None})
    note = f" ({after['reason']})" if after["reason"] else ""
    return ok(Bold(label("tasks", after["seq"])), f" {row['status']} → {status}{note}: ",
              after["text"])


@command("task", "done", params=[pos("task", TASK_REF), pos("reason", REASON, required=False)],
         summary=N_("mark a task done"))
async def task_done(ctx: Context, args: TaskStatusArgs) -> Reply:
    return await _set_status(ctx, args.task, "done", args.reason)


@command("task", "start", params=[pos("task", TASK_REF), pos("reason", REASON, required=False)],
         summary=N_("mark a task started"))
async def task_start(ctx: Context, args: TaskStatusArgs) -> Reply:
    return await _set_status(ctx, args.task, "in-progress", args.reason)


@command("task", "block", params=[pos("task", TASK_REF), pos("reason", REASON)],
         summary=N_("mark a task blocked (say why)"))
async def task_block(ctx: Context, args: TaskBlockArgs) -> Reply:
    return await _set_status(ctx, args.task, "blocked", args.reason)


@dataclass(frozen=True)
class TaskAssignArgs:
    task: int
    assignee: str


@command(
    "task", "assign",
    params=[pos("task", TASK_REF), mention("assignee", required=True)],
    summary=N_("assign a task to someone"),
)
async def task_assign(ctx: Context, args: TaskAssignArgs) -> Reply:
    row = await _owned_task(ctx, args.task)
    after = await records.change(ctx, "tasks", row, {
        "assignee": args.assignee, "agency": await _assignee_agency(ctx, args.assignee)})
    return ok(Bold(label("tasks", after["seq"])), " → ", Ping(after["assignee"]), ": ",
              after["text"])


@dataclass(frozen=True)
class TaskEditArgs:
    task: int
    text: str | None
    due: ParsedTime | None
    priority: str | None
    tlp: str | None


@command(
    "task", "edit",
    params=[
        pos("task", TASK_REF),
        key("text", argtypes.text(N_("task text"))),
        key("due", argtypes.TIME),
        key("priority", Choice(PRIORITIES)),
        key("tlp", argtypes.TLP),
    ],
    summary=N_("change a task's text, due time, priority or TLP"),
)
async def task_edit(ctx: Context, args: TaskEditArgs) -> Reply:
    row = await _owned_task(ctx, args.task)
    changes: dict[str, Any] = {}
    if args.text is not None:
        changes["text"] = args.text
    if args.due is not None:
        changes["due"] = to_db_time(args.due.at)
    if args.priority is not None:
        changes["priority"] = args.priority
    if args.tlp is not None:
        changes["tlp"] = args.tlp
    if not changes:
        raise CommandError(tr("nothing to change: give at least one of text=, due=, priority=, "
                              "tlp="))
    after = await records.change(ctx, "tasks", row, changes)
    what = ", ".join(f"{k}={after[k] if k != 'due' else dtg(after[k])}" for k in changes)
    return ok(*fill(tr("{ref} updated: {changes}"), ref=Bold(label("tasks", after["seq"])),
                    changes=what))

