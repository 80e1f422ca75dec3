"""The action-day board's rows, and the boards the scheduler owes a room (plain rows).

A board the scheduler decides to post is first recorded here as owed, in the transaction
that decides it (with the sitrep it goes with); it is settled in the transaction that puts
its picture into the outbox. A crash in between leaves it owed, so the next start draws
and posts it: drawing takes a worker process a few hundred milliseconds and must not run
inside a write transaction.
"""

from __future__ import annotations

from typing import Any

from storage import rollcalls
from storage.statements import placeholders
from storage.tx import Row, Tx

FINISHED = ("done", "failed", "aborted")


async def board_rows(tx: Tx, op_id: int, levels: tuple[str, ...]) -> dict[str, Any]:
    """What the board draws at `levels` (the TLP levels at or below the board's):
    `{"agencies": [{code, tz}], "takedowns": [{seq, target, seizure_seq, seizure_shown,
    agency, status, planned_at, executed_at, updated_at}], "above": n, "rollcall":
    rollcall_state}`, takedowns at `levels` in planned order (unplanned last), `above` how
    many were left out for their level. `seizure_shown` is 1 when the takedown names no
    seized item or its item is at `levels` too (its target copies the item's value)."""
    marks = placeholders(levels)
    return {
        "agencies": await tx.all("SELECT code, tz FROM agencies WHERE op_id=? ORDER BY code",
                                 (op_id,)),
        "takedowns": await tx.all(
            f"SELECT seq, target, seizure_seq, agency, status, planned_at, executed_at, "
            f"updated_at, (seizure_seq IS NULL OR EXISTS (SELECT 1 FROM seizures s WHERE "
            f"s.op_id=t.op_id AND s.seq=t.seizure_seq AND s.tlp IN ({marks}))) AS "
            f"seizure_shown FROM takedowns t WHERE op_id=? AND tlp IN ({marks}) "
            f"ORDER BY planned_at IS NULL, planned_at, seq",
            (*levels, op_id, *levels)),
        "above": await tx.scalar(
            f"SELECT COUNT(*) FROM takedowns WHERE op_id=? AND tlp NOT IN ({marks})",
            (op_id, *levels)),
        "rollcall": await rollcalls.rollcall_state(tx, op_id),
    }


async def takedown_counts(tx: Tx, op_id: int, levels: tuple[str, ...] | None = None
                          ) -> dict[str, int]:
    """Takedowns by status ({} when none), of every level or only those at `levels`."""
    sql = "SELECT status, COUNT(*) AS n FROM takedowns WHERE op_id=?"
    args: tuple[Any, ...] = (op_id,)
    if levels is not None:
        sql += f" AND tlp IN ({placeholders(levels)})"
        args += levels
    return {r["status"]: r["n"] for r in await tx.all(sql + " GROUP BY status", args)}


async def owe(tx: Tx, op_id: int, key: str, due_at: str) -> bool:
    """Record a board as owed; False if this key was owed (or posted) before."""
    await tx.execute("INSERT OR IGNORE INTO board_posts (op_id, key, due_at) VALUES (?, ?, ?)",
                     (op_id, key, due_at))
    return bool(await tx.scalar("SELECT changes()") == 1)


async def known(tx: Tx, op_id: int, key: str) -> bool:
    return bool(await tx.scalar("SELECT 1 FROM board_posts WHERE op_id=? AND key=?",
                                (op_id, key)))


async def owed(tx: Tx) -> list[Row]:
    """Boards owed and not yet posted, with their operation's room, oldest first."""
    return await tx.all(
        "SELECT b.id, b.op_id, b.key, b.due_at, o.room_id FROM board_posts b "
        "JOIN operations o ON o.id=b.op_id WHERE b.settled_at IS NULL ORDER BY b.due_at, b.id")


async def settle(tx: Tx, board_id: int, at: str, *, skipped: bool = False) -> bool:
    """Mark an owed board posted (its picture is in the outbox) or skipped; False if
    another run settled it first, so a board is posted once."""
    await tx.execute("UPDATE board_posts SET settled_at=?, skipped=? WHERE id=? AND "
                     "settled_at IS NULL", (at, int(skipped), board_id))
    return bool(await tx.scalar("SELECT changes()") == 1)
