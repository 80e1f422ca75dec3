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


async def items(tx: Tx, preservation_id: int) -> list[Row]:
    """The seized items (S-n) a request names, by number."""
    return await tx.all("SELECT s.* FROM preservation_items i JOIN seizures s "
                        "ON s.id = i.seizure_id WHERE i.preservation_id=? ORDER BY s.seq",
                        (preservation_id,))


async def parent_of(tx: Tx, request: Row) -> Row | None:
    if request["parent_id"] is None:
        return None
    return await tx.one("SELECT * FROM preservations WHERE id=?", (request["parent_id"],))
