"""The replay record (storage.replays) without a homeserver: the first event id a megolm
ciphertext came with is the one kept, across a reopened database (a restart)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.crypto.replay import Replays
from storage import replays
from storage.database import Database
from tests.failing_commit import commit_fails


async def test_a_ciphertext_keeps_the_event_id_it_first_came_with(tmp_path: Path) -> None:
    async def seen(db: Database, event_id: str, index: int = 7) -> str:
        async def note(tx: Any) -> str:
            return await replays.first_event(tx, "curveKEY", "SESSION", index, event_id,
                                             "!op:x", "2026-12-06T07:00:00Z")
        return await db.write(note)

    db = await Database.open(tmp_path / "opsroom.db")
    assert await seen(db, "$first") == "$first"
    assert await seen(db, "$first") == "$first"  # the same event again (a redelivery)
    assert await seen(db, "$other", index=8) == "$other"  # the session's next message
    await db.close()
    db = await Database.open(tmp_path / "opsroom.db")
    assert await seen(db, "$replayed") == "$first"
    await db.close()


async def test_a_full_disk_still_refuses_a_recorded_replay_and_lets_a_new_command_through(
        tmp_path: Path) -> None:
    """The index cannot be written then, but neither can the command (the dispatcher
    answers only reads); the check must not stop the command from being answered."""
    full = sqlite3.OperationalError("database or disk is full")
    db = await Database.open(tmp_path / "opsroom.db")
    check = Replays(db, lambda: datetime(2026, 12, 6, 7, tzinfo=UTC))

    def event(event_id: str, index: int) -> SimpleNamespace:
        return SimpleNamespace(event_id=event_id, sender="@lead:x", megolm_index=index,
                               sender_key="curveKEY", session_id="SESSION")

    assert await check.refusal("!op:x", event("$first", 7)) is None
    with commit_fails(db, full):
        assert await check.refusal("!op:x", event("$new", 8)) is None
        replayed = await check.refusal("!op:x", event("$replayed", 7))
    assert replayed is not None and "$first" in replayed.say()
    assert await check.refusal("!op:x", event("$new", 8)) is None  # never written: new still
    assert await check.refusal("!op:x", event("$again", 8)) is not None
    await db.close()
