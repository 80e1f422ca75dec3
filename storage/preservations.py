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


async def items(tx: Tx, preservation_id: int) -> list[Row]:
    """The seized items (S-n) a request names, in number order: what it asks to preserve."""
    return await tx.all("SELECT s.* FROM preservation_items i "
                        "JOIN seizures s ON s.id = i.seizure_id "
                        "WHERE i.preservation_id=? ORDER BY s.seq", (preservation_id,))


async def link_of(tx: Tx, preservation_id: int, seizure_id: int) -> Row | None:
    """The row naming `seizure_id` on the request, which unlinking deletes."""
    return await tx.one("SELECT * FROM preservation_items WHERE preservation_id=? AND seizure_id=?",
                        (preservation_id, seizure_id))


async def link(tx: Tx, request: Row, seizure_id: int, *, by: str, at: str) -> Row:
    """Name a seized item on a request, audited like every record change (so /undo works)."""
    return await tx.insert("preservation_items", {
        "op_id": request["op_id"], "preservation_id": request["id"], "seizure_id": seizure_id,
        "created_by": by, "created_at": at})


async def unlink(tx: Tx, row: Row) -> Row:
    return await tx.delete("preservation_items", row["id"])


async def item_seqs(tx: Tx, op_id: int) -> dict[int, list[int]]:
    """The S-n numbers each request of the operation names, by request id: one query for a
    whole listing."""
    rows = await tx.all("SELECT i.preservation_id, s.seq FROM preservation_items i "
                        "JOIN seizures s ON s.id = i.seizure_id WHERE i.op_id=? "
                        "ORDER BY i.preservation_id, s.seq", (op_id,))
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row["preservation_id"], []).append(row["seq"])
    return found


async def parent_seqs(tx: Tx, op_id: int) -> dict[int, int]:
    """The P-n each follow-the-hop request follows, by the child's id (the parent may be
    closed and so absent from an open-only listing)."""
    rows = await tx.all("SELECT c.id, p.seq FROM preservations c "
                        "JOIN preservations p ON p.id = c.parent_id WHERE c.op_id=?", (op_id,))
    return {row["id"]: row["seq"] for row in rows}


async def parent_of(tx: Tx, request: Row) -> Row | None:
    if request["parent_id"] is None:
        return None
    return await tx.one("SELECT * FROM preservations WHERE id=?", (request["parent_id"],))
