"""Tallies: append-only +N/-N entries per kind (searches, suspects …), summed when read,
so every count can be traced back to who added what."""

from __future__ import annotations

from storage.tx import Row, Tx


async def total(tx: Tx, op_id: int, kind: str) -> int:
    return int(await tx.scalar(
        "SELECT COALESCE(SUM(delta), 0) FROM tallies WHERE op_id=? AND kind=?", (op_id, kind)))


async def totals(tx: Tx, op_id: int) -> list[Row]:
    """`kind` and `total` of every kind ever tallied, zero totals included, by kind."""
    return await tx.all("SELECT kind, SUM(delta) AS total FROM tallies WHERE op_id=? "
                        "GROUP BY kind ORDER BY kind", (op_id,))
