"""The seizure queries narrow by type and status, and find an item under either spelling."""

from __future__ import annotations

from storage import operations, seizures
from storage.tx import Tx
from tests.harness import ROOM, Harness

OTHER_ROOM = "!other:localhost"


async def _op_id(h: Harness) -> int:
    async def lookup(tx: Tx) -> int:
        op = await operations.for_room(tx, ROOM)
        assert op is not None
        return int(op["id"])

    return await h.db.read(lookup)


async def test_listing_narrows_by_type_and_status(h: Harness) -> None:
    await h.ok("!seize domain one.example")
    await h.ok("!seize ip 192.0.2.7 status=seized")
    await h.ok("!seize domain two.example status=seized")
    await h.ok('!op init "Other" code=OTHER tz=UTC tlp=AMBER', room=OTHER_ROOM)
    await h.ok("!seize domain three.example status=seized", room=OTHER_ROOM)
    op_id = await _op_id(h)

    async def seqs(**filters: str) -> list[int]:
        rows = await h.db.read(lambda tx: seizures.listing(tx, op_id, **filters))
        return [row["seq"] for row in rows]

    assert await seqs() == [1, 2, 3]
    assert await seqs(kind="domain") == [1, 3]
    assert await seqs(status="seized") == [2, 3]
    assert await seqs(kind="domain", status="seized") == [3]
    assert await seqs(kind="wallet") == []


async def test_seq_recorded_matches_any_spelling_of_the_same_type(h: Harness) -> None:
    await h.ok("!seize domain one.example")
    await h.ok("!seize ip 192.0.2.7")
    op_id = await _op_id(h)

    async def found(kind: str, *spellings: str) -> int | None:
        return await h.db.read(lambda tx: seizures.seq_recorded(tx, op_id, kind, spellings))

    assert await found("domain", "old-spelling.example", "one.example") == 1
    assert await found("ip", "192.0.2.7") == 2
    assert await found("domain", "192.0.2.7") is None
    assert await found("domain", "other.example") is None
