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


async def referrers(tx: Tx, table: str, row_id: int) -> list[tuple[str, Row]]:
    """The record rows that point at `table` row `row_id` through a foreign key (an item
    named on a request, a request followed by another): deleting the row would break them,
    and SQLite refuses it."""
    found: list[tuple[str, Row]] = []
    for other in sorted(RECORD_TABLES):
        keys = await tx.all(f"PRAGMA foreign_key_list({other})")
        for column in sorted({k["from"] for k in keys if k["table"] == table}):
            rows = await tx.all(f"SELECT * FROM {other} WHERE {column}=? ORDER BY id", (row_id,))
            found.extend((other, row) for row in rows)
    # A partner's assignment names its record by table and row id, not by a foreign key:
    # SQLite gives a deleted row's id to the next row, which would then be assigned unseen.
    rows = await tx.all("SELECT * FROM partner_assignments WHERE tbl=? AND row_id=? "
                        "ORDER BY id", (table, row_id))
    found.extend(("partner_assignments", row) for row in rows)
    return found
