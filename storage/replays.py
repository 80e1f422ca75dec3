"""The megolm message indices of the commands handled, with the event id each first came
with (see bot.crypto.replay: the same ciphertext under a new event id is a replay)."""

from __future__ import annotations

from storage.tx import Tx


async def first_event(tx: Tx, sender_key: str, session_id: str, message_index: int,
                      event_id: str, room_id: str, at: str) -> str:
    """The event id this ciphertext first came with: `event_id` itself unless another
    event already carried it."""
    await tx.execute(
        "INSERT INTO megolm_indices (sender_key, session_id, message_index, event_id, "
        "room_id, seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (sender_key, session_id, message_index, event_id, room_id, at))
    first = await tx.scalar(
        "SELECT event_id FROM megolm_indices WHERE sender_key=? AND session_id=? "
        "AND message_index=?", (sender_key, session_id, message_index))
    assert isinstance(first, str)
    return first


async def recorded_event(tx: Tx, sender_key: str, session_id: str, message_index: int
                         ) -> str | None:
    """The event id this ciphertext was first handled with, if it was (a read, for when
    the disk is full and `first_event` cannot write)."""
    first = await tx.scalar(
        "SELECT event_id FROM megolm_indices WHERE sender_key=? AND session_id=? "
        "AND message_index=?", (sender_key, session_id, message_index))
    return first if isinstance(first, str) else None
