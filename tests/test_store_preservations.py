"""Open requests are those still binding a provider; either list puts the soonest expiry
first."""

from __future__ import annotations

from storage import preservations
from tests.harness import Harness
from tests.store_helpers import OTHER_ROOM, op_id, other_operation


async def test_listing_open_only_and_by_expiry(h: Harness) -> None:
    for line in ("!preserve add A country=US expires=+90d",
                 "!preserve add B country=US expires=+30d",
                 "!preserve add C country=US expires=+10d",
                 "!preserve add D country=US expires=+20d",
                 "!preserve add E country=US expires=+40d",
                 "!preserve add F country=US expires=+50d",
                 "!preserve status P-2 acknowledged",
                 "!preserve status P-3 fulfilled",
                 "!preserve status P-4 withdrawn",
                 "!preserve status P-5 expired",
                 "!preserve status P-6 extended expires=+60d"):
        await h.ok(line)
    await other_operation(h)
    await h.ok("!preserve add G country=US expires=+1d", room=OTHER_ROOM)
    operation = await op_id(h)

    async def seqs(open_only: bool) -> list[int]:
        rows = await h.db.read(lambda tx: preservations.listing(tx, operation,
                                                                 open_only=open_only))
        return [row["seq"] for row in rows]

    assert await seqs(open_only=True) == [2, 6, 1]
    assert await seqs(open_only=False) == [3, 4, 2, 5, 6, 1]
