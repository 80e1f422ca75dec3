"""How statements reach SQLite, and the plain (unaudited) query surface on top.

Apart from `storage.tx` so that the audit log, which `Tx` writes to on every record
change, can run its own statements without importing `Tx` back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sized
from typing import Any, Protocol

import aiosqlite

from storage.keystore import KeyStore
from storage.sealing import is_sealed, open_value, opened_row

Row = dict[str, Any]


def placeholders(values: Sized) -> str:
    """`?, ?, ?` for an `IN (…)` of `values`: the values always go as parameters."""
    return ", ".join("?" * len(values))


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


class Statements:
    """Reads and unaudited writes in one transaction; `storage.tx.Tx` adds audited
    record changes."""

    def __init__(self, runner: Runner, keys: KeyStore | None = None) -> None:
        self.runner = runner
        self.keys = keys

    # -- reads ---------------------------------------------------------------------------
    # Every row comes out with its sealed fields opened (storage.sealing): callers read
    # personal values as text and never see a key.
    def _row(self, raw: Any) -> Row:
        row = dict(raw)
        for value in row.values():
            if type(value) is bytes:
                return opened_row(self.keys, row)
        return row

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.runner.fetchall(sql, tuple(params))
        return self._row(rows[0]) if rows else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return [self._row(r) for r in await self.runner.fetchall(sql, tuple(params))]

    async def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self.runner.fetchall(sql, tuple(params))
        if not rows:
            return None
        value = rows[0][0]
        if self.keys is not None and is_sealed(value):
            return open_value(self.keys, value)
        return value

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Unaudited write, for bookkeeping tables (processed events, counters, schedules)."""
        return await self.runner.execute(sql, tuple(params))
