"""Seized or targeted infrastructure (S-n): domains, IPs, URLs, servers, wallets …"""

from __future__ import annotations

from collections.abc import Sequence

from storage.statements import placeholders
from storage.tx import Row, Tx


async def seq_recorded(tx: Tx, op_id: int, kind: str, spellings: Sequence[str]) -> int | None:
    """The number of the item already recorded under any of `spellings` (an indicator may
    have been stored in an older spelling), None if there is none."""
    marks = placeholders(spellings)
    seq = await tx.scalar(f"SELECT seq FROM seizures WHERE op_id=? AND type=? "
                          f"AND value IN ({marks})", (op_id, kind, *spellings))
    return int(seq) if seq is not None else None


async def listing(tx: Tx, op_id: int, *, kind: str | None = None, status: str | None = None
                  ) -> list[Row]:
    """Items in number order; each given filter narrows the list."""
    where: list[str] = ["op_id=?"]
    params: list[object] = [op_id]
    for clause, value in (("type=?", kind), ("status=?", status)):
        if value is not None:
            where.append(clause)
            params.append(value)
    return await tx.all(f"SELECT * FROM seizures WHERE {' AND '.join(where)} ORDER BY seq",
                        params)
