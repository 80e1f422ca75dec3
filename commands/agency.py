"""/agency and /member: which agencies take part, and who belongs to which.

The member→agency map decides whose time zone a bare time is read in and which
takedowns an officer may report.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import argtypes, records
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import PageArgs, Role, command, key, mention, pos
from commands.core.types import CommandError, Reply
from storage import agencies
from storage.consultations import CONSULT


@dataclass(frozen=True)
class AgencyAddArgs:
    code: str
    country: str
    tz: str
    name: str | None
    lang: str | None


@command(
    "agency", "add",
    params=[
        pos("code", argtypes.AGENCY),
        key("country", argtypes.COUNTRY, required=True),
        key("tz", argtypes.ZONE, required=True),
        pos("name", argtypes.text(N_("agency name"), max_len=120, metavar=N_('"name"')),
            required=False),
        key("lang", argtypes.LANGUAGE, help=N_("its members' language unless they choose (/lang)")),
    ],
    role=Role.LEAD,
    summary=N_("register a participating agency"),
    examples=['/agency add DE-BKA country=DE tz=Europe/Berlin "Bundeskriminalamt"',
              '/agency add CO-DIJIN country=CO tz=America/Bogota lang=es'],
)
async def agency_add(ctx: Context, args: AgencyAddArgs) -> Reply:
    op = ctx.require_op()
    if await agencies.get(ctx.tx, op["id"], args.code) is not None:
        raise CommandError(tr("agency {code} is already registered").format(code=args.code),
                           show_usage=False)
    row = await ctx.tx.insert("agencies", {
        "op_id": op["id"],
        "code": args.code,
        "country": args.country,
        "tz": args.tz,
        "name": args.name,
        **({"lang": args.lang} if args.lang else {}),  # none chosen: the default, unwritten
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
    })
    if row["name"]:
        return ok(*fill(tr("Agency {code} ({name}) · {country} · {zone}"), code=Bold(row["code"]),
                        name=row["name"], country=row["country"], zone=row["tz"]))
    return ok(*fill(tr("Agency {code} · {country} · {zone}"), code=Bold(row["code"]),
                    country=row["country"], zone=row["tz"]))


@command("agency", "list", shows=CONSULT, params=[key("page", argtypes.PAGE)],
         summary=N_("list participating agencies"))
async def agency_list(ctx: Context, args: PageArgs) -> Reply:
    op = ctx.require_op()
    rows = await agencies.with_member_counts(ctx.tx, op["id"])
    reply = ReplyBuilder().heading(tr("Agencies: {n}").format(n=len(rows)))
    reply.bullets(
        [[Bold(row["code"]), f" {row['country']} · {row['tz']}",
          f" · {row['name']}" if row["name"] else "",
          " · " + trn("{n} member", "{n} members", row["members"]).format(n=row["members"])]
         for row in rows],
        page=args.page or 1, more_hint="/agency list",
    )
    return reply.build()


@dataclass(frozen=True)
class MemberArgs:
    user: str
    agency: str


@command(
    "member",
    params=[mention("user", required=True), key("agency", argtypes.AGENCY, required=True)],
    role=Role.LEAD,
    summary=N_("map a member to an agency"),
)
async def member(ctx: Context, args: MemberArgs) -> Reply:
    op = ctx.require_op()
    await records.require_agency(ctx, args.agency)
    existing = await agencies.membership(ctx.tx, op["id"], args.user)
    if existing is None:
        await ctx.tx.insert("members", {
            "op_id": op["id"], "user_id": args.user, "agency": args.agency,
            "created_by": ctx.sender, "created_at": ctx.stamp,
        })
        return ok(args.user, " → ", Bold(args.agency))
    if existing["agency"] == args.agency:
        raise CommandError(tr("{user} is already with {agency}").format(
            user=args.user, agency=args.agency), show_usage=False)
    await ctx.tx.update("members", existing["id"], {"agency": args.agency})
    return ok(*fill(tr("{user} moved {before} → {after}"), user=args.user,
                    before=existing["agency"], after=Bold(args.agency)))
