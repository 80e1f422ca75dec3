"""A transaction handle whose every record change is written to the audit log.

Record tables are only changed through `insert`, `update` and `delete` here, so no code
path can change a record without leaving who/when/which-event/before/after behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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


class Tx:
    def __init__(self, conn: aiosqlite.Connection, actor: Actor | None) -> None:
        self.conn = conn
        self.actor = actor

    # -- reads ---------------------------------------------------------------------------
    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        async with self.conn.execute(sql, tuple(params)) as cur:
            row = await cur.fetchone()
        return dict(row) if row is not None else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            rows = await cur.fetchall()
        return [dict(r) for r in rows]

    async def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        async with self.conn.execute(sql, tuple(params)) as cur:
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Unaudited write, for bookkeeping tables (processed events, counters, schedules)."""
        async with self.conn.execute(sql, tuple(params)) as cur:
            return cur.lastrowid or 0

    # -- sequence numbers ---------------------------------------------------------------
    async def next_seq(self, op_id: int, kind: str) -> int:
        """Per-operation number (T-12). Counters only grow, so /undo never frees a number."""
        await self.conn.execute(
            "INSERT INTO counters (op_id, kind, last) VALUES (?, ?, 1) "
            "ON CONFLICT (op_id, kind) DO UPDATE SET last = last + 1",
            (op_id, kind),
        )
        return int(await self.scalar("SELECT last FROM counters WHERE op_id=? AND kind=?",
                                     (op_id, kind)))

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
               f"VALUES ({', '.join('?' for _ in cols)})")
        async with self.conn.execute(sql, tuple(values[c] for c in cols)) as cur:
            row_id = cur.lastrowid
        after = await self.get(table, row_id)
        assert after is not None
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
        await self.conn.execute(f"UPDATE {table} SET {sets} WHERE id=?",
                                (*real.values(), row_id))
        after = await self.get(table, row_id)
        assert after is not None
        await audit.append(self, actor, "update", table, row_id, before, after, undoes=undoes)
        return before, after

    async def delete(self, table: str, row_id: int, *, undoes: str | None = None) -> Row:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        await self.conn.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))
        await audit.append(self, actor, "delete", table, row_id, before, None, undoes=undoes)
        return before


def _check_table(table: str) -> None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
