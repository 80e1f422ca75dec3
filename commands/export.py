"""/export: the operation as a file in the room (md by default, at the operation's TLP).

The file is built after the command's transaction, from a read-only snapshot and in a
worker thread (exports.build), so a 100,000-record export does not stall other commands.
"""

from __future__ import annotations

from typing import Any

from commands import args as A
from commands.context import Context, Reply
from commands.reply import B, C, ReplyBuilder
from commands.spec import Choice, command, key, pos

FORMATS = ("md", "json", "csv", "stix", "pdf")


@command(
    "export",
    params=[pos("format", Choice(FORMATS), required=False),
            key("tlp", A.TLP, help="export only records at or below this level")],
    summary="export the operation as an encrypted file in the room",
    examples=["!export pdf tlp=GREEN", "!export stix"],
)
async def export(ctx: Context, a: dict[str, Any]) -> Reply:
    from exports.build import build_export

    op = ctx.require_op()
    fmt = a["format"] or "md"
    level = a["tlp"] or op["tlp"]
    db, room_id, now = ctx.db, ctx.msg.room_id, ctx.now
    assert db is not None

    async def build() -> Reply:
        attachment, snap = await build_export(db, room_id, fmt, level, now)
        r = ReplyBuilder().line(B(attachment.filename), f" · {snap.total} records at or below "
                                f"TLP:{snap.tlp}")
        if fmt == "json" and not snap.audit_included:
            r.line("The audit log is left out: it holds records above TLP:", snap.tlp, ".")
        return r.build(attachment=attachment)

    placeholder = ReplyBuilder().line("Export ", C(fmt), f" at TLP:{level} requested").build()
    placeholder.after_commit = build
    return placeholder
