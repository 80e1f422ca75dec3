"""Reaching the store functions of an operation set up through commands."""

from __future__ import annotations

from storage import operations
from storage.tx import Tx
from tests.harness import ROOM, Harness


async def op_id(h: Harness, room: str = ROOM) -> int:
    async def lookup(tx: Tx) -> int:
        op = await operations.for_room(tx, room)
        assert op is not None, f"no operation in {room}"
        return int(op["id"])

    return await h.db.read(lookup)


OTHER_ROOM = "!other:localhost"


async def other_operation(h: Harness) -> None:
    """A second operation, whose records no query of the first may return."""
    await h.ok('!op init "Other" code=OTHER tz=UTC tlp=AMBER', room=OTHER_ROOM)
