"""/seize: infrastructure identified, requested, seized, sinkholed…

Indicators are stored refanged (so exports and STIX carry real values) and shown defanged
in chat, so nobody taps a live criminal URL on their phone. Domains (also a URL's or a
server's host) are stored as IDNA A-labels, so `аррӏе.com` is never taken for, nor
recorded as a duplicate of, `apple.com`; chat shows the Unicode form beside it, flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands import deconflict
from commands.core import argtypes, records, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import label
from commands.core.reply import Bold, ReplyBuilder, ok
from commands.core.spec import Choice, Fn, command, key, pos
from commands.core.types import CommandError, Reply
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import seizures
from storage.consultations import CONSULT
from storage.tx import Row

STATUSES = ("identified", "requested", "seized", "sinkholed", "offline", "released")
TYPE = Choice(validate.SEIZURE_TYPES)
VALUE = Fn(str, "VALUE")


def _line(row: Row) -> list[Any]:
    where = f" · {row['country']}" if row["country"] else ""
    provider = f" · {row['provider']}" if row["provider"] else ""
    return [Bold(label("seizures", row["seq"])), f" {row['type']} ",
            validate.shown(row["type"], row["value"]), f" [{row['status']}]{where}{provider}"]


@dataclass(frozen=True)
class SeizeArgs:
    type: str
    value: str
    country: str | None
    provider: str | None
    status: str | None
    tlp: str | None
    subject: str | None


@command(
    "seize",
    params=[
        pos("type", TYPE),
        pos("value", VALUE),
        key("country", argtypes.COUNTRY),
        key("provider", argtypes.text(N_("provider"), max_len=120)),
        key("status", Choice(STATUSES)),
        key("tlp", argtypes.TLP),
        key("subject", argtypes.SUBJECT,
            help=N_("whose identifier it is, for its retention (an account of a victim: "
                    "victim); default other")),
    ],
    summary=N_("record seized or targeted infrastructure"),
    examples=['!seize domain evil[.]example country=NL provider="Example Registrar"'],
)
async def seize(ctx: Context, args: SeizeArgs) -> Reply:
    op = ctx.require_op()
    try:
        value = validate.indicator(args.type, args.value)
    except ValueError as exc:
        raise CommandError(f"{VALUE.metavar}: {exc}") from None
    existing = await seizures.seq_recorded(
        ctx.tx, op["id"], args.type, (value, validate.legacy_spelling(args.type, value)))
    if existing is not None:
        raise CommandError(tr("{value} is already recorded as {ref}").format(
            value=validate.shown(args.type, value), ref=label("seizures", existing)),
            show_usage=False)
    row = await records.create(ctx, "seizures", {
        "type": args.type, "value": value, "country": args.country, "provider": args.provider,
        "status": args.status or "identified", "tlp": args.tlp,
        "subject_category": args.subject,
        "value_key": await seizures.value_key(ctx.tx, args.type, value),
    })
    return await deconflict.checked(ctx, "seizures", row, ok(*_line(row)))


@dataclass(frozen=True)
class SeizeListArgs:
    type: str | None
    status: str | None
    page: int | None
    held: str | None


@command(
    "seize", "list",
    shows=CONSULT, params=[pos("type", TYPE, required=False), key("status", Choice(STATUSES)),
            key("page", argtypes.PAGE), key("held", SHOW_HELD, help=HELD_HELP)],
    summary=N_("list seized or targeted infrastructure"),
)
async def seize_list(ctx: Context, args: SeizeListArgs) -> Reply:
    op = ctx.require_op()
    rows, held = await unheld(ctx, "seizures", await seizures.listing(
        ctx.tx, op["id"], kind=args.type, status=args.status), args.held)
    reply = ReplyBuilder().heading(tr("Seized infrastructure: {n}").format(n=len(rows)))
    reply.bullets([_line(item) for item in rows], page=args.page or 1, more_hint="/seize list")
    return left_out(reply, held).build()


@dataclass(frozen=True)
class SeizeStatusArgs:
    item: int
    status: str


@command(
    "seize", "status",
    params=[pos("item", argtypes.ref("S")), pos("status", Choice(STATUSES))],
    summary=N_("update a seized item's status"),
)
async def seize_status(ctx: Context, args: SeizeStatusArgs) -> Reply:
    row = await records.get(ctx, "seizures", args.item)
    ctx.require_owner(row, label("seizures", row["seq"]))
    if row["status"] == args.status:
        raise CommandError(tr("{ref} is already {status}").format(
            ref=label("seizures", row["seq"]), status=args.status), show_usage=False)
    after = await records.change(ctx, "seizures", row, {"status": args.status})
    return ok(Bold(label("seizures", after["seq"])), f" {row['status']} → {after['status']}: ",
              validate.shown(after["type"], after["value"]))
