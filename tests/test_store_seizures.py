"""The seizure queries narrow by type and status, and find an item under either spelling."""

from __future__ import annotations

from storage import seizures
from tests.harness import Harness
from tests.store_helpers import OTHER_ROOM, op_id, other_operation


async def test_listing_narrows_by_type_and_status(h: Harness) -> None:
    await h.ok("!seize domain one.example")
    await h.ok("!seize ip 192.0.2.7 status=seized")
    await h.ok("!seize domain two.example status=seized")
    await other_operation(h)
    await h.ok("!seize domain three.example status=seized", room=OTHER_ROOM)
    operation = await op_id(h)

    async def seqs(**filters: str) -> list[int]:
        rows = await h.db.read(lambda tx: seizures.listing(tx, operation, **filters))
        return [row["seq"] for row in rows]

    assert await seqs() == [1, 2, 3]
    assert await seqs(kind="domain") == [1, 3]
    assert await seqs(status="seized") == [2, 3]
    assert await seqs(kind="domain", status="seized") == [3]
    assert await seqs(kind="wallet") == []


async def test_seq_recorded_matches_any_spelling_of_the_same_type(h: Harness) -> None:
    await h.ok("!seize domain one.example")
    await h.ok("!seize ip 192.0.2.7")
    operation = await op_id(h)

    async def found(kind: str, *spellings: str) -> int | None:
        return await h.db.read(lambda tx: seizures.seq_recorded(tx, operation, kind, spellings))

    assert await found("domain", "old-spelling.example", "one.example") == 1
    assert await found("ip", "192.0.2.7") == 2
    assert await found("domain", "192.0.2.7") is None
    assert await found("domain", "other.example") is None
