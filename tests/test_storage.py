"""The database keeps what it acknowledged, keeps it private, and shows tampering."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from storage import audit
from storage.database import Database, check_version
from storage.migrations import MIGRATIONS, DatabaseTooNew
from storage.tx import Actor, Tx
from tests.failing_commit import commit_fails

ROOM = "!room:localhost"


def actor(n: int, room: str = ROOM) -> Actor:
    return Actor(room, "@lead:localhost", f"$e{n}", f"!cmd {n}", "2026-11-24T12:00:00Z")


async def make_op(tx: Tx) -> dict:
    return await tx.insert("operations", {
        "room_id": ROOM, "name": "Operation X", "code": "X", "tz": "UTC", "tlp": "AMBER",
        "created_by": "@lead:localhost", "created_at": "t", "updated_at": "t",
    })


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "data" / "opsroom.db")
    yield database
    await database.close()


async def test_files_are_private_and_wal(db: Database, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "opsroom.db").stat().st_mode) == 0o600
    await db.write(make_op, actor(1))
    for f in data.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f
    with sqlite3.connect(data / "opsroom.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrations_run_once_and_record_version(tmp_path: Path) -> None:
    path = tmp_path / "data" / "opsroom.db"
    first = await Database.open(path)
    assert await first.schema_version() == len(MIGRATIONS)
    await first.write(make_op, actor(1))
    await first.close()
    again = await Database.open(path)
    assert await again.schema_version() == len(MIGRATIONS)
    assert await again.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM operations")) == 1
    await again.close()


async def test_a_failing_write_rolls_back_alone_in_a_batch(db: Database) -> None:
    await db.write(make_op, actor(0))

    async def good(tx: Tx) -> None:
        await tx.insert("agencies", {"op_id": 1, "code": "FR-A", "country": "FR", "tz": "UTC",
                                     "created_by": "@a:x", "created_at": "t"})

    async def bad(tx: Tx) -> None:
        await tx.insert("agencies", {"op_id": 1, "code": "DE-B", "country": "DE", "tz": "UTC",
                                     "created_by": "@a:x", "created_at": "t"})
        raise RuntimeError("boom")

    results = await asyncio.gather(db.write(good, actor(1)), db.write(bad, actor(2)),
                                   return_exceptions=True)
    assert results[0] is None and isinstance(results[1], RuntimeError)
    codes = await db.read(lambda tx: tx.all("SELECT code FROM agencies"))
    assert [r["code"] for r in codes] == ["FR-A"]
    entries = await db.read(lambda tx: tx.all("SELECT event_id FROM audit_log ORDER BY n"))
    assert [e["event_id"] for e in entries] == ["$e0", "$e1"]
    [result] = await db.read(lambda tx: audit.verify_all(tx))
    assert result.ok, result.problems


async def test_nothing_is_acknowledged_when_the_commit_fails(db: Database) -> None:
    await db.write(make_op, actor(0))

    async def add(tx: Tx) -> None:
        await tx.insert("agencies", {"op_id": 1, "code": "FR-A", "country": "FR", "tz": "UTC",
                                     "created_by": "@a:x", "created_at": "t"})

    with commit_fails(db, OSError("disk gone")), pytest.raises(OSError):
        await db.write(add, actor(1))
    assert await db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM agencies")) == 0


async def _chain(db: Database, n: int) -> None:
    await db.write(make_op, actor(0))
    for i in range(1, n):
        await db.write(lambda tx, i=i: tx.update("operations", 1, {"phase": f"p{i}"}), actor(i))


def _raw(db: Database) -> sqlite3.Connection:
    return sqlite3.connect(db.path, isolation_level=None)


async def _problems(db: Database) -> list[str]:
    results = await db.read(lambda tx: audit.verify_all(tx))
    return [p for r in results for p in r.problems]


async def test_intact_log_verifies(db: Database) -> None:
    await _chain(db, 5)
    assert await _problems(db) == []


async def test_altered_entry_is_named(db: Database) -> None:
    await _chain(db, 5)
    with _raw(db) as raw:
        raw.execute("UPDATE audit_log SET sender='@mallory:evil' WHERE n=3")
    problems = await _problems(db)
    assert any("#3" in p and "altered" in p for p in problems), problems


async def test_deleted_entry_is_named(db: Database) -> None:
    await _chain(db, 5)
    with _raw(db) as raw:
        raw.execute("DELETE FROM audit_log WHERE n=2")
    problems = await _problems(db)
    assert any("#2" in p and "missing" in p for p in problems), problems


async def test_deleted_newest_entry_is_detected(db: Database) -> None:
    await _chain(db, 5)
    with _raw(db) as raw:
        raw.execute("DELETE FROM audit_log WHERE n=5")
    problems = await _problems(db)
    assert any("#5" in p and "missing" in p for p in problems), problems


async def test_swapped_entries_are_detected(db: Database) -> None:
    await _chain(db, 5)
    with _raw(db) as raw:
        rows = raw.execute("SELECT id, n FROM audit_log WHERE n IN (2, 3) ORDER BY n").fetchall()
        cols = [c[1] for c in raw.execute("PRAGMA table_info(audit_log)") if c[1] != "id"]
        data = {
            r[0]: raw.execute(f"SELECT {', '.join(cols)} FROM audit_log WHERE id=?",
                              (r[0],)).fetchone()
            for r in rows
        }
        (id2, _), (id3, _) = rows
        raw.execute("DELETE FROM audit_log WHERE id IN (?, ?)", (id2, id3))
        for new_id, old_id in ((id2, id3), (id3, id2)):
            raw.execute(
                f"INSERT INTO audit_log (id, {', '.join(cols)}) "
                f"VALUES (?, {', '.join('?' for _ in cols)})",
                (new_id, *data[old_id]),
            )
    problems = await _problems(db)
    assert any("out of order" in p or "missing" in p for p in problems), problems


async def test_rewritten_chain_without_head_is_detected(db: Database) -> None:
    await _chain(db, 3)
    with _raw(db) as raw:
        raw.execute("DELETE FROM audit_heads")
    assert await _problems(db) == ["the log's head record is missing"]


def test_migrations_are_numbered_in_order_and_described() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert all(m.description.strip() for m in MIGRATIONS)


async def test_each_migration_is_recorded_with_its_description(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "opsroom.db")
    rows = await db.read(lambda tx: tx.all(
        "SELECT version, description FROM schema_version ORDER BY version"))
    await db.close()
    assert rows == [{"version": m.version, "description": m.description} for m in MIGRATIONS]


def _pretend_newer(path: Path, version: int, description: str | None) -> None:
    """What a newer opsroom leaves behind: a migration this code does not know."""
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    (version, description))


async def test_a_database_newer_than_the_code_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "opsroom.db"
    await (await Database.open(path)).close()
    known = len(MIGRATIONS)
    _pretend_newer(path, known + 3, "deconfliction hits")
    with pytest.raises(DatabaseTooNew) as raised:
        await Database.open(path)
    assert str(raised.value) == (
        f"database {path} is at version {known + 3} (deconfliction hits), this opsroom knows "
        f"up to {known}: upgrade opsroom or restore a backup")
    with pytest.raises(DatabaseTooNew):
        check_version(path)
    with sqlite3.connect(path) as raw:  # and nothing was written to it
        assert raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == known + 3


async def test_a_newer_database_without_a_description_names_its_version(tmp_path: Path) -> None:
    path = tmp_path / "opsroom.db"
    await (await Database.open(path)).close()
    _pretend_newer(path, len(MIGRATIONS) + 1, None)
    with pytest.raises(DatabaseTooNew, match=rf"at version {len(MIGRATIONS) + 1}, this"):
        await Database.open(path)


async def test_a_database_from_before_descriptions_gets_them_from_then_on(
        tmp_path: Path) -> None:
    path = tmp_path / "opsroom.db"
    with sqlite3.connect(path) as raw:  # as the code before descriptions left it, at 2
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for m in MIGRATIONS[:2]:
            raw.executescript(m.statements)
            raw.execute("INSERT INTO schema_version (version) VALUES (?)", (m.version,))
    assert check_version(path) == 2
    db = await Database.open(path)
    rows = await db.read(lambda tx: tx.all(
        "SELECT version, description FROM schema_version ORDER BY version"))
    await db.close()
    assert rows == [{"version": 1, "description": None}, {"version": 2, "description": None},
                    *({"version": m.version, "description": m.description}
                      for m in MIGRATIONS[2:])]
