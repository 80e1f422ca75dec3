"""/op: bind a room to an operation, show it, move it through its phases."""

from __future__ import annotations

from typing import Any

from commands import args as A
from commands import validate
from commands.context import CommandError, Context, Reply
from commands.records import dtg
from commands.reply import B, C, ReplyBuilder, count, ok
from commands.sitrep import produce
from commands.spec import Choice, Fn, Role, command, key, pos

PHASES = ("planning", "action", "follow-up", "closed")


def _op_name(raw: str) -> str:
    return validate.text(raw, field="operation name", max_len=120)


@command(
    "op", "init",
    params=[
        pos("name", Fn(_op_name, '"Operation NAME"')),
        key("code", A.AGENCY, required=True, help="short operation code, e.g. FIREBREAK"),
        key("tz", A.ZONE, help="the operation's time zone (IANA), default from config"),
        key("tlp", A.TLP, help="default TLP 2.0 label of its records"),
    ],
    role=Role.LEAD,
    summary="bind this room to a new operation",
    needs_op=False,
    examples=['/op init "Operation Firebreak" code=FIREBREAK tz=Europe/Paris tlp=AMBER'],
)
async def op_init(ctx: Context, a: dict[str, Any]) -> Reply:
    if ctx.op is not None:
        raise CommandError(
            f"this room is already operation {ctx.op['name']} ({ctx.op['code']}); "
            "one room = one operation", show_usage=False)
    name = a["name"]
    if not name.lower().startswith("operation "):
        name = f"Operation {name}"
    row = await ctx.tx.insert("operations", {
        "room_id": ctx.msg.room_id,
        "name": name,
        "code": a["code"],
        "tz": a["tz"] or ctx.settings.default_timezone,
        "tlp": a["tlp"] or ctx.settings.default_tlp,
        "phase": "planning",
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
        "updated_at": ctx.stamp,
    })
    return ok(B(row["name"]), f" ({row['code']}) opened in this room · phase planning · ",
              f"zone {row['tz']} · TLP:{row['tlp']}. Next: /agency add, /member, /hhour.")


@command("op", summary="show this room's operation")
async def op_show(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    counts = {}
    for table in ("agencies", "tasks", "arrests", "seizures", "takedowns", "preservations"):
        counts[table] = await ctx.tx.scalar(f"SELECT COUNT(*) FROM {table} WHERE op_id=?",
                                            (op["id"],))
    r = ReplyBuilder()
    r.line(B(op["name"]), f" ({op['code']}) · phase {op['phase']} · TLP:{op['tlp']}")
    r.line(f"Zone {op['tz']} · H-hour {dtg(op['hhour'])}")
    r.line(" · ".join([
        count(counts["agencies"], "agency", "agencies"), count(counts["tasks"], "task"),
        count(counts["arrests"], "arrest"), count(counts["seizures"], "seized item"),
        count(counts["takedowns"], "takedown"),
        count(counts["preservations"], "preservation/MLA request")]))
    return r.build()


@command(
    "op", "phase",
    params=[pos("phase", Choice(PHASES))],
    role=Role.LEAD,
    summary="change the operation's phase",
)
async def op_phase(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    if op["phase"] == a["phase"]:
        raise CommandError(f"the operation is already in phase {op['phase']}", show_usage=False)
    if op["phase"] == "closed":
        raise CommandError("the operation is closed; its record is final", show_usage=False)
    _, after = await ctx.tx.update("operations", op["id"],
                                   {"phase": a["phase"], "updated_at": ctx.stamp})
    ctx.op = after
    r = ReplyBuilder().line(f"{op['code']}: phase {op['phase']} → ", B(after["phase"]))
    if after["phase"] != "closed":
        return r.build()
    r.line("The operation is closed: ", C("/export"), " to hand over its summary.")
    head = r.build()
    final = await produce(ctx.tx, after, ctx.now, final=True)
    assert final is not None
    return Reply(ok=True, text=f"{head.text}\n\n{final.text}",
                 html=f"{head.html}<br><br>{final.html}", extra_content=final.extra_content)
