"""Takedowns (K-n) of the synchronized action day, planned at a time or relative to H-hour."""

from __future__ import annotations

from collections.abc import Sequence

from storage.statements import placeholders
from storage.tx import Row, Tx


async def moving_with_hhour(tx: Tx, op_id: int) -> list[Row]:
    """Takedowns planned relative to H-hour that are still to happen: they move when H-hour
    does; done, failed and aborted ones keep the plan they had."""
    return await tx.all("SELECT * FROM takedowns WHERE op_id=? AND h_offset IS NOT NULL "
                        "AND status IN ('planned', 'go')", (op_id,))


async def listing(tx: Tx, op_id: int, *, statuses: Sequence[str] | None = None) -> list[Row]:
    """Takedowns in the order they are planned, those without a time last; `statuses`
    narrows the list to those states."""
    sql = "SELECT * FROM takedowns WHERE op_id=?"
    params: list[object] = [op_id]
    if statuses:
        sql += f" AND status IN ({placeholders(statuses)})"
        params.extend(statuses)
    return await tx.all(sql + " ORDER BY planned_at IS NULL, planned_at, seq", params)
