"""The reads an export is built from: the operation, its small lists, and its records and
audit entries streamed through cursors, each restricted to the TLP levels it is given.

Unlike the other store modules these are synchronous, on a plain sqlite3 connection: an
export runs in a worker process (exports/build.py) that writes rows as a cursor yields
them, so 100,000 records are never in memory at once. Which levels travel, and what
shows in place of a string above them, is decided in exports/snapshot.py, the one TLP
filter; the queries here only apply the levels they are handed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any, Literal

from storage.personal import BLIND_INDEXES, PERSONAL, default_category
from storage.statements import placeholders
from storage.tx import Row

# The numbered record kinds an export carries, each a table with `op_id`, `seq` and `tlp`.
RECORD_KINDS = ("tasks", "arrests", "seizures", "takedowns", "assets", "tallies",
                "preservations")
# How records may be ordered, by name: by number; takedowns as the action day went
# (executed by when, then the planned ones by plan); takedowns by plan (at an unset H last).
Order = Literal["number", "execution", "plan"]
ORDERS: dict[Order, str] = {
    "number": "seq",
    "execution": "COALESCE(executed_at, planned_at, '~'), seq",
    "plan": "planned_at IS NULL, planned_at, seq",
}


def operation(conn: sqlite3.Connection, room_id: str) -> Row | None:
    row: Row | None = conn.execute("SELECT * FROM operations WHERE room_id=?",
                                   (room_id,)).fetchone()
    return row


def operation_by_id(conn: sqlite3.Connection, op_id: int) -> Row | None:
    row: Row | None = conn.execute("SELECT * FROM operations WHERE id=?", (op_id,)).fetchone()
    return row


def agencies(conn: sqlite3.Connection, op_id: int) -> list[Row]:
    return conn.execute("SELECT code, country, tz, name FROM agencies WHERE op_id=? "
                        "ORDER BY code", (op_id,)).fetchall()


def members(conn: sqlite3.Connection, op_id: int) -> list[Row]:
    return conn.execute("SELECT user_id, agency FROM members WHERE op_id=? ORDER BY user_id",
                        (op_id,)).fetchall()


def rollcalls(conn: sqlite3.Connection, op_id: int) -> list[Row]:
    return conn.execute("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq",
                        (op_id,)).fetchall()


def columns(conn: sqlite3.Connection, kind: str) -> list[str]:
    """The record table's columns, in table order."""
    return [column["name"] for column in conn.execute(f"PRAGMA table_info({_kind(kind)})")
            if column["name"] not in BLIND_INDEXES and column["name"] != "subject_key"]


def held_clause(conn: sqlite3.Connection, kind: str, op_id: int) -> tuple[str, tuple[Any, ...]]:
    """The SQL condition (and its arguments) a record of `kind` meets while under an active
    legal hold (storage.retention), or ("", ()) when none of them can be: a condition rather
    than a list of ids, so a hold on a whole operation of 100,000 records costs nothing."""
    if kind not in PERSONAL:
        return "", ()
    parts: list[str] = []
    args: list[Any] = []
    for hold in conn.execute("SELECT category, records FROM holds WHERE op_id=? AND "
                             "released_at IS NULL", (op_id,)):
        if hold["records"]:
            ids = [int(i) for t, i, _seq in json.loads(hold["records"]) if t == kind]
            if ids:
                parts.append(f"id IN ({placeholders(ids)})")
                args += ids
        elif hold["category"]:
            parts.append("COALESCE(subject_category, ?) = ?")
            args += [default_category(kind), hold["category"]]
        else:
            return "1", ()
    return (f"({' OR '.join(parts)})", tuple(args)) if parts else ("", ())


def held_count(conn: sqlite3.Connection, kind: str, op_id: int, levels: tuple[str, ...]
               ) -> int:
    """Records of `kind` at `levels` under an active hold: what an export leaves out."""
    clause, args = held_clause(conn, kind, op_id)
    if not clause:
        return 0
    return int(conn.execute(
        f"SELECT COUNT(*) AS n FROM {_kind(kind)} WHERE op_id=? AND tlp IN "
        f"({placeholders(levels)}) AND {clause}", (op_id, *levels, *args)).fetchone()["n"])


def held_ids(conn: sqlite3.Connection, kind: str, op_id: int) -> set[int]:
    """Row ids of `kind` under an active hold (for the audit images an export leaves out)."""
    clause, args = held_clause(conn, kind, op_id)
    if not clause:
        return set()
    return {int(r["id"]) for r in conn.execute(
        f"SELECT id FROM {_kind(kind)} WHERE op_id=? AND {clause}", (op_id, *args))}


def _unheld(conn: sqlite3.Connection, kind: str, op_id: int, hide: bool
            ) -> tuple[str, tuple[Any, ...]]:
    if not hide:
        return "", ()
    clause, args = held_clause(conn, kind, op_id)
    return (f" AND NOT {clause}", args) if clause else ("", ())


def records(conn: sqlite3.Connection, kind: str, op_id: int, levels: tuple[str, ...], *,
            seq: int | None = None, order: Order = "number", limit: int | None = None,
            hide_held: bool = False) -> Iterator[Row]:
    """The operation's records of `kind` at `levels`, by number (or takedowns in execution
    order). A takedown also carries `seizure_shown`: 1 when it names no seized item or its
    item is at `levels` too, worked out here so 100,000 takedowns cost no query each."""
    marks = placeholders(levels)
    select = "*"
    select_args: tuple[str, ...] = ()
    if kind == "takedowns":
        # A held seized item's value is not shown through the takedown that copies it.
        seized_held, seized_args = _unheld(conn, "seizures", op_id, hide_held)
        select = (f"*, (seizure_seq IS NULL OR EXISTS (SELECT 1 FROM seizures s "
                  f"WHERE s.op_id=takedowns.op_id AND s.seq=takedowns.seizure_seq AND "
                  f"s.tlp IN ({marks}){seized_held})) AS seizure_shown")
        select_args = (*levels, *seized_args)
    unheld, unheld_args = _unheld(conn, kind, op_id, hide_held)
    sql = f"SELECT {select} FROM {_kind(kind)} WHERE op_id=? AND tlp IN ({marks}){unheld}"
    args: tuple[Any, ...] = (*select_args, op_id, *levels, *unheld_args)
    if seq is not None:
        sql += " AND seq=?"
        args += (seq,)
    sql += f" ORDER BY {ORDERS[order]}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in conn.execute(sql, args):
        row.pop("subject_key", None)  # the key store's bookkeeping, not the record's
        yield row


def count(conn: sqlite3.Connection, kind: str, op_id: int, levels: tuple[str, ...], *,
          status: str | None = None, hide_held: bool = False) -> int:
    unheld, unheld_args = _unheld(conn, kind, op_id, hide_held)
    sql = (f"SELECT COUNT(*) AS n FROM {_kind(kind)} WHERE op_id=? "
           f"AND tlp IN ({placeholders(levels)}){unheld}")
    args: tuple[Any, ...] = (op_id, *levels, *unheld_args)
    if status is not None:
        sql += " AND status=?"
        args += (status,)
    return int(conn.execute(sql, args).fetchone()["n"])


def counts_by(conn: sqlite3.Connection, kind: str, op_id: int, levels: tuple[str, ...],
              columns: tuple[str, ...], *, hide_held: bool = False
              ) -> dict[tuple[Any, ...], int]:
    """Records at `levels` counted per value of `columns` (the pdf's charts), aggregated in
    SQL so 100,000 records cost no Python loop. `columns` must be the table's own."""
    names = ", ".join(columns)
    unheld, unheld_args = _unheld(conn, kind, op_id, hide_held)
    rows = conn.execute(f"SELECT {names}, COUNT(*) AS n FROM {_kind(kind)} WHERE op_id=? "
                        f"AND tlp IN ({placeholders(levels)}){unheld} GROUP BY {names}",
                        (op_id, *levels, *unheld_args))
    return {tuple(row[c] for c in columns): int(row["n"]) for row in rows}


def levels_used(conn: sqlite3.Connection, kind: str, op_id: int, levels: tuple[str, ...],
                *, hide_held: bool = False) -> set[str]:
    """Which of `levels` the records of `kind` carry."""
    unheld, unheld_args = _unheld(conn, kind, op_id, hide_held)
    rows = conn.execute(f"SELECT DISTINCT tlp FROM {_kind(kind)} WHERE op_id=? "
                        f"AND tlp IN ({placeholders(levels)}){unheld}",
                        (op_id, *levels, *unheld_args))
    return {row["tlp"] for row in rows}


def seizure_shown(conn: sqlite3.Connection, op_id: int, seq: int, levels: tuple[str, ...]
                  ) -> bool:
    """Whether seized item S-`seq` exists at `levels`."""
    return conn.execute(
        f"SELECT 1 FROM seizures WHERE op_id=? AND seq=? AND tlp IN ({placeholders(levels)})",
        (op_id, seq, *levels)).fetchone() is not None


def audit_entries(conn: sqlite3.Connection, room_id: str, levels: tuple[str, ...],
                  unlabelled: str) -> Iterator[Row]:
    """The room's audit entries, oldest first, each with two flags: `shown`, every image
    the entry's record ever had is at `levels` (an image without a `tlp`, of a table
    without a label, counts as `unlabelled`), and `whole_command`, every entry of its
    command is shown.

    A record is judged by the highest level it ever held, not by the level in each image:
    a task raised to RED keeps its AMBER past (text, command line) out of an AMBER export.
    The records that ever held a level outside `levels`, and the commands that touched
    one, are found in one pass over the room's entries each and joined (an automatic
    index): 110,000 entries take about as long as the per-image check did (1.8 s against
    1.6 s), where a correlated subquery per entry took two minutes."""
    marks = placeholders(levels)
    image = f"COALESCE(json_extract({{0}}, '$.tlp'), ?) IN ({marks})"
    yield from conn.execute(
        f"WITH above AS MATERIALIZED (SELECT tbl, row_id FROM audit_log WHERE room_id=? AND "
        f"NOT ((before IS NULL OR {image.format('before')}) AND (after IS NULL OR "
        f"{image.format('after')})) GROUP BY tbl, row_id), "
        f"left_out AS MATERIALIZED (SELECT DISTINCT a.event_id FROM audit_log a JOIN above b "
        f"ON b.tbl=a.tbl AND b.row_id=a.row_id WHERE a.room_id=?) "
        f"SELECT a.*, b.row_id IS NULL AS shown, c.event_id IS NULL AS whole_command "
        f"FROM audit_log a LEFT JOIN above b ON b.tbl=a.tbl AND b.row_id=a.row_id "
        f"LEFT JOIN left_out c ON c.event_id=a.event_id WHERE a.room_id=? ORDER BY a.n",
        (room_id, *(unlabelled, *levels) * 2, room_id, room_id))


def _kind(kind: str) -> str:
    """The table name, checked: it is put into SQL text, so only the known kinds pass."""
    if kind not in RECORD_KINDS:
        raise ValueError(f"{kind} is not an exported record kind")
    return kind


