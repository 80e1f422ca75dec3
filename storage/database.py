"""The operation database: one SQLite file in WAL mode, written through a group-commit queue.

Why group commit: with `synchronous=FULL` every COMMIT waits for an fsync (about 1.3 ms
on the reference machine), which would cap durable commands at a few hundred per second.
Writes queued while a commit is in flight are run together, each inside its own SAVEPOINT
(so one failing command rolls back alone), and made durable by a single COMMIT. Nobody's
future resolves before that COMMIT returns, so nothing is acknowledged before it is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage import keystore
from storage.audit import Actor
from storage.errors import storage_failure
from storage.keystore import KeyStore
from storage.migrations import LATEST, MIGRATIONS, DatabaseTooNew
from storage.sealing import opened_row
from storage.statements import AsyncRunner, InlineRunner
from storage.tx import Tx

T = TypeVar("T")
# A queued write: what to run, for whom (the audit log's actor), and who waits for it.
Job = tuple[Callable[[Tx], Awaitable[Any]], Actor | None, "asyncio.Future[Any]"]
log = logging.getLogger(__name__)

MAX_BATCH = 256


def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _secure_file(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _secure_side_files(path: Path) -> None:
    """SQLite creates -wal/-shm with the process umask; make sure they are private too."""
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.chmod(side, 0o600)


class Database:
    """Owns the writer connection; readers get their own connections via `snapshot()`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, keys: KeyStore) -> None:
        self._conn = conn
        self.keys = keys
        self._raw = conn._conn  # the sqlite3 connection aiosqlite owns
        self._inline = InlineRunner(self._raw)
        self.path = path
        self._queue: list[Job] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        # Held by each batch; `exclusive` takes it so nothing writes between two batches.
        self._batch_lock = asyncio.Lock()
        # Told each COMMIT's duration (s) and how many writes it made durable (metrics).
        self.on_commit: Callable[[float, int], None] | None = None

    @classmethod
    async def open(cls, path: Path | str, *, kek_path: Path | None = None) -> Database:
        """`kek_path`: where the key wrapping the subjects' keys is kept (storage.keystore);
        by default beside the database."""
        path = Path(path)
        _secure_dir(path.parent)
        _secure_file(path)
        keys = keystore.for_database(path, kek_path=kek_path)
        # check_same_thread=False: statements of the writer run inline on the loop (see
        # storage.statements.InlineRunner) while COMMIT goes through aiosqlite's thread.
        conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = aiosqlite.Row
        await _configure(conn)
        db = cls(conn, path, keys)
        try:
            await db._migrate()
        except BaseException:
            await conn.close()  # its thread would keep the process alive
            keystore.release(path)
            raise
        _secure_side_files(path)
        return db

    async def _migrate(self) -> None:
        conn = self._conn
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                           "(version INTEGER NOT NULL, description TEXT)")
        current, description = _stored_version(self._raw)
        if current > LATEST:
            raise DatabaseTooNew(self.path, current, description, LATEST)
        if "description" not in _columns(self._raw, "schema_version"):
            # A database from before descriptions were kept; older code still inserts
            # `(version)` alone, so the extra column does not lock it out.
            await conn.execute("ALTER TABLE schema_version ADD COLUMN description TEXT")
        for migration in MIGRATIONS[current:]:
            # executescript commits implicitly; wrap so a failed migration leaves no half schema.
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.statements}\n"
                "INSERT INTO schema_version (version, description) VALUES "
                f"({migration.version}, {_sql_text(migration.description)});\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0] or 0) if row else 0

    async def write(self, fn: Callable[[Tx], Awaitable[T]], actor: Actor | None = None) -> T:
        """Run `fn` in a transaction; returns only after its changes are durably committed."""
        if self._closed:
            raise RuntimeError("database is closed")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, actor, fut))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._run_batch(batch)

    async def _run_batch(self, batch: list[Job]) -> None:
        async with self._batch_lock:
            await self._run_batch_locked(batch)

    async def _run_batch_locked(self, batch: list[Job]) -> None:
        raw = self._raw
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            if raw.in_transaction:  # a ROLLBACK the disk refused last time
                raw.execute("ROLLBACK")
            raw.execute("BEGIN IMMEDIATE")
            for fn, actor, fut in batch:
                raw.execute("SAVEPOINT job")
                try:
                    result = await fn(Tx(self._inline, actor, self.keys))
                except Exception as exc:
                    if storage_failure(exc) is not None:
                        raise  # SQLite may have rolled it all back: every job fails with it
                    raw.execute("ROLLBACK TO job")
                    raw.execute("RELEASE job")
                    outcomes.append((fut, None, exc))
                else:
                    raw.execute("RELEASE job")
                    outcomes.append((fut, result, None))
            await self._commit(len(batch))
        except BaseException as exc:
            if raw.in_transaction:
                try:
                    await self._conn.execute("ROLLBACK")
                except sqlite3.Error as rollback_error:  # the disk may refuse this too
                    log.error("rollback after a failed batch failed: %s", rollback_error)
            for _fn, _actor, fut in batch:
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        for fut, result, error in outcomes:
            if fut.done():
                continue
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)

    async def _commit(self, writes: int) -> None:
        """Makes a batch durable. The fsync happens here, on aiosqlite's thread, so the loop
        keeps serving; if this raises, the batch is rolled back and every write fails."""
        started = time.perf_counter()
        if self.keys.pending:  # the keys first: never a sealed record without its key
            await asyncio.to_thread(self.keys.commit)
        await self._conn.execute("COMMIT")
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started, writes)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Between two write batches, none running: for what cannot share the writer (VACUUM,
        or the key store's destroy and rotation, which must not race a batch's new keys)."""
        async with self._batch_lock:
            yield

    async def compact(self) -> None:
        """Nothing left of erased bytes in the WAL or free pages: checkpoint, VACUUM,
        checkpoint again. Run between write batches (VACUUM cannot run inside one); the
        caller holds `exclusive`."""
        assert self._batch_lock.locked(), "compact() runs inside exclusive()"
        raw = self._raw
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        for sql in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
            async with self._conn.execute(sql):
                pass
        _secure_side_files(self.path)

    async def read(self, fn: Callable[[Tx], Awaitable[T]]) -> T:
        """A consistent read on the writer connection, ordered after queued writes."""
        return await self.write(fn)

    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """A separate read-only connection in one read transaction, for big reads (sitreps,
        exports) that must not hold up the writer."""
        return read_snapshot(self.path)

    async def close(self) -> None:
        """Safe to call twice (a second aiosqlite close would wait forever)."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            await self._writer
        await self._conn.close()
        keystore.release(self.path)


class KeyedConnection(sqlite3.Connection):
    """A connection that knows the key store its rows are opened with (for audit images,
    which stay sealed in their JSON until a reader opens them: storage.sealing)."""

    keys: KeyStore | None = None


@contextmanager
def read_only_sync(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection in one read transaction, rows as dicts, for a separate worker
    process (exports) that streams rows through a cursor instead of loading them."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                           factory=KeyedConnection)
    keys = conn.keys = keystore.for_database(path, read_only=True)
    keys.refresh()
    conn.row_factory = lambda cur, row: opened_row(keys, {
        d[0]: v for d, v in zip(cur.description, row, strict=True)})
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute("BEGIN")
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        keystore.release(path)


@asynccontextmanager
async def read_snapshot(path: Path) -> AsyncIterator[Tx]:
    """A consistent read-only view of the database file, usable from any process."""
    conn = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    keys = keystore.for_database(path, read_only=True)
    keys.refresh()
    try:
        await conn.execute("PRAGMA query_only=ON")
        await conn.execute("BEGIN")
        yield Tx(AsyncRunner(conn), None, keys)
    finally:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        await conn.close()
        keystore.release(path)


async def _configure(conn: aiosqlite.Connection) -> None:
    async with conn.execute("PRAGMA journal_mode=WAL") as cur:
        row = await cur.fetchone()
    mode = row[0] if row else None
    if not isinstance(mode, str) or mode.lower() != "wal":
        raise RuntimeError(f"could not switch the database to WAL mode (got {mode})")
    await conn.execute("PRAGMA synchronous=FULL")
    # Deleted and overwritten content is zeroed, not left in free pages (erasure).
    await conn.execute("PRAGMA secure_delete=ON")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=10000")



def check_version(path: Path) -> int:
    """The database's schema version, read without migrating it (`opsroom check-config`);
    DatabaseTooNew if a newer opsroom migrated it."""
    with read_only_sync(path) as conn:
        version, description = _stored_version(conn)
    if version > LATEST:
        raise DatabaseTooNew(path, version, description, LATEST)
    return version


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    cur = conn.cursor()
    cur.row_factory = None
    return {row[1] for row in cur.execute(f"PRAGMA table_info({table})")}


def _stored_version(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """The newest migration the database has run, and its description if it kept one."""
    columns = _columns(conn, "schema_version")
    if not columns:
        return 0, None
    cur = conn.cursor()
    cur.row_factory = None
    row = cur.execute(
        f"SELECT version, {'description' if 'description' in columns else 'NULL'} "
        "FROM schema_version ORDER BY version DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def _sql_text(value: str) -> str:
    """A string literal for a script (executescript takes no parameters)."""
    return "'" + value.replace("'", "''") + "'"
