"""/audit verify: check this room's hash-chained audit log from inside the room."""

from __future__ import annotations

from typing import Any

from commands.context import Context, Reply
from commands.reply import ReplyBuilder
from commands.spec import command
from storage import audit


@command("audit", "verify", summary="check the operation's tamper-evident log", needs_op=False)
async def audit_verify(ctx: Context, a: dict[str, Any]) -> Reply:
    result = await audit.verify_room(ctx.tx, ctx.msg.room_id)
    head = await ctx.tx.one("SELECT hash FROM audit_heads WHERE room_id=?", (ctx.msg.room_id,))
    r = ReplyBuilder()
    if result.ok:
        tip = f" · head {head['hash'][:16]}" if head else ""
        r.line(f"✅ audit log intact: {result.entries} entries{tip}")
        return r.build()
    r.heading(f"❌ audit log FAILED verification ({result.entries} entries)")
    r.bullets([[p] for p in result.problems])
    r.line("Tell the operation lead and the bot administrator; keep the database file as is.")
    return r.build(ok=False)
