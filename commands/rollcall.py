"""/rollcall, /ready, /notready: the go/no-go round before H-hour.

Each agency answers once (a later answer replaces the earlier one), and whoever answers
speaks for their agency; a member without an agency is told how to get mapped.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import argtypes, records
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.reply import Bold, ReplyBuilder, fill
from commands.core.spec import Choice, NoArgs, Role, command, pos
from commands.core.types import CommandError, Reply
from storage import rollcalls
from storage.rollcalls import RollcallState


def _state_lines(reply: ReplyBuilder, state: RollcallState) -> None:
    missing = [agency["code"] for agency in state["agencies"] if agency["ready"] is None]
    nogo = [agency["code"] for agency in state["agencies"] if agency["ready"] is False]
    for agency in state["agencies"]:
        mark = {True: "✅ GO", False: "⛔ NO-GO", None: tr("… waiting")}[agency["ready"]]
        reason = f" — {agency['reason']}" if agency["reason"] else ""
        by = f" ({agency['by']})" if agency["by"] else ""
        reply.line(Bold(agency["code"]), f": {mark}{reason}{by}")
    if state["agencies"] and not missing and not nogo:
        reply.line(Bold(tr("ALL GO")))
    if nogo:
        reply.line(tr("NO-GO: {agencies}").format(agencies=", ".join(nogo)))
    if missing:
        reply.line(tr("Missing: {agencies}").format(agencies=", ".join(missing)))


@dataclass(frozen=True)
class RollcallArgs:
    action: str | None


@command("rollcall", params=[pos("action", Choice(("close",)), required=False)],
         summary=N_("show the go/no-go roll call; a lead opens and closes it"))
async def rollcall(ctx: Context, args: RollcallArgs) -> Reply:
    op = ctx.require_op()
    state = await rollcalls.rollcall_state(ctx.tx, op["id"])
    if args.action == "close":
        ctx.require_lead(tr("close the roll call"))
        call = await rollcalls.open_call(ctx.tx, op["id"]) if state["open"] else None
        if call is None:
            raise CommandError(tr("no roll call is open"), show_usage=False)
        await ctx.tx.update("rollcalls", call["id"], {"status": "closed", "closed_at": ctx.stamp})
        reply = ReplyBuilder().heading(tr("Roll call {ref} closed").format(
            ref=f"R-{call['seq']}"))
        _state_lines(reply, state)
        return reply.build()
    if state["open"]:
        reply = ReplyBuilder().heading(tr("Roll call {ref} (open)").format(
            ref=f"R-{state['seq']}"))
        _state_lines(reply, state)
        if ctx.is_lead:
            reply.line(tr("A lead closes it with /rollcall close before opening a new one."))
        return reply.build()
    if not ctx.lead_override("open a roll call"):
        raise CommandError(tr("no roll call is open; only a lead (power level {level} or "
                              "more) can open one").format(level=ctx.settings.lead_level),
                           show_usage=False)
    codes = await records.agency_codes(ctx)
    if not codes:
        raise CommandError(tr("no agencies yet: add them with /agency add"), show_usage=False)
    seq = await ctx.tx.next_seq(op["id"], "R")
    await ctx.tx.insert("rollcalls", {"op_id": op["id"], "seq": seq, "status": "open",
                                      "opened_by": ctx.sender, "opened_at": ctx.stamp})
    reply = ReplyBuilder().heading(tr("GO / NO-GO roll call {ref}: each agency answers "
                                      "!ready or !notready \"reason\"").format(ref=f"R-{seq}"))
    reply.line(tr("Waiting for: {agencies}").format(agencies=", ".join(codes)))
    return reply.build()


async def _answer(ctx: Context, ready: bool, reason: str | None) -> Reply:
    op = ctx.require_op()
    call = await rollcalls.open_call(ctx.tx, op["id"])
    if call is None:
        raise CommandError(tr("no roll call is open; a lead opens one with /rollcall"),
                           show_usage=False)
    if ctx.agency is None:
        raise CommandError(tr("you are not mapped to an agency; a lead maps you with "
                              "/member {user} agency=CODE").format(user=ctx.sender),
                           show_usage=False)
    code = ctx.agency["code"]
    existing = await rollcalls.answer_of(ctx.tx, call["id"], code)
    values = {"ready": int(ready), "reason": reason, "user_id": ctx.sender, "at": ctx.stamp}
    if existing:
        await ctx.tx.update("rollcall_answers", existing["id"], values)
    else:
        await ctx.tx.insert("rollcall_answers", {"rollcall_id": call["id"], "agency": code,
                                                 **values})
    state = await rollcalls.rollcall_state(ctx.tx, op["id"])
    reply = ReplyBuilder().line(*(fill(tr("{agency} GO"), agency=Bold(code)) if ready else
                                  fill(tr("{agency} NO-GO — {reason}"), agency=Bold(code),
                                       reason=reason or "")))
    _state_lines(reply, state)
    return reply.build()


@command("ready", summary=N_("answer GO for your agency in the open roll call"), role=Role.OFFICER)
async def ready(ctx: Context, args: NoArgs) -> Reply:
    return await _answer(ctx, True, None)


@dataclass(frozen=True)
class NotreadyArgs:
    reason: str


@command("notready",
         params=[pos("reason", argtypes.text(N_("reason"), max_len=300,
                                             metavar=N_('"reason"')))],
         summary=N_("answer NO-GO for your agency, with the reason"))
async def notready(ctx: Context, args: NotreadyArgs) -> Reply:
    return await _answer(ctx, False, args.reason)
