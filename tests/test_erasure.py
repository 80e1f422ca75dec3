"""Erasure by crypto-shredding (E-n): what a lead or the retention policy erases reads as
"[erased]" everywhere, cannot be changed or brought back, leaves the counts and the audit
chain as they were, and survives a crash half way."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot import erasure as run
from commands import Reply
from storage import audit, sealing
from storage.database import Database
from storage.retention import DEFAULTS
from tests.harness import OFFICER, Harness

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(tmp_path: Path):  # type: ignore[no-untyped-def]
    harness = await Harness.open(tmp_path)
    await harness.setup_operation()
    yield harness
    await harness.close()


class Room:
    """What the runtime would post and redact."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Reply]] = []
        self.redacted: list[str] = []

    async def post(self, room_id: str, reply: Reply) -> None:
        self.posts.append((room_id, reply))

    async def redact(self, room_id: str, event_ids: list[str]) -> int:
        self.redacted += event_ids
        return len(event_ids)


async def _finish(h: Harness, room: Room | None = None) -> list[int]:
    room = room or Room()
    return await run.finish_all(h.db, h.clock.now(), room.post, room.redact)


async def _two_suspects(h: Harness) -> None:
    await h.ok('!arrest add NL-SUSPECT-0001 country=FR agency=FR-OFAC charge="Fraudulentia"',
               sender=OFFICER)
    await h.ok("!arrest add NL-SUSPECT-0002 country=DE agency=DE-BKA", sender=OFFICER)


async def _verify(h: Harness) -> audit.VerifyResult:
    return await h.db.read(lambda tx: audit.verify_room(tx, h.room))


async def test_an_erased_suspect_reads_as_erased_and_the_room_is_told_why_and_by_whom(
        h: Harness) -> None:
    await _two_suspects(h)
    started = await h.ok('!erase A-1 "acquitted, notice of the prosecutor"')
    assert "E-1" in started.text and "A-1" in started.text
    room = Room()
    await _finish(h, room)
    listing = (await h.ok("!arrest list")).text
    assert "NL-SUSPECT-0001" not in listing and "Fraudulentia" not in listing
    assert sealing.ERASED in listing and "NL-SUSPECT-0002" in listing
    [(room_id, told)] = room.posts
    assert room_id == h.room
    assert told.text.startswith("E-1: erased 1 record (A-1) — acquitted, notice of the "
                                "prosecutor — @lead:localhost;")
    assert "members' clients may still hold copies" in told.text


async def test_an_erasure_is_finished_and_told_once(h: Harness) -> None:
    await _two_suspects(h)
    await h.ok('!erase A-1 "acquitted"')
    room = Room()
    await _finish(h, room)
    await _finish(h, room)
    assert len(room.posts) == 1
    [row] = await h.rows("SELECT state FROM erasures")
    assert row["state"] == "done"
