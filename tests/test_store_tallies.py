"""A tally counts one kind of one operation; the overview keeps kinds corrected to zero."""

from __future__ import annotations

from storage import tallies
from tests.harness import Harness
from tests.store_helpers import OTHER_ROOM, op_id, other_operation


async def test_total_and_totals_per_kind(h: Harness) -> None:
    for line in ("!tally searches +12", "!tally searches -2", "!tally suspects +3",
                 "!tally warrants +1", "!tally warrants -1"):
        await h.ok(line)
    await other_operation(h)
    await h.ok("!tally searches +50", room=OTHER_ROOM)
    operation = await op_id(h)

    assert await h.db.read(lambda tx: tallies.total(tx, operation, "searches")) == 10
    assert await h.db.read(lambda tx: tallies.total(tx, operation, "victims-notified")) == 0
    overview = await h.db.read(lambda tx: tallies.totals(tx, operation))
    assert overview == [{"kind": "searches", "total": 10}, {"kind": "suspects", "total": 3},
                        {"kind": "warrants", "total": 0}]
