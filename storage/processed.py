"""Events already handled, each with the reply it got: the guard that nothing is applied
twice, and the record of replies still owed after a crash."""

from __future__ import annotations

from storage.tx import Row, Tx


async def seen(tx: Tx, event_id: str) -> Row | None:
    """The stored reply (JSON text) and whether it was delivered, if the event was handled."""
    return await tx.one("SELECT reply, delivered FROM processed_events WHERE event_id=?",
                        (event_id,))


async def last_handled_at(tx: Tx) -> str | None:
    """When the latest handled command was handled: about when a stopped bot stopped."""
    value = await tx.scalar("SELECT MAX(processed_at) FROM processed_events")
    return value if isinstance(value, str) else None


async def record(tx: Tx, event_id: str, room_id: str, sender: str, reply: str, at: str
                 ) -> None:
    await tx.execute(
        "INSERT INTO processed_events (event_id, room_id, sender, reply, processed_at) "
        "VALUES (?, ?, ?, ?, ?)", (event_id, room_id, sender, reply, at))


async def mark_delivered(tx: Tx, event_id: str) -> None:
    await tx.execute("UPDATE processed_events SET delivered=1 WHERE event_id=?", (event_id,))


async def undelivered(tx: Tx) -> list[Row]:
    return await tx.all("SELECT room_id, event_id, reply FROM processed_events "
                        "WHERE delivered=0 ORDER BY rowid")
