"""The action-day board as a picture: its rows read from storage in the bot's process,
drawn by exports.charts in the export worker pool.

Drawing is CPU work that holds Python's GIL for a few hundred milliseconds (500
takedowns), which in a thread would stall every room's commands; the worker processes
exist for exactly that (exports.pool). Only plain values cross to the worker.

The board is drawn at one TLP level, the operation's unless asked (`/board tlp=RED`), and
carries it in its title and file name: a picture is forwarded and printed without the
room around it, so what it says it is must be all it holds. Nothing above the level is
drawn: takedowns above it are left out (counted, so the reply can say so), and a takedown
whose seized item is above it shows "S-n (withheld)", as in an export, since its target
copies the item's value. Agencies and zones go at every level, as in an export; a
roll-call NO-GO reason is free text at the operation's level, so a board below that
level shows the answer without it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands import Attachment, BoardDrawer, DrawnBoard, i18n, speaking, tr, validate
from exports import chart_input, pool
from exports.snapshot import WITHHELD_TARGET, allowed_levels
from storage import board as board_rows
from storage import operations
from storage.codec import from_db_time, to_db_time
from storage.database import Database
from storage.outbox import PostImage
from storage.tx import Tx


@dataclass(frozen=True)
class BoardPicture:
    filename: str
    full: chart_input.Png
    thumbnail: chart_input.Png
    statuses: dict[str, int]  # takedowns per status, those present
    hhour_set: bool
    tlp: str  # the level it is drawn at
    above: int  # takedowns left out for being above it

    def attachment(self) -> Attachment:
        """For a reply: sent as m.image with its thumbnail."""
        return image_attachment(self.post_image())

    def post_image(self) -> PostImage:
        """For a scheduled post: kept in the outbox until sent."""
        return PostImage(self.filename, self.full.data, self.full.width, self.full.height,
                         self.thumbnail.data, self.thumbnail.width, self.thumbnail.height)


def image_attachment(image: PostImage) -> Attachment:
    """A picture as the attachment uploaded for it (m.image with its thumbnail): for a
    board sent as a reply, and for one kept with an outbox post."""
    thumbnail = Attachment(f"thumbnail-{image.filename}", image.mimetype, data=image.thumbnail,
                           width=image.thumbnail_width, height=image.thumbnail_height)
    return Attachment(image.filename, image.mimetype, data=image.data, width=image.width,
                      height=image.height, thumbnail=thumbnail)


def rollcall_line(state: dict[str, Any]) -> str:
    """The go/no-go state in one line, as the sitrep words it (the same catalogue strings
    as commands/sitrep_render.py, so both read alike in every language)."""
    label = tr("Go/no-go:")
    if state["seq"] is None:
        return tr("{label} no roll call yet").format(label=label)
    go = [a["code"] for a in state["agencies"] if a["ready"] is True]
    nogo = [a["code"] for a in state["agencies"] if a["ready"] is False]
    waiting = [a["code"] for a in state["agencies"] if a["ready"] is None]
    seq, open_ = state["seq"], "open" if state["open"] else "closed"  # keywords, as typed
    if not nogo and not waiting:
        return f"{label} R-{seq} ({open_}) ALL GO"
    return label + " " + tr("R-{seq} ({state}) GO {go} · NO-GO {nogo} · waiting {waiting}"
                            ).format(seq=seq, state=open_, go=len(go),
                                     nogo=", ".join(nogo) or 0, waiting=", ".join(waiting) or 0)


def _answer(agency: dict[str, Any] | None, with_reason: bool) -> str:
    if agency is None:
        return ""
    if agency["ready"] is True:
        return "GO"
    if agency["ready"] is False:
        return f"NO-GO ({agency['reason']})" if agency["reason"] and with_reason else "NO-GO"
    return tr("waiting")


def takedown(row: dict[str, Any]) -> chart_input.Takedown:
    """A takedown row as the charts draw it. The actual time is the execution for a done
    takedown, the report (its last change) for go, failed and aborted."""
    status = row["status"]
    actual = (row["executed_at"] if status == "done" else
              row["updated_at"] if status != "planned" else None)
    target = (row["target"] if row.get("seizure_shown", 1) else
              f"S-{row['seizure_seq']}{WITHHELD_TARGET}")
    return chart_input.Takedown(ref=f"K-{row['seq']}", target=target, agency=row["agency"],
                           status=status, planned=from_db_time(row["planned_at"]),
                           actual=from_db_time(actual))


def to_board(op: dict[str, Any], rows: dict[str, Any], now: datetime, tlp: str
             ) -> chart_input.Board:
    """Storage rows read at `tlp` (storage.board.board_rows) → the chart's plain input."""
    state = rows["rollcall"]
    answers = {a["code"]: a for a in state["agencies"]} if state["seq"] is not None else {}
    reasons = validate.tlp_rank(tlp) >= validate.tlp_rank(op["tlp"])
    takedowns = [takedown(t) for t in rows["takedowns"]]
    return chart_input.Board(
        title=f"{op['name']} ({op['code']}) · TLP:{tlp}",
        now=now,
        hhour=from_db_time(op["hhour"]),
        agencies=[chart_input.Agency(a["code"], a["tz"],
                                     _answer(answers.get(a["code"]), reasons))
                  for a in rows["agencies"]],
        takedowns=takedowns,
        rollcall=rollcall_line(state),
        tlp=tlp,
        above=rows["above"],
    )


def filename(code: str, now: datetime, tlp: str) -> str:
    """Like an export's, with the level: the file is named for what it may hold."""
    stamp = to_db_time(now)[:16].replace("-", "").replace(":", "")
    return f"{code}-board-{stamp}Z-TLP-{tlp}.png"


def draw(board: chart_input.Board, language: str | None = None
         ) -> tuple[chart_input.Png, chart_input.Png]:
    """In a worker process: the board and its thumbnail (matplotlib is imported there), its
    words in `language` (the caller's: a context variable does not cross into the worker)."""
    from exports import charts as drawing

    with speaking(language):
        full = drawing.board(board)
    return full, drawing.thumbnail(full)


async def read_board(db: Database, room_id: str, now: datetime, tlp: str | None = None
                     ) -> tuple[str, chart_input.Board] | None:
    """The operation's code and its board at `tlp` (the operation's level when None), as
    it will be drawn; None when the room has no operation."""

    async def read(tx: Tx) -> tuple[str, chart_input.Board] | None:
        op = await operations.for_room(tx, room_id)
        if op is None:
            return None
        level = tlp or op["tlp"]
        rows = await board_rows.board_rows(tx, op["id"], allowed_levels(level))
        return op["code"], to_board(op, rows, now, level)

    return await db.read(read)


async def make_board(db: Database, room_id: str, now: datetime, tlp: str | None = None
                     ) -> BoardPicture | None:
    """The room's board now at `tlp` (the operation's level when None: the scheduled
    posts); None when the room has no operation or no takedown at or below that level."""
    found = await read_board(db, room_id, now, tlp)
    if found is None or not found[1].takedowns:
        return None
    code, data = found
    loop = asyncio.get_running_loop()
    full, thumb = await loop.run_in_executor(pool.executor(), draw, data, i18n.current())
    return BoardPicture(filename(code, now, data.tlp), full, thumb,
                        chart_input.status_counts(data.takedowns), data.hhour is not None,
                        data.tlp, data.above)


def drawer(db: Database) -> BoardDrawer:
    """The /board drawer the runtime gives the dispatcher."""

    async def draw_board(room_id: str, at: datetime, tlp: str | None) -> DrawnBoard | None:
        picture = await make_board(db, room_id, at, tlp)
        if picture is None:
            return None
        return DrawnBoard(picture.attachment(), picture.statuses, picture.hhour_set,
                          picture.tlp, picture.above)

    return draw_board
