"""Frozen or seized assets (M-n), fiat or crypto.

Amounts are stored as Decimal text and summed as Decimal, never with SQL's SUM, which
goes through floating point (0.1 + 0.2 BTC must be exactly 0.3 BTC).
"""

from __future__ import annotations

from decimal import Decimal

from storage.tx import Row, Tx


async def total(tx: Tx, op_id: int, action: str, currency: str) -> Decimal:
    rows = await tx.all("SELECT amount FROM assets WHERE op_id=? AND action=? AND currency=?",
                        (op_id, action, currency))
    return sum((Decimal(row["amount"]) for row in rows), Decimal(0))


async def listing(tx: Tx, op_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM assets WHERE op_id=? ORDER BY seq", (op_id,))
