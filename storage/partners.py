"""Partner rooms: which room is fed from which operation, what each partner was assigned,
and what partners reported.

What a partner may see is decided here in one query per kind (`assigned`): a record is
theirs only while it is assigned to their live link and at or below the link's TLP (the
levels are handed in, as everywhere in storage), so every reader (the room's posts, the
partner sitrep, the partner's export) shows the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from storage.statements import placeholders
from storage.tx import Row, Tx

KINDS = ("seizures", "takedowns")


async def live_for_room(tx: Tx, room_id: str) -> Row | None:
    """The live link that makes `room_id` a partner room, if any."""
    return await tx.one("SELECT * FROM partner_links WHERE room_id=? AND active=1", (room_id,))


async def live_of_op(tx: Tx, op_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM partner_links WHERE op_id=? AND active=1 ORDER BY id",
                        (op_id,))


async def live_named(tx: Tx, op_id: int, name: str) -> Row | None:
    return await tx.one("SELECT * FROM partner_links WHERE op_id=? AND active=1 AND "
                        "name=? COLLATE NOCASE", (op_id, name))


async def assignment(tx: Tx, link_id: int, table: str, row_id: int) -> Row | None:
    return await tx.one("SELECT * FROM partner_assignments WHERE link_id=? AND tbl=? AND "
                        "row_id=?", (link_id, table, row_id))


async def assigned(tx: Tx, link: Row, table: str, levels: tuple[str, ...]) -> list[Row]:
    """The records of `table` the partner of `link` may see: assigned to this live link and
    at one of `levels`, those of the link's TLP (a record raised above it after it was
    assigned drops out). A takedown also carries `seizure_shown` (see `_assigned_query`)."""
    sql, args = _assigned_query(link["id"], table, levels)
    return await tx.all(sql, args)


def latest_for_room_sync(conn: sqlite3.Connection, room_id: str) -> Row | None:
    """For the export worker, on its read-only connection: the room's newest link, live
    (`active`) or not, so an export asked before an unlink can say why it is not made."""
    row: Row | None = conn.execute("SELECT * FROM partner_links WHERE room_id=? "
                                   "ORDER BY active DESC, id DESC LIMIT 1", (room_id,)).fetchone()
    return row


def assigned_sync(conn: sqlite3.Connection, link_id: int, table: str, levels: tuple[str, ...],
                  *, seq: int | None = None) -> Iterator[Row]:
    """`assigned` for the export worker, streamed from its read transaction: the same query,
    so the partner's file holds what their room is shown. `seq` picks one record."""
    sql, args = _assigned_query(link_id, table, levels, seq=seq)
    yield from conn.execute(sql, args)


def _assigned_query(link_id: int, table: str, levels: tuple[str, ...], *,
                    seq: int | None = None) -> tuple[str, tuple[Any, ...]]:
    """THE gate of what a partner sees, shared by the room's posts and the partner's export.
    A record counts only if it is of the link's operation too (a row id an undone record
    left could be another's). A takedown's `seizure_shown` is 1 when it names no seized
    item or its item is the partner's as well: its `target` copies that item's value, which
    is not theirs to read otherwise (another partner's, or above their TLP)."""
    if table not in KINDS:
        raise ValueError(f"partners are never assigned {table}")
    marks = placeholders(levels)
    shown = ""
    shown_args: tuple[str, ...] = ()
    if table == "takedowns":
        shown = (f", (r.seizure_seq IS NULL OR EXISTS (SELECT 1 FROM partner_assignments sa "
                 f"JOIN seizures s ON s.id = sa.row_id WHERE sa.link_id = a.link_id "
                 f"AND sa.tbl = 'seizures' AND s.op_id = r.op_id AND s.seq = r.seizure_seq "
                 f"AND s.tlp IN ({marks}))) AS seizure_shown")
        shown_args = levels
    sql = (f"SELECT r.*{shown} FROM partner_assignments a JOIN {table} r ON r.id = a.row_id "
           f"JOIN partner_links l ON l.id = a.link_id WHERE a.link_id=? AND a.tbl=? "
           f"AND l.active=1 AND r.op_id = l.op_id AND r.tlp IN ({marks})")
    args: tuple[Any, ...] = (*shown_args, link_id, table, *levels)
    if seq is not None:
        sql += " AND r.seq=?"
        args += (seq,)
    return sql + " ORDER BY r.seq", args
