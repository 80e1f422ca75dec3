"""The replay record (storage.replays) without a homeserver: the first event id a megolm
ciphertext came with is the one kept, across a reopened database (a restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage import replays
from storage.database import Database


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
