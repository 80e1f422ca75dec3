"""/why: the purpose a member states for what they consult in this room.

Art. 25 of the police directive wants a consultation log to show its justification. Each
member states their own; it holds for `PURPOSE_HOLDS` (one shift), then the default (the
operation's legal basis, else the operation) applies again, so a reason given for one task
is not carried silently into the next day's. Stating it writes no consultation row (it
shows no record) and is not an audited record of the operation: the purpose is itself
written into every consultation row it covers, which is chained.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import argtypes
from commands.core.consulted import PURPOSE_HOLDS, default_purpose
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import dtg
from commands.core.reply import Bold, ReplyBuilder, fill
from commands.core.spec import Where, command, rest
from commands.core.types import Reply
from storage import consultations
from storage.codec import to_db_time
from storage.operations import by_id

PURPOSE_LIMIT = 200


@dataclass(frozen=True)
class WhyArgs:
    purpose: str | None


@command(
    "why",
    params=[rest("purpose", argtypes.text(N_("purpose"), PURPOSE_LIMIT, N_('"purpose"')),
                 required=False)],
    summary=N_("state why you consult this room's records (for the consultation log), or "
               "show the purpose in force"),
    examples=['/why "identify the courier for the EIO to NL"', "/why"],
    where=Where.BOTH,
)
async def why(ctx: Context, args: WhyArgs) -> Reply:
    room = ctx.msg.room_id
    if args.purpose is None:
        stated = await consultations.purpose(ctx.tx, room, ctx.sender, ctx.stamp)
        if stated is not None:
            return ReplyBuilder().line(*fill(
                tr("Your purpose here: {purpose} (stated {when}, holds until {until})."),
                purpose=Bold(stated["purpose"]), when=dtg(stated["set_at"]),
                until=dtg(stated["until"]))).build()
        op = ctx.op if ctx.partner is None else await by_id(ctx.tx, ctx.partner["op_id"])
        return ReplyBuilder().line(*fill(
            tr("You have stated no purpose here: what you consult is logged with {purpose}. "
               "State yours with {command}."),
            purpose=Bold(await default_purpose(ctx.tx, op)), command='/why "…"')).build()
    until = ctx.now + PURPOSE_HOLDS
    await consultations.set_purpose(ctx.tx, room, ctx.sender, args.purpose, ctx.stamp,
                                    to_db_time(until))
    return ReplyBuilder().line(*fill(
        tr("What you consult here is logged with the purpose {purpose} until {until}."),
        purpose=Bold(args.purpose), until=dtg(to_db_time(until)))).build()
