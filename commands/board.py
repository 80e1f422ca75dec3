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

from commands.core.context import Context
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import Bold, Code, ReplyBuilder, count, ok
from commands.core.spec import NoArgs, command
from commands.core.types import BoardDrawer, CommandError, Reply
from storage import board as board_rows

NO_TAKEDOWNS = ("No takedowns are planned yet, so there is no board to draw. Plan one with ",
                Code("/takedown add TARGET agency=CODE at=H+30m"), ".")


@command("board", summary="the action-day board as a picture (takedowns by agency, local "
         "times, status)", examples=["!board"])
async def board(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    if not await board_rows.takedown_counts(ctx.tx, op["id"]):
        return ok(*NO_TAKEDOWNS)
    if ctx.draw_board is None:
        raise CommandError("this bot cannot draw pictures (no board drawer configured)",
                           show_usage=False)
    placeholder = ReplyBuilder().line("Action-day board requested").build()
    placeholder.redo = {"board": "now"}
    placeholder.after_commit = builder(ctx.draw_board, ctx.msg.room_id, lambda: ctx.now)
    return placeholder


def builder(draw_board: BoardDrawer, room_id: str, now: Callable[[], datetime]
            ) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /board, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the picture was sent."""

    async def draw() -> Reply:
        picture = await draw_board(room_id, now())
        if picture is None:  # the last takedown was undone meanwhile
            return ok(*NO_TAKEDOWNS)
        statuses = " · ".join(f"{n} {status}" for status, n in picture.statuses.items())
        report = ReplyBuilder().line(Bold("Action-day board"), " · ",
                                     count(picture.takedowns, "takedown"), ": ", statuses)
        if not picture.hhour_set:
            report.line("H-hour is not set: takedowns planned at H have no time on the board "
                        "yet. A lead sets it with ", Code("/hhour TIME"), ".")
        return report.build(attachment=picture.attachment)

    return draw


@remakes("board")
def _board_again(services: Services, stored: dict[str, str]) -> SlowPart | None:
    if services.draw_board is None:
        return None
    return builder(services.draw_board, services.room_id, services.now)
