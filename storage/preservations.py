"""Expedited-preservation and MLA requests (P-n) and when they run out."""

from __future__ import annotations

from storage.statements import placeholders
from storage.tx import Row, Tx

# A request in one of these states still binds the provider.
OPEN = ("sent", "acknowledged", "extended", "confirmed")
# Open and can still run out: `confirmed` (Regulation 2023/1543 Annex V: a production
# request followed the preservation order) keeps the data until they are produced.
RUNNING_OUT = ("sent", "acknowledged", "extended")


async def listing(tx: Tx, op_id: int, *, open_only: bool) -> list[Row]:
    """Requests, the soonest to expire first."""
    sql = "SELECT * FROM preservations WHERE op_id=?"
    params: list[object] = [op_id]
    if open_only:
        sql += f" AND status IN ({placeholders(OPEN)})"
        params.extend(OPEN)
    return await tx.all(sql + " ORDER BY expires_at, seq", params)
