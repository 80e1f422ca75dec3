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
- A TLP level: the operation's unless `tlp=` asks for another, resolved when the command
  is handled and kept in the stored `redo`, so a board re-made after a restart is drawn
  at the level its request named. Nothing above the level is drawn (exports/board.py);
  the reply counts the takedowns left out, so nobody takes the picture for all of them.
  Any member may ask for any level, as for /export: the room's members see every record
  in chat already; the level is about where the picture may go.
- Takedowns exist, but none at or below the level: answered in words, naming the level
  and how many are above it, not an empty picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from commands.core import argtypes, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import Bold, Code, ReplyBuilder, fill, ok
from commands.core.spec import command, key
from commands.core.types import BoardDrawer, CommandError, Reply
from storage import board as board_rows
from storage.consultations import CONSULT

NO_TAKEDOWNS = N_("No takedowns are planned yet, so there is no board to draw. Plan one with "
                  "{command}.")


def _no_takedowns() -> Reply:
    return ok(*fill(tr(NO_TAKEDOWNS), command=Code("/takedown add TARGET agency=CODE at=H+30m")))


@dataclass(frozen=True)
class BoardArgs:
    tlp: str | None


@command("board", shows=CONSULT, params=[key("tlp", argtypes.TLP,
                               help=N_("draw only what is at or below this level"))],
         summary=N_("the action-day board as a picture (takedowns by agency, local "
                    "times, status)"), examples=["!board", "!board tlp=GREEN"])
async def board(ctx: Context, args: BoardArgs) -> Reply:
    op = ctx.require_op()
    level = args.tlp or op["tlp"]
    every = sum((await board_rows.takedown_counts(ctx.tx, op["id"])).values())
    if not every:
        return _no_takedowns()
    if not await board_rows.takedown_counts(ctx.tx, op["id"], validate.levels_up_to(level)):
        return ok(tr("No takedown is at or below TLP:{level}, so there is no board to draw at "
                     "that level ({takedowns} above it).").format(level=level,
                                                                  takedowns=takedowns(every)))
    if ctx.draw_board is None:
        raise CommandError(tr("this bot cannot draw pictures (no board drawer configured)"),
                           show_usage=False)
    placeholder = ReplyBuilder().line(
        tr("Action-day board at TLP:{level} requested").format(level=level)).build()
    placeholder.redo = {"board": "now", "tlp": level}
    placeholder.after_commit = builder(ctx.draw_board, ctx.msg.room_id, level,
                                       lambda: ctx.now)
    return placeholder


def builder(draw_board: BoardDrawer, room_id: str, level: str | None,
            now: Callable[[], datetime]) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /board, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the picture was sent. `level` None (a
    request stored before boards had one) draws at the operation's level."""

    async def draw() -> Reply:
        picture = await draw_board(room_id, now(), level)
        if picture is None:  # the last takedown at the level was undone meanwhile
            return _no_takedowns()
        statuses = " · ".join(f"{n} {status}" for status, n in picture.statuses.items())
        report = ReplyBuilder().line(*fill(
            tr("{board} · TLP:{level} · {takedowns}: {statuses}"),
            board=Bold(tr("Action-day board")), level=picture.tlp,
            takedowns=takedowns(picture.takedowns), statuses=statuses))
        if picture.above:
            report.line(tr("{takedowns} above TLP:{level} not drawn.").format(
                takedowns=takedowns(picture.above), level=picture.tlp))
        if not picture.hhour_set:
            report.line(*fill(tr("H-hour is not set: takedowns planned at H have no time on the "
                                 "board yet. A lead sets it with {command}."),
                              command=Code("/hhour TIME")))
        drawn = report.build(attachment=picture.attachment)
        drawn.shown = picture.takedowns
        return drawn

    return draw


@remakes("board")
def _board_again(services: Services, stored: dict[str, str]) -> SlowPart | None:
    if services.draw_board is None:
        return None
    return builder(services.draw_board, services.room_id, stored.get("tlp"), services.now)


def takedowns(n: int) -> str:
    return trn("{n} takedown", "{n} takedowns", n).format(n=n)
