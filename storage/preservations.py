"""Expedited-preservation and MLA requests (P-n) and when they run out."""

from __future__ import annotations

from storage.statements import placeholders
from storage.tx import Row, Tx

# A request in one of these states still binds the provider, so it can still run out.
OPEN = ("sent", "acknowledged", "extended")


async def listing(tx: Tx, op_id: int, *, open_only: bool) -> list[Row]:
    """Requests, the soonest to expire first."""
    sql = "SELECT * FROM preservations WHERE op_id=?"
    params: list[object] = [op_id]
    if open_only:
        sql += f" AND status IN ({placeholders(OPEN)})"
        params.extend(OPEN)
    return await tx.all(sql + " ORDER BY expires_at, seq", params)
