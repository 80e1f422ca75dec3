"""Numbered records of any kind (T-12, S-4 …), looked up the way users refer to them.

The record tables share `op_id` and `seq` columns, so one query serves every kind; the
table name comes from the framework's own list (`commands.core.records.PREFIX`), never
from what a user typed, and `storage.tx` refuses any table not in `RECORD_TABLES`.
"""

from __future__ import annotations

from storage.tx import RECORD_TABLES, Row, Tx


async def by_seq(tx: Tx, table: str, op_id: int, seq: int) -> Row | None:
    if table not in RECORD_TABLES:
        raise ValueError(f"{table} is not a record table")
    return await tx.one(f"SELECT * FROM {table} WHERE op_id=? AND seq=?", (op_id, seq))
