"""/seize: infrastructure identified, requested, seized, sinkholed…

Indicators are stored refanged (so exports and STIX carry real values) and shown defanged
in chat, so nobody taps a live criminal URL on their phone. Domains (also a URL's or a
server's host) are stored as IDNA A-labels, so `аррӏе.com` is never taken for, nor
recorded as a duplicate of, `apple.com`; chat shows the Unicode form beside it, flagged.
"""

from __future__ import annotations

from typing import Any

from commands import args as A
from commands import deconflict, records, validate
from commands.context import CommandError, Context, Reply
from commands.records import label
from commands.reply import B, ReplyBuilder, ok
from commands.spec import Choice, Fn, command, key, pos

STATUSES = ("identified", "requested", "seized", "sinkholed", "offline", "released")
TYPE = Choice(validate.SEIZURE_TYPES)


def _line(row: dict) -> list[Any]:
    where = f" · {row['country']}" if row["country"] else ""
    provider = f" · {row['provider']}" if row["provider"] else ""
    return [B(label("seizures", row["seq"])), f" {row['type']} ",
            validate.shown(row["type"], row["value"]), f" [{row['status']}]{where}{provider}"]


@command(
    "seize",
    params=[
        pos("type", TYPE),
        pos("value", Fn(str, "VALUE")),
        key("country", A.COUNTRY),
        key("provider", A.text("provider", max_len=120)),
        key("status", Choice(STATUSES)),
        key("tlp", A.TLP),
    ],
    summary="record seized or targeted infrastructure",
    examples=['!seize domain evil[.]example country=NL provider="Example Registrar"'],
)
async def seize(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    try:
        value = validate.indicator(a["type"], a["value"])
    except ValueError as exc:
        raise CommandError(f"VALUE: {exc}") from None
    existing = await ctx.tx.one(
        "SELECT seq FROM seizures WHERE op_id=? AND type=? AND value IN (?, ?)",
        (op["id"], a["type"], value, validate.legacy_spelling(a["type"], value)))
    if existing:
        raise CommandError(f"{validate.shown(a['type'], value)} is already recorded as "
                           f"{label('seizures', existing['seq'])}", show_usage=False)
    row = await records.create(ctx, "seizures", {
        "type": a["type"], "value": value, "country": a["country"], "provider": a["provider"],
        "status": a["status"] or "identified", "tlp": a["tlp"],
    })
    return await deconflict.checked(ctx, "seizures", row, ok(*_line(row)))


@command(
    "seize", "list",
    params=[pos("type", TYPE, required=False), key("status", Choice(STATUSES)),
            key("page", A.PAGE)],
    summary="list seized or targeted infrastructure",
)
async def seize_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    where, params = ["op_id=?"], [op["id"]]
    if a["type"]:
        where.append("type=?")
        params.append(a["type"])
    if a["status"]:
        where.append("status=?")
        params.append(a["status"])
    rows = await ctx.tx.all(f"SELECT * FROM seizures WHERE {' AND '.join(where)} ORDER BY seq",
                            params)
    r = ReplyBuilder().heading(f"Seized infrastructure: {len(rows)}")
    r.bullets([_line(x) for x in rows], page=a["page"] or 1, more_hint="/seize list")
    return r.build()


@command(
    "seize", "status",
    params=[pos("item", A.ref("S")), pos("status", Choice(STATUSES))],
    summary="update a seized item's status",
)
async def seize_status(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await records.get(ctx, "seizures", a["item"])
    ctx.require_owner(row, label("seizures", row["seq"]))
    if row["status"] == a["status"]:
        raise CommandError(f"{label('seizures', row['seq'])} is already {a['status']}",
                           show_usage=False)
    after = await records.change(ctx, "seizures", row, {"status": a["status"]})
    return ok(B(label("seizures", after["seq"])), f" {row['status']} → {after['status']}: ",
              validate.shown(after["type"], after["value"]))
