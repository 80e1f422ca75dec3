"""Which language a member reads in an operation, and the room's own."""

from __future__ import annotations

from storage.tx import Row, Tx


async def member_choice(tx: Tx, op_id: int, user_id: str) -> Row | None:
    """The member's own `/lang` in this operation, if they set one."""
    return await tx.one("SELECT * FROM member_languages WHERE op_id=? AND user_id=?",
                        (op_id, user_id))


async def of_reader(tx: Tx, room_id: str, user_id: str) -> str | None:
    """What `user_id` reads in the operation of `room_id`: their own choice, else their
    agency's default, else the room's; None when none is set (the bot's default then)."""
    found = await tx.scalar(
        "SELECT COALESCE("
        " (SELECT l.lang FROM member_languages l WHERE l.op_id=o.id AND l.user_id=?),"
        " (SELECT a.lang FROM members m JOIN agencies a ON a.op_id=m.op_id AND a.code=m.agency"
        "  WHERE m.op_id=o.id AND m.user_id=?),"
        " o.lang) FROM operations o WHERE o.room_id=?", (user_id, user_id, room_id))
    return str(found) if found is not None else None


async def of_room(tx: Tx, room_id: str) -> str | None:
    """The room's language (what the whole room reads), None when not set."""
    found = await tx.scalar("SELECT lang FROM operations WHERE room_id=?", (room_id,))
    return str(found) if found is not None else None
