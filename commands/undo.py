"""/undo: revert the sender's own last change in this room, from the audit before-images.

The undo is itself audited (its entries carry `undoes` = the reverted event id), so the
log still tells the whole story. A change that someone else has since built on (the row
no longer matches what the change left) is refused rather than silently overwritten.
"""

from __future__ import annotations

import json
from typing import Any

from commands.context import CommandError, Context, Reply
from commands.records import PREFIX, label
from commands.reply import B, C, ReplyBuilder
from commands.spec import command
from storage.audit import canonical

NO_UNDO_TABLES = {"operations"}


async def _last_change(ctx: Context) -> str | None:
    return await ctx.tx.scalar(
        "SELECT event_id FROM audit_log WHERE room_id=? AND sender=? AND undoes IS NULL "
        "AND event_id NOT IN (SELECT undoes FROM audit_log WHERE room_id=? AND undoes IS NOT NULL)"
        " ORDER BY n DESC LIMIT 1",
        (ctx.msg.room_id, ctx.sender, ctx.msg.room_id),
    )


def _describe(entry: dict[str, Any], row: dict[str, Any]) -> str:
    table = entry["tbl"]
    if table in PREFIX and "seq" in row:
        name = label(table, row["seq"])
    else:
        name = f"{table.rstrip('s')} {row.get('code') or row.get('user_id') or row['id']}"
    return {"insert": f"{name} removed", "update": f"{name} restored",
            "delete": f"{name} re-created"}[entry["action"]]


@command("undo", summary="revert your own last change in this room")
async def undo(ctx: Context, a: dict[str, Any]) -> Reply:
    event_id = await _last_change(ctx)
    if event_id is None:
        raise CommandError("you have no change in this room to undo", show_usage=False)
    entries = await ctx.tx.all(
        "SELECT * FROM audit_log WHERE room_id=? AND event_id=? ORDER BY n DESC",
        (ctx.msg.room_id, event_id),
    )
    if any(e["tbl"] in NO_UNDO_TABLES and e["action"] == "insert" for e in entries):
        raise CommandError("creating the operation cannot be undone; a lead can close it with "
                           "/op phase closed", show_usage=False)
    done: list[str] = []
    for entry in entries:
        table, row_id = entry["tbl"], entry["row_id"]
        current = await ctx.tx.get(table, row_id)
        expected = entry["after"]
        if (current is None) != (expected is None) or (
            current is not None and canonical(current) != expected
        ):
            raise CommandError(
                f"your last change ({entry['command'][:60]}) was changed again since; "
                "undo refused so nobody's later update is lost", show_usage=False)
        before = json.loads(entry["before"]) if entry["before"] else None
        if entry["action"] == "insert":
            assert current is not None
            await ctx.tx.delete(table, row_id, undoes=event_id)
            done.append(_describe(entry, current))
        elif entry["action"] == "update":
            assert before is not None
            changes = {k: v for k, v in before.items() if k != "id"}
            await ctx.tx.update(table, row_id, changes, undoes=event_id)
            done.append(_describe(entry, before))
        else:
            assert before is not None
            await ctx.tx.insert(table, before, undoes=event_id)
            done.append(_describe(entry, before))
    command_text = entries[0]["command"]
    r = ReplyBuilder().line("Undone: ", C(command_text[:120]))
    r.line(B("; ".join(done)))
    reply = r.build()
    # An undone /trust puts the identity back to "changed": the runtime must act on it.
    reply.trust_changed = tuple(json.loads(e["after"])["user_id"] for e in entries
                                if e["tbl"] == "identities" and e["after"])
    return reply
