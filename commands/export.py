"""/export: the operation as a file in the room (md by default, at the operation's TLP).

The file is built after the command's transaction, from a read-only snapshot and in a
worker process (exports.build), so a 100,000-record export does not stall other commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from commands import args as A
from commands.context import Context, Reply
from commands.reply import B, C, ReplyBuilder
from commands.spec import Choice, command, key, pos
from storage.database import Database

FORMATS = ("md", "json", "csv", "stix", "misp", "pdf")


@command(
    "export",
    params=[pos("format", Choice(FORMATS), required=False),
            key("tlp", A.TLP, help="export only records at or below this level")],
    summary="export the operation as an encrypted file in the room",
    examples=["!export pdf tlp=GREEN", "!export stix", "!export misp tlp=AMBER"],
)
async def export(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    fmt = a["format"] or "md"
    level = a["tlp"] or op["tlp"]
    assert ctx.db is not None
    placeholder = ReplyBuilder().line("Export ", C(fmt), f" at TLP:{level} requested").build()
    placeholder.redo = {"export": fmt, "tlp": level}
    placeholder.after_commit = builder(ctx.db, ctx.msg.room_id, fmt, level, lambda: ctx.now)
    return placeholder


def builder(db: Database, room_id: str, fmt: str, level: str,
            now: Callable[[], datetime]) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /export, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the file was sent."""

    async def build() -> Reply:
        from exports.build import build_export

        attachment, snap = await build_export(db, room_id, fmt, level, now())
        r = ReplyBuilder().line(B(attachment.filename), f" · {snap.total} records at or below "
                                f"TLP:{snap.tlp}")
        if snap.audit_withheld:
            r.line(f"{snap.audit_withheld} audit entries are left out: they hold records "
                   f"above TLP:{snap.tlp}.")
        return r.build(attachment=attachment)

    return build
