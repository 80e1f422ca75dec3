"""Agencies taking part in an operation, and which agency each member works for."""

from __future__ import annotations

from storage.tx import Row, Tx


async def get(tx: Tx, op_id: int, code: str) -> Row | None:
    return await tx.one("SELECT * FROM agencies WHERE op_id=? AND code=?", (op_id, code))


async def codes(tx: Tx, op_id: int) -> list[str]:
    rows = await tx.all("SELECT code FROM agencies WHERE op_id=? ORDER BY code", (op_id,))
    return [r["code"] for r in rows]


async def of_member(tx: Tx, op_id: int, user_id: str) -> Row | None:
    """The agency `user_id` is registered with in the operation (None if not mapped)."""
    return await tx.one(
        "SELECT a.* FROM members m JOIN agencies a ON a.op_id=m.op_id AND a.code=m.agency "
        "WHERE m.op_id=? AND m.user_id=?", (op_id, user_id))


async def code_of_member(tx: Tx, op_id: int, user_id: str) -> str | None:
    """The code `user_id` is registered under, even if that agency is not added yet."""
    code = await tx.scalar("SELECT agency FROM members WHERE op_id=? AND user_id=?",
                           (op_id, user_id))
    return str(code) if code is not None else None


async def zones(tx: Tx, op_id: int) -> list[tuple[str, str]]:
    rows = await tx.all("SELECT code, tz FROM agencies WHERE op_id=? ORDER BY code", (op_id,))
    return [(row["code"], row["tz"]) for row in rows]


async def with_member_counts(tx: Tx, op_id: int) -> list[Row]:
    """Agencies by code, each with `members`: how many members are mapped to it."""
    return await tx.all(
        "SELECT a.*, (SELECT COUNT(*) FROM members m WHERE m.op_id=a.op_id AND m.agency=a.code)"
        " AS members FROM agencies a WHERE a.op_id=? ORDER BY a.code", (op_id,))


async def membership(tx: Tx, op_id: int, user_id: str) -> Row | None:
    return await tx.one("SELECT * FROM members WHERE op_id=? AND user_id=?", (op_id, user_id))
