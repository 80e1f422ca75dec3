"""When the action-day board posts itself; bot/scheduler.py runs this, nothing here
knows of Matrix.

- At H − `before_h` (config `[board] before_h`, default 15m), once per H-hour: moving
  H-hour makes a new one, like the T-minus reminders. Posted late after downtime only while
  H-hour is still ahead, also like them.
- After each scheduled sitrep during the action phase (`[board] with_sitreps`). The action
  phase runs from H − before_h (H when before_h is off) until H+24h, and ends earlier once
  no takedown is planned or under way (each is done, failed or aborted), or when the
  operation moves to follow-up or is closed. No H-hour, no action phase. A board owed for
  a sitrep is posted late after downtime while that window lasts; of several owed in one
  operation only the newest is drawn (each shows the board as it is now).
- A board is never drawn without takedowns (skipped, like /board answers in words).

A board is first recorded as owed (storage.board), in the transaction that decides it; it
is drawn outside any transaction and settled in the one that puts it into the outbox, so
a crash at any point neither loses it nor posts it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import board, operations
from storage.codec import from_db_time, to_db_time
from storage.outbox import Post, PostImage, add_post
from storage.tx import Row, Tx

ACTION_AFTER_H = timedelta(hours=24)
OPEN = ("planned", "go")
OVER = ("follow-up", "closed")


@dataclass(frozen=True)
class BoardSchedule:
    before_h: timedelta | None = timedelta(minutes=15)  # None: no board before H
    with_sitreps: bool = True


def _window(op: Row, policy: BoardSchedule) -> tuple[datetime, datetime] | None:
    hhour = from_db_time(op["hhour"])
    if hhour is None or op["phase"] in OVER:
        return None
    return hhour - (policy.before_h or timedelta(0)), hhour + ACTION_AFTER_H


async def action_phase(tx: Tx, op: Row, now: datetime, policy: BoardSchedule) -> bool:
    """Whether `now` is in the operation's action phase (see the module's docstring)."""
    window = _window(op, policy)
    if window is None or not window[0] <= now <= window[1]:
        return False
    counts = await board.takedown_counts(tx, op["id"])
    return any(counts.get(status) for status in OPEN)


async def owe_with_sitrep(tx: Tx, op: Row, sitrep_number: int, now: datetime,
                          policy: BoardSchedule) -> None:
    """In the transaction that records a scheduled sitrep: its board, when one is due."""
    if policy.with_sitreps and await action_phase(tx, op, now, policy):
        await board.owe(tx, op["id"], f"sitrep:{sitrep_number}", to_db_time(now))


def _before_h_key(op: Row) -> str:
    return f"before-h:{op['hhour']}"


async def due(tx: Tx, now: datetime, policy: BoardSchedule) -> list[Row]:
    """Record the H − before_h boards whose time has come, settle as skipped the owed
    boards no longer wanted, and return those to draw now (`id`, `room_id`, `key`)."""
    ops = {op["id"]: op for op in await operations.open_ones(tx, with_hhour=True)}
    if policy.before_h is not None:
        for op in ops.values():
            hhour = from_db_time(op["hhour"])
            assert hhour is not None
            moment = hhour - policy.before_h
            if moment <= now < hhour:
                await board.owe(tx, op["id"], _before_h_key(op), to_db_time(moment))
    newest: dict[int, Row] = {}
    stamp = to_db_time(now)
    for item in await board.owed(tx):  # oldest first
        if item["op_id"] in newest:
            await board.settle(tx, newest[item["op_id"]]["id"], stamp, skipped=True)
        newest[item["op_id"]] = item
    todo = []
    for item in newest.values():
        if _wanted(item, ops.get(item["op_id"]), now, policy):
            todo.append(item)
        else:
            await board.settle(tx, item["id"], stamp, skipped=True)
    return todo


def _wanted(item: Row, op: Row | None, now: datetime, policy: BoardSchedule) -> bool:
    if op is None:  # closed, or H-hour cleared
        return False
    if item["key"].startswith("before-h:"):
        hhour = from_db_time(op["hhour"])
        return item["key"] == _before_h_key(op) and hhour is not None and now < hhour
    window = _window(op, policy)
    return window is not None and now <= window[1]


async def posted(tx: Tx, item: Row, image: PostImage | None, now: datetime) -> Post | None:
    """Settle an owed board: into the outbox with its picture, or skipped without one (no
    takedowns). None when another run settled it first or there is nothing to send."""
    if not await board.settle(tx, item["id"], to_db_time(now), skipped=image is None):
        return None
    if image is None:
        return None
    content = {"msgtype": "m.image", "body": image.filename}
    return await add_post(tx, item["room_id"], content, now, image)
