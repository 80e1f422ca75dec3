"""/log consults: the consultation log of this room, for a lead, in the room.

The data-protection officer reads it with `opsroom log consults`; a lead may check in the
room who was shown which records and why. Reading it is itself a consultation of the log
(`log_review`), so it is logged like any other showing command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg
from commands.core.reply import Code, ReplyBuilder, fill
from commands.core.spec import Role, command, key, mention
from commands.core.timeparse import ParsedTime
from commands.core.types import Reply
from storage import consultations
from storage.codec import to_db_time
from storage.consultations import LOG_REVIEW

DEFAULT_SINCE = timedelta(days=30)


@dataclass(frozen=True)
class LogConsultsArgs:
    user: str | None
    since: ParsedTime | None
    page: int | None


@command(
    "log", "consults",
    params=[mention("user", help=N_("only what this member was shown")),
            key("since", argtypes.TIME, help=N_("from this time on (default: 30 days ago)")),
            key("page", argtypes.PAGE)],
    role=Role.LEAD,
    summary=N_("who was shown which records in this room, when and why (the consultation "
               "log)"),
    examples=["!log consults", "!log consults @anna:police.example since=-7d"],
    shows=LOG_REVIEW,
)
async def log_consults(ctx: Context, args: LogConsultsArgs) -> Reply:
    since = args.since.at if args.since is not None else ctx.now - DEFAULT_SINCE
    rows = await consultations.since(ctx.tx, ctx.msg.room_id, to_db_time(since),
                                     sender=args.user)
    report = ReplyBuilder().heading(trn(
        "Consultation log since {since}: {n} row", "Consultation log since {since}: {n} rows",
        len(rows)).format(since=dtg(to_db_time(since)), n=len(rows)))
    report.bullets([fill(
        tr("#{n} {when} {who} (device {device}) {verb} {scope} · {records} records · "
           "purpose: {purpose}"),
        n=str(r["n"]), when=dtg(r["at"]), who=r["sender"], device=r["device"] or "-",
        verb=r["verb"], scope=Code(r["scope"]), records=str(r["records"]),
        purpose=r["purpose"]) for r in rows], page=args.page or 1, more_hint="/log consults")
    shown = report.build()
    shown.shown = len(rows)
    return shown
