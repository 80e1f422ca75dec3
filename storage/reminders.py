"""Reminders already posted (or skipped), and the records a reminder may be due for.

The tasks and preservation requests are read here rather than with their kinds because
which of them count (not done and due, open and not yet expired) is the reminders' rule.
"""

from __future__ import annotations

from storage.preservations import RUNNING_OUT
from storage.statements import placeholders
from storage.tx import Row, Tx


async def unsent(tx: Tx, op_id: int, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    marks = placeholders(keys)
    sent = await tx.all(f"SELECT key FROM reminders_sent WHERE op_id=? AND key IN ({marks})",
                        (op_id, *keys))
    return set(keys) - {row["key"] for row in sent}


async def claim(tx: Tx, op_id: int, key: str, at: str, *, late: bool, skipped: bool) -> bool:
    """False if the key was already claimed, so each reminder is posted once."""
    await tx.execute(
        "INSERT OR IGNORE INTO reminders_sent (op_id, key, sent_at, late, skipped) "
        "VALUES (?, ?, ?, ?, ?)", (op_id, key, at, int(late), int(skipped)))
    return bool(await tx.scalar("SELECT changes()") == 1)


async def overdue_tasks(tx: Tx, op_id: int, now: str) -> list[Row]:
    return await tx.all("SELECT * FROM tasks WHERE op_id=? AND status != 'done' AND "
                        "due IS NOT NULL AND due <= ?", (op_id, now))


async def open_preservations(tx: Tx, op_id: int, now: str) -> list[Row]:
    """Open requests that can still run out and have not expired yet."""
    marks = placeholders(RUNNING_OUT)
    return await tx.all(f"SELECT * FROM preservations WHERE op_id=? AND status IN ({marks}) "
                        "AND expires_at > ?", (op_id, *RUNNING_OUT, now))


async def first_assigned(tx: Tx, link_id: int, table: str, row_ids: list[int]) -> str | None:
    """When the first of these records was assigned to the partner of `link_id`: a
    reminder that passed before then had nothing to remind them of."""
    if not row_ids:
        return None
    found = await tx.scalar(
        f"SELECT MIN(created_at) FROM partner_assignments WHERE link_id=? AND tbl=? AND "
        f"row_id IN ({placeholders(row_ids)})", (link_id, table, *row_ids))
    return str(found) if found is not None else None
