"""storage.arrests: /arrest list's filters narrow the list, and only this operation counts."""

from __future__ import annotations

from storage import arrests
from storage.operations import for_room
from storage.tx import Tx
from tests.harness import Harness

OTHER_ROOM = "!other:localhost"


async def arrests_recorded(h: Harness) -> tuple[int, int]:
    """A-1 FR by FR-OFAC, A-2 DE by DE-BKA, A-3 DE by FR-OFAC; one arrest in another op."""
    for line in ("!arrest add R1 country=FR agency=FR-OFAC",
                 "!arrest add R2 country=DE agency=DE-BKA",
                 "!arrest add R3 country=DE agency=FR-OFAC"):
        await h.ok(line)
    await h.ok('!op init "Operation Other" code=OTHER', room=OTHER_ROOM)
    await h.ok("!agency add FR-OFAC country=FR tz=Europe/Paris", room=OTHER_ROOM)
    await h.ok("!arrest add R9 country=FR agency=FR-OFAC", room=OTHER_ROOM)

    async def op_ids(tx: Tx) -> tuple[int, int]:
        ours, theirs = await for_room(tx, h.room), await for_room(tx, OTHER_ROOM)
        assert ours is not None and theirs is not None
        return ours["id"], theirs["id"]

    return await h.db.read(op_ids)


async def test_filters_narrow_the_list_in_number_order(h: Harness) -> None:
    op_id, _ = await arrests_recorded(h)

    async def refs(tx: Tx) -> dict[str, list[str]]:
        return {name: [row["ref"] for row in await arrests.listing(tx, op_id, **filters)]
                for name, filters in (("all", {}), ("DE", {"country": "DE"}),
                                      ("FR-OFAC", {"agency": "FR-OFAC"}),
                                      ("DE by FR-OFAC", {"country": "DE", "agency": "FR-OFAC"}),
                                      ("none", {"country": "NL"}))}

    assert await h.db.read(refs) == {"all": ["R1", "R2", "R3"], "DE": ["R2", "R3"],
                                     "FR-OFAC": ["R1", "R3"], "DE by FR-OFAC": ["R3"],
                                     "none": []}


async def test_the_total_counts_only_this_operation(h: Harness) -> None:
    op_id, other_id = await arrests_recorded(h)

    async def totals(tx: Tx) -> tuple[int, int]:
        return await arrests.total(tx, op_id), await arrests.total(tx, other_id)

    assert await h.db.read(totals) == (3, 1)
