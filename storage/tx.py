"""A transaction handle whose every record change is written to the audit log.

Record tables are only changed through `insert`, `update` and `delete` here, so no code
path can change a record without leaving who/when/which-event/before/after behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite

from storage import audit

# Tables a command may change; anything else is refused so a typo cannot write elsewhere.
RECORD_TABLES = frozenset(
    {
        "operations",
        "agencies",
        "members",
        "tasks",
        "arrests",
        "seizures",
        "takedowns",
        "rollcalls",
        "rollcall_answers",
        "assets",
        "tallies",
        "preservations",
        "sitrep_schedules",
        "sitrep_notes",
        "identities",
        "deconfliction_sides",
    }
)


@dataclass(frozen=True)
class Actor:
    """Who is changing the record, and through which Matrix event and command."""

    room_id: str
    sender: str
    event_id: str
    command: str
    at: str  # ISO UTC text from storage.codec.to_db_time


Row = dict[str, Any]


class Runner(Protocol):
    async def fetchall(self, sql: str, params: tuple[Any, ...]) -> list[Any]: ...
    async def execute(self, sql: str, params: tuple[Any, ...]) -> int: ...


class InlineRunner:
    """Runs statements directly on the writer's sqlite3 connection, on the event loop.

    A statement inside an open transaction costs microseconds, far less than aiosqlite's
    thread hop (~40 µs a call); only the COMMIT waits for the disk, and that one goes
    through aiosqlite's thread (see storage.database)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    async def fetchall(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self.raw.execute(sql, params).fetchall()

    async def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        return self.raw.execute(sql, params).lastrowid or 0


class AsyncRunner:
    """For reader connections (snapshots), whose big queries must not block the loop."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def fetchall(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        cur = await self.conn.execute(sql, params)
        rowid = cur.lastrowid or 0
        await cur.close()
        return rowid


class Tx:
    def __init__(self, runner: Runner, actor: Actor | None) -> None:
        self.runner = runner
        self.actor = actor

    # -- reads ---------------------------------------------------------------------------
    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.runner.fetchall(sql, tuple(params))
        return dict(rows[0]) if rows else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return [dict(r) for r in await self.runner.fetchall(sql, tuple(params))]

    async def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self.runner.fetchall(sql, tuple(params))
        return rows[0][0] if rows else None

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Unaudited write, for bookkeeping tables (processed events, counters, schedules)."""
        return await self.runner.execute(sql, tuple(params))

    # -- sequence numbers ---------------------------------------------------------------
    async def next_seq(self, op_id: int, kind: str) -> int:
        """Per-operation number (T-12). Counters only grow, so /undo never frees a number."""
        return int(await self.scalar(
            "INSERT INTO counters (op_id, kind, last) VALUES (?, ?, 1) "
            "ON CONFLICT (op_id, kind) DO UPDATE SET last = last + 1 RETURNING last",
            (op_id, kind),
        ))

    # -- audited changes ----------------------------------------------------------------
    def _need_actor(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("record changes need an Actor for the audit log")
        return self.actor

    async def get(self, table: str, row_id: int) -> Row | None:
        _check_table(table)
        return await self.one(f"SELECT * FROM {table} WHERE id=?", (row_id,))

    async def insert(self, table: str, values: Mapping[str, Any], *, undoes: str | None = None
                     ) -> Row:
        _check_table(table)
        actor = self._need_actor()
        cols = list(values)
        sql = (f"INSERT INTO {table} ({', '.join(cols)}) "
               f"VALUES ({', '.join('?' for _ in cols)}) RETURNING *")
        after = await self.one(sql, [values[c] for c in cols])
        assert after is not None
        row_id = after["id"]
        await audit.append(self, actor, "insert", table, row_id, None, after, undoes=undoes)
        return after

    async def update(self, table: str, row_id: int, changes: Mapping[str, Any], *,
                     undoes: str | None = None) -> tuple[Row, Row]:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        real = {k: v for k, v in changes.items() if before.get(k) != v}
        if not real:
            return before, before
        sets = ", ".join(f"{c}=?" for c in real)
        after = await self.one(f"UPDATE {table} SET {sets} WHERE id=? RETURNING *",
                               (*real.values(), row_id))
        assert after is not None
        await audit.append(self, actor, "update", table, row_id, before, after, undoes=undoes)
        return before, after

    async def delete(self, table: str, row_id: int, *, undoes: str | None = None) -> Row:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        await self.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))
        await audit.append(self, actor, "delete", table, row_id, before, None, undoes=undoes)
        return before


def _check_table(table: str) -> None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
