"""Operations: one per room, with its phase, H-hour, zone and TLP."""

from __future__ import annotations

from storage.tx import Row, Tx


async def for_room(tx: Tx, room_id: str) -> Row | None:
    return await tx.one("SELECT * FROM operations WHERE room_id=?", (room_id,))
