"""/hold: a legal hold restricts personal data instead of erasing them (Directive 2016/680
art. 16(3)): while evidence for a case, they are kept past their review date, and leave
lists, sitreps and exports unless asked for (`held=yes`).

A hold names its case (reference, court) and its scope: the whole operation, one category,
or records by number. Holds add up: a record under two holds is kept until both are
released, so one case closing cannot free what another still needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import PREFIX, dtg
from commands.core.records import get as record
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import Fn, NoArgs, Role, command, pos
from commands.core.types import CommandError, Reply
from commands.retention import REASON_LIMIT, hold_line, hold_scope
from storage import retention
from storage.consultations import CONSULT
from storage.personal import CATEGORIES, PERSONAL
from storage.tx import Row

REF_LIMIT = 200
_TABLE = {prefix: table for table, prefix in PREFIX.items() if table in PERSONAL}
_HANDLE_RE = re.compile(r"^([A-Za-z])-?(\d{1,9})$")


def _scope(raw: str) -> str:
    """`all`, a category, or record numbers such as `A-3,S-2` (checked here, looked up by
    the handler)."""
    value = raw.strip()
    if value.lower() in ("all", *CATEGORIES):
        return value.lower()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    for part in parts:
        found = _HANDLE_RE.match(part)
        if not found or found[1].upper() not in _TABLE:
            raise ValueError(tr("{value} is not a scope: write all, a category ({categories}) "
                                "or record numbers such as A-3,S-2 ({kinds})").format(
                value=repr(part), categories=", ".join(CATEGORIES),
                kinds=", ".join(f"{p}-" for p in sorted(_TABLE))))
    if not parts:
        raise ValueError(tr("the scope is empty"))
    return ",".join(p.upper().replace("-", "") for p in parts)


SCOPE = Fn(_scope, "all|CATEGORY|A-3,S-2", fixed=True)


@dataclass(frozen=True)
class HoldAddArgs:
    ref: str
    scope: str | None


@command(
    "hold", "add",
    params=[pos("ref", argtypes.text(N_("case reference"), REF_LIMIT, N_('"case ref / court"'))),
            pos("scope", SCOPE, required=False,
                help=N_("what is held: all (default), a category, or record numbers"))],
    role=Role.LEAD,
    summary=N_("place a legal hold: the data are kept and restricted instead of erased"),
    examples=['/hold add "123 Js 45/25, AG Köln"', '/hold add "123 Js 45/25" suspect',
              '/hold add "123 Js 45/25" A-3,S-2'],
)
async def hold_add(ctx: Context, args: HoldAddArgs) -> Reply:
    op = ctx.require_op()
    category: str | None = None
    records: list[tuple[str, int, int]] | None = None
    if args.scope in CATEGORIES:
        category = args.scope
    elif args.scope not in (None, "all"):
        records = []
        for part in args.scope.split(","):
            table, seq = _TABLE[part[0]], int(part[1:])
            row = await record(ctx, table, seq)
            if (table, row["id"], seq) not in records:
                records.append((table, row["id"], seq))
    hold = await retention.add_hold(ctx.tx, op["id"], args.ref, category=category,
                                    records=records, by=ctx.sender, at=ctx.stamp)
    held_now = await _count(ctx, hold)
    return ok(*fill(tr("{hold} placed ({scope}): {n} kept past their review date and left "
                       "out of lists, sitreps and exports unless asked for (held=yes)"),
                    hold=Bold(f"H-{hold['seq']}"), scope=hold_scope(hold),
                    n=trn("{n} record", "{n} records", held_now).format(n=held_now)))


async def _count(ctx: Context, hold: Row) -> int:
    if hold["records"]:
        return len(retention.hold_records(hold))
    op = ctx.require_op()
    return sum(1 for k in await retention.kept(ctx.tx, op["id"], hold["category"]))


@command(
    "hold", "list",
    shows=CONSULT,
    summary=N_("list the legal holds of this operation, released ones too"),
)
async def hold_list(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    rows = await retention.holds(ctx.tx, op["id"])
    active = [h for h in rows if h["released_at"] is None]
    r = ReplyBuilder().heading(tr("Legal holds: {n} active").format(n=len(active)))
    lines = []
    for hold in rows:
        line = hold_line(hold)
        if hold["released_at"] is not None:
            line += " · " + tr("released by {who} {when}").format(
                who=hold["released_by"], when=dtg(hold["released_at"]))
            if hold["release_reason"]:
                line += tr(": {reason}").format(reason=hold["release_reason"])
        lines.append([line])
    if not lines:
        r.line(tr("No hold has been placed."))
    r.bullets(lines)
    return r.build()


@dataclass(frozen=True)
class HoldReleaseArgs:
    hold: int
    reason: str | None


@command(
    "hold", "release",
    params=[pos("hold", argtypes.ref("H")),
            pos("reason", argtypes.text(N_("reason"), REASON_LIMIT, N_('"reason"')),
                required=False)],
    role=Role.LEAD,
    summary=N_("release a legal hold: its data are reviewed and erased again when due"),
    examples=['/hold release H-2 "judgment final"'],
)
async def hold_release(ctx: Context, args: HoldReleaseArgs) -> Reply:
    op = ctx.require_op()
    hold = await retention.hold_by_seq(ctx.tx, op["id"], args.hold)
    if hold is None:
        raise CommandError(tr("there is no hold H-{seq} in this operation").format(
            seq=args.hold), show_usage=False)
    if hold["released_at"] is not None:
        raise CommandError(tr("H-{seq} was already released {when} by {who}").format(
            seq=args.hold, when=dtg(hold["released_at"]), who=hold["released_by"]),
            show_usage=False)
    await retention.release_hold(ctx.tx, hold, args.reason, ctx.sender, ctx.stamp)
    still = await retention.held(ctx.tx, op["id"])
    return ok(*fill(tr("{hold} released ({scope}); records still under another hold: {n}"),
                    hold=Bold(f"H-{hold['seq']}"), scope=hold_scope(hold), n=str(len(still))))

