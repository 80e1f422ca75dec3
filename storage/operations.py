"""Operations: one per room, with its phase, H-hour, zone and TLP."""

from __future__ import annotations

from storage.tx import Row, Tx


async def for_room(tx: Tx, room_id: str) -> Row | None:
    return await tx.one("SELECT * FROM operations WHERE room_id=?", (room_id,))


async def by_id(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM operations WHERE id=?", (op_id,))


async def open_ones(tx: Tx, *, with_hhour: bool = False) -> list[Row]:
    """Operations not closed: the ones reminders and boards are still due for (boards only
    where H-hour is set)."""
    return await tx.all("SELECT * FROM operations WHERE phase != 'closed'"
                        + (" AND hhour IS NOT NULL" if with_hhour else ""))


# The kinds /op counts; the SQL takes table names from here, never from what a user typed.
COUNTED = ("agencies", "tasks", "arrests", "seizures", "takedowns", "preservations")


async def record_counts(tx: Tx, op_id: int) -> dict[str, int]:
    counts = ", ".join(f"(SELECT COUNT(*) FROM {table} WHERE op_id=?) AS {table}"
                       for table in COUNTED)
    row = await tx.one(f"SELECT {counts}", (op_id,) * len(COUNTED))
    assert row is not None
    return {table: int(row[table]) for table in COUNTED}
