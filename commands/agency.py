"""/agency and /member: which agencies take part, and who belongs to which.

The member→agency map decides whose time zone a bare time is read in and which
takedowns an officer may report.
"""

from __future__ import annotations

from typing import Any

from commands import args as A
from commands import records
from commands.context import CommandError, Context, Reply
from commands.reply import B, ReplyBuilder, count, ok
from commands.spec import Role, command, key, mention, pos


@command(
    "agency", "add",
    params=[
        pos("code", A.AGENCY),
        key("country", A.COUNTRY, required=True),
        key("tz", A.ZONE, required=True),
        pos("name", A.text("agency name", max_len=120, metavar='"name"'), required=False),
    ],
    role=Role.LEAD,
    summary="register a participating agency",
    examples=['/agency add DE-BKA country=DE tz=Europe/Berlin "Bundeskriminalamt"'],
)
async def agency_add(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    existing = await ctx.tx.one("SELECT * FROM agencies WHERE op_id=? AND code=?",
                                (op["id"], a["code"]))
    if existing is not None:
        raise CommandError(f"agency {a['code']} is already registered", show_usage=False)
    row = await ctx.tx.insert("agencies", {
        "op_id": op["id"],
        "code": a["code"],
        "country": a["country"],
        "tz": a["tz"],
        "name": a["name"],
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
    })
    name = f" ({row['name']})" if row["name"] else ""
    return ok("Agency ", B(row["code"]), f"{name} · {row['country']} · {row['tz']}")


@command("agency", "list", params=[key("page", A.PAGE)], summary="list participating agencies")
async def agency_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    rows = await ctx.tx.all(
        "SELECT a.*, (SELECT COUNT(*) FROM members m WHERE m.op_id=a.op_id AND m.agency=a.code)"
        " AS members FROM agencies a WHERE a.op_id=? ORDER BY a.code",
        (op["id"],),
    )
    r = ReplyBuilder().heading(f"Agencies: {len(rows)}")
    r.bullets(
        [[B(row["code"]), f" {row['country']} · {row['tz']}",
          f" · {row['name']}" if row["name"] else "",
          f" · {count(row['members'], 'member')}"]
         for row in rows],
        page=a["page"] or 1, more_hint="/agency list",
    )
    return r.build()


@command(
    "member",
    params=[mention("user", required=True), key("agency", A.AGENCY, required=True)],
    role=Role.LEAD,
    summary="map a member to an agency",
)
async def member(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    await records.require_agency(ctx, a["agency"])
    existing = await ctx.tx.one("SELECT * FROM members WHERE op_id=? AND user_id=?",
                                (op["id"], a["user"]))
    if existing is None:
        await ctx.tx.insert("members", {
            "op_id": op["id"], "user_id": a["user"], "agency": a["agency"],
            "created_by": ctx.sender, "created_at": ctx.stamp,
        })
        return ok(a["user"], " → ", B(a["agency"]))
    if existing["agency"] == a["agency"]:
        raise CommandError(f"{a['user']} is already with {a['agency']}", show_usage=False)
    await ctx.tx.update("members", existing["id"], {"agency": a["agency"]})
    return ok(a["user"], f" moved {existing['agency']} → ", B(a["agency"]))
