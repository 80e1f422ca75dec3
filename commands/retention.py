"""/retention: how long each data-subject category of this operation is kept after its
closure, and a lead's changes to it (Directive 2016/680 art. 5; CJEU C-118/22).

Shortening takes effect at once: keeping less is always allowed. Lengthening keeps personal
data longer than the deployment's rule, so it needs a reason, which the audit log and the
history shown by `/retention` keep with who gave it and when. The warnings before a due
date (−30 d, −7 d) are made here too, for the scheduler to post.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import NOUN, PREFIX, ROW_NOUN, dtg, label
from commands.core.reply import Bold, Code, ReplyBuilder, fill
from commands.core.spec import Choice, Fn, NoArgs, Role, command, pos
from commands.core.types import CommandError, Reply
from commands.reminders import Due, owed_moments
from storage import retention
from storage.codec import to_db_time
from storage.personal import CATEGORIES
from storage.tx import Row, Tx

REASON_LIMIT = 300
CATEGORY = Choice(CATEGORIES)
# When the room is told before a due date, and the key part each warning is recorded under.
WARN_BEFORE = (("30d", timedelta(days=30)), ("7d", timedelta(days=7)))


def _period(raw: str) -> str:
    try:
        return retention.parse_period(raw)
    except retention.PeriodError:
        raise ValueError(tr('{value} is not a review period: write a number and y, m or d, '
                            'e.g. "3y", "18m", "90d"').format(value=repr(raw))) from None


PERIOD = Fn(_period, "PERIOD", fixed=True)


def shown_period(period: str) -> str:
    n, unit = int(period[:-1]), period[-1]
    if unit == "y":
        return trn("{n} year", "{n} years", n).format(n=n)
    if unit == "m":
        return trn("{n} month", "{n} months", n).format(n=n)
    return trn("{n} day", "{n} days", n).format(n=n)


def _due_text(op: Row, period: str) -> str:
    due = retention.due_date(op, period)
    if due is None:
        return tr("runs from closure")
    return tr("due {when}").format(when=dtg(to_db_time(due)))


@command(
    "retention",
    summary=N_("show how long each category of personal data is kept after closure, what "
               "is due when, the holds and the extensions"),
    examples=["/retention"],
)
async def retention_show(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    in_force = await retention.periods(ctx.tx, op["id"], ctx.settings.retention_periods)
    held_rows = await retention.held(ctx.tx, op["id"])
    counts: Counter[str] = Counter()
    held_counts: Counter[str] = Counter()
    for item in await retention.kept(ctx.tx, op["id"]):
        if (item.tbl, item.row_id) in held_rows:
            held_counts[item.category] += 1
        else:
            counts[item.category] += 1
    r = ReplyBuilder().heading(tr("Retention of personal data · {op}").format(op=op["code"]))
    for category in CATEGORIES:
        records = trn("{n} record", "{n} records", counts[category]).format(n=counts[category])
        if held_counts[category]:
            records += ", " + trn("{n} held", "{n} held",
                                  held_counts[category]).format(n=held_counts[category])
        r.line(*fill(tr("{category}: {period} after closure, {due} · {records}"),
                     category=Bold(category), period=shown_period(in_force[category]),
                     due=_due_text(op, in_force[category]), records=records))
    active = await retention.holds(ctx.tx, op["id"], active_only=True)
    if active:
        r.line(Bold(tr("Active holds:")))
        r.bullets([[hold_line(h)] for h in active])
    changes = await retention.history(ctx.tx, op["id"])
    if changes:
        r.line(Bold(tr("Changes:")))
        r.bullets([[_change_line(c)] for c in changes])
    return r.build()


def hold_line(hold: Row) -> str:
    return tr("H-{seq} {ref} · {scope} · by {who} {when}").format(
        seq=hold["seq"], ref=hold["ref"], scope=hold_scope(hold), who=hold["created_by"],
        when=dtg(hold["created_at"]))


def hold_scope(hold: Row) -> str:
    if hold["records"]:
        return ", ".join(label(t, seq) for t, seq in retention.hold_numbers(hold))
    if hold["category"]:
        return str(hold["category"])
    return tr("whole operation")


def _change_line(change: Row) -> str:
    text = {retention.SET: N_("{category} set to {period} by {who} {when}"),
            retention.EXTEND: N_("{category} extended to {period} by {who} {when}")}
    line = tr(text[change["kind"]]).format(
        category=change["category"], period=shown_period(change["period"]),
        who=change["created_by"], when=dtg(change["created_at"]))
    if change["reason"]:
        line += tr(": {reason}").format(reason=change["reason"])
    return line


@dataclass(frozen=True)
class RetentionSetArgs:
    category: str
    period: str
    reason: str | None


@command(
    "retention", "set",
    params=[pos("category", CATEGORY), pos("period", PERIOD),
            pos("reason", argtypes.text(N_("reason"), REASON_LIMIT, N_('"reason"')),
                required=False, help=N_("needed when the period gets longer"))],
    role=Role.LEAD,
    summary=N_("set this operation's review period for a category (longer needs a reason)"),
    examples=['/retention set witness 6m', '/retention set suspect 5y "trial set for 2029"'],
)
async def retention_set(ctx: Context, args: RetentionSetArgs) -> Reply:
    op = ctx.require_op()
    current = (await retention.periods(ctx.tx, op["id"],
                                       ctx.settings.retention_periods))[args.category]
    if args.period == current:
        raise CommandError(tr("{category} is already kept {period} after closure").format(
            category=args.category, period=shown_period(current)), show_usage=False)
    if retention.longer(args.period, current) and args.reason is None:
        raise CommandError(tr('keeping {category} data longer ({old} → {new}) needs the '
                              'reason, e.g. /retention set {category} {raw} "trial pending"'
                              ).format(category=args.category, old=shown_period(current),
                                       new=shown_period(args.period), raw=args.period))
    await retention.set_period(ctx.tx, op["id"], args.category, args.period, retention.SET,
                               args.reason, ctx.sender, ctx.stamp)
    return _changed(op, args.category, current, args.period)


def _changed(op: Row, category: str, old: str, new: str) -> Reply:
    return ReplyBuilder().line(*fill(
        tr("{category}: kept {new} after closure (was {old}), {due}"),
        category=Bold(category), new=shown_period(new), old=shown_period(old),
        due=_due_text(op, new))).build()


@dataclass(frozen=True)
class RetentionExtendArgs:
    category: str
    period: str
    reason: str


@command(
    "retention", "extend",
    params=[pos("category", CATEGORY), pos("period", PERIOD),
            pos("reason", argtypes.text(N_("reason"), REASON_LIMIT, N_('"reason"')))],
    role=Role.LEAD,
    summary=N_("keep a category longer by a period, with the reason"),
    examples=['/retention extend suspect +1y "trial pending, ref 123 Js 45/25"'],
)
async def retention_extend(ctx: Context, args: RetentionExtendArgs) -> Reply:
    op = ctx.require_op()
    current = (await retention.periods(ctx.tx, op["id"],
                                       ctx.settings.retention_periods))[args.category]
    new = retention.combined(current, args.period)
    await retention.set_period(ctx.tx, op["id"], args.category, new, retention.EXTEND,
                               args.reason, ctx.sender, ctx.stamp)
    return _changed(op, args.category, current, new)


# -- warnings before a due date -----------------------------------------------------------

@dataclass(frozen=True)
class Warning:
    """A review warning owed now; `post` False: an older one that passed unposted (it is
    recorded as skipped, never posted late behind a newer one)."""

    op: Row
    key: str
    post: bool
    category: str
    period: str
    due: datetime
    items: list[retention.Kept]

    def owed(self, now: datetime, *, left: bool = False) -> Due:
        """As a reminder to record and post, written in the language in force; `left`: for
        the data-protection contact, because the bot is no longer in the room."""
        if not self.post or not self.items:
            return Due(self.key, None)
        return Due(self.key, _warning(self, now, left))


async def warnings_due(tx: Tx, now: datetime, defaults: dict[str, str]) -> list[Warning]:
    """The review warnings owed now for every closed operation: 30 and 7 days before each
    category's due date, each once. The key holds the due date, so an extension that moves
    it makes new warnings for the new date; when both passed unposted only the later one
    is posted. Nothing is posted for a category with nothing left to erase."""
    out: list[Warning] = []
    for op in await retention.closed_operations(tx):
        in_force = await retention.periods(tx, op["id"], defaults)
        held_rows: set[tuple[str, int]] | None = None
        for category in CATEGORIES:
            due = retention.due_date(op, in_force[category])
            if due is None or due <= now or due - WARN_BEFORE[0][1] > now:
                continue
            stamp = to_db_time(due)
            keys = {f"retention:{category}:{name}:{stamp}": (name, due - before)
                    for name, before in WARN_BEFORE}
            owed = await owed_moments(tx, op["id"], keys, now)
            if not owed:
                continue
            if held_rows is None:
                held_rows = await retention.held(tx, op["id"])
            items = [k for k in await retention.kept(tx, op["id"], category)
                     if (k.tbl, k.row_id) not in held_rows]
            out += [Warning(op, key, post, category, in_force[category], due, items)
                    for key, _moment, post in owed]
    return out


def _warning(w: Warning, now: datetime, left: bool) -> Reply:
    op, category, due, items = w.op, w.category, w.due, w.items
    kinds: Counter[str] = Counter(k.tbl for k in items)
    handles = [label(k.tbl, k.seq) for k in items if k.seq is not None and k.tbl in PREFIX]
    r = ReplyBuilder().heading(tr("⌛ Retention review · {op} · {category} data due for "
                                  "erasure {when}").format(
        op=op["code"], category=category, when=dtg(to_db_time(due))))
    days = (due - now).days
    r.line(trn("In {n} day, unless extended, the personal fields of these records are "
               "erased: {what}.", "In {n} days, unless extended, the personal fields of "
               "these records are erased: {what}.", days).format(
        n=days, what=", ".join(f"{n} × {tr(NOUN.get(t) or ROW_NOUN[t])}"
                               for t, n in sorted(kinds.items()))))
    if handles:
        r.line(tr("Records: {handles}").format(handles=", ".join(handles[:_HANDLES_SHOWN])
                                               + (" …" if len(handles) > _HANDLES_SHOWN
                                                  else "")))
    if left:
        r.line(tr("The bot is no longer in the operation's room {room}: you are told as its "
                  "data-protection contact.").format(room=op["room_id"]))
    r.line(*fill(tr("A lead keeps them longer with {command}, or places a hold with {hold}."),
                 command=Code(f'/retention extend {category} +1y "…"'),
                 hold=Code(f'/hold add "…" {category}')))
    return r.build()


_HANDLES_SHOWN = 50


def shown_counts(kept_out: int) -> list[Any]:
    """The line a list adds when held records were left out of it."""
    return [trn("{n} held record not shown (held=yes shows it)",
                "{n} held records not shown (held=yes shows them)", kept_out).format(
        n=kept_out)]


# -- held records left out of what is shown ------------------------------------------------

SHOW_HELD = Choice(("yes", "no"))
HELD_HELP = N_("yes: show records under a legal hold too (left out by default)")


async def unheld(ctx: Context, table: str, rows: list[Row], held: str | None
                 ) -> tuple[list[Row], int]:
    """The rows a list shows: those under an active hold are left out unless `held=yes`
    asked for them; the count left out is for `left_out`."""
    if held == "yes":
        return rows, 0
    op = ctx.require_op()
    return retention.without_held(rows, table, await retention.held(ctx.tx, op["id"]))


def left_out(reply: ReplyBuilder, count: int) -> ReplyBuilder:
    """Say how many held records a list left out, so a restriction is never silent."""
    if count:
        reply.line(*shown_counts(count))
    return reply
