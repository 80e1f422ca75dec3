"""/board: the action-day board as a picture in the room (exports/board.py draws it).

Like /export, the picture is made after the command's transaction, in the slow-work
queue and a worker process: a 500-takedown board takes a few hundred milliseconds of CPU,
which must hold up neither the writer nor other rooms' commands. The reply is stored with
a `redo`, so a board the bot could not send before a restart is drawn again then.

Decisions:
- No takedowns: a text answer saying how to plan one, no picture (an empty board shows
  nothing a sentence does not).
- No H-hour: the board is drawn all the same, from the times that are known; takedowns
  planned at H (no time yet) are listed without a mark, and the reply says how to set H.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from commands.context import Context, Reply
from commands.reply import B, C, ReplyBuilder, count, ok
from commands.spec import command
from exports.board import make_board
from storage import board as board_rows
from storage.database import Database

NO_TAKEDOWNS = ("No takedowns are planned yet, so there is no board to draw. Plan one with ",
                C("/takedown add TARGET agency=CODE at=H+30m"), ".")


@command("board", summary="the action-day board as a picture (takedowns by agency, local "
         "times, status)", examples=["!board"])
async def board(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    if not await board_rows.takedown_counts(ctx.tx, op["id"]):
        return ok(*NO_TAKEDOWNS)
    assert ctx.db is not None
    placeholder = ReplyBuilder().line("Action-day board requested").build()
    placeholder.redo = {"board": "now"}
    placeholder.after_commit = builder(ctx.db, ctx.msg.room_id, lambda: ctx.now)
    return placeholder


def builder(db: Database, room_id: str, now: Callable[[], datetime]
            ) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /board, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the picture was sent."""

    async def draw() -> Reply:
        picture = await make_board(db, room_id, now())
        if picture is None:  # the last takedown was undone meanwhile
            return ok(*NO_TAKEDOWNS)
        r = ReplyBuilder().line(B("Action-day board"), " · ", count(picture.takedowns,
                                                                    "takedown"), ": ",
                                " · ".join(f"{n} {s}" for s, n in picture.statuses.items()))
        if not picture.hhour_set:
            r.line("H-hour is not set: takedowns planned at H have no time on the board yet. "
                   "A lead sets it with ", C("/hhour TIME"), ".")
        return r.build(attachment=picture.attachment())

    return draw
