"""Arrests (A-n): a suspect reference, never a name, and the agency that holds the identity."""

from __future__ import annotations

from storage.tx import Row, Tx


async def total(tx: Tx, op_id: int) -> int:
    return int(await tx.scalar("SELECT COUNT(*) FROM arrests WHERE op_id=?", (op_id,)))


async def listing(tx: Tx, op_id: int, *, country: str | None = None,
                  agency: str | None = None) -> list[Row]:
    """Arrests in number order; each given filter narrows the list."""
    where: list[str] = ["op_id=?"]
    params: list[object] = [op_id]
    for clause, value in (("country=?", country), ("agency=?", agency)):
        if value is not None:
            where.append(clause)
            params.append(value)
    return await tx.all(f"SELECT * FROM arrests WHERE {' AND '.join(where)} ORDER BY seq",
                        params)
