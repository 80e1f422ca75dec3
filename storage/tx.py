"""A transaction handle whose every record change is written to the audit log.

Record tables are only changed through `insert`, `update` and `delete` here, so no code
path can change a record without leaving who/when/which-event/before/after behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage import audit
from storage.audit import Actor
from storage.statements import Row, Runner, Statements, placeholders

# Actor and Row are imported from here by the rest of the project; they live in
# storage.audit and storage.statements so that the audit log needs nothing of this module.
__all__ = ["RECORD_TABLES", "Actor", "Row", "Tx"]

# Tables a command may change; anything else is refused so a typo cannot write elsewhere.
RECORD_TABLES = frozenset(
    {
        "operations",
        "agencies",
        "members",
        "member_languages",
        "tasks",
        "arrests",
        "seizures",
        "takedowns",
        "rollcalls",
        "rollcall_answers",
        "assets",
        "tallies",
        "preservations",
        "preservation_items",
        "forms",
        "request_deadlines",
        "partner_links",
        "partner_assignments",
        "partner_reports",
        "sitrep_schedules",
        "sitrep_notes",
        "identities",
        "deconfliction_sides",
        "audit_acks",
    }
)


class Tx(Statements):
    def __init__(self, runner: Runner, actor: Actor | None) -> None:
        super().__init__(runner)
        self.actor = actor

    # -- sequence numbers ---------------------------------------------------------------
    async def next_seq(self, op_id: int, kind: str) -> int:
        """Per-operation number (T-12). Counters only grow, so /undo never frees a number."""
        return int(await self.scalar(
            "INSERT INTO counters (op_id, kind, last) VALUES (?, ?, 1) "
            "ON CONFLICT (op_id, kind) DO UPDATE SET last = last + 1 RETURNING last",
            (op_id, kind),
        ))

    # -- audited changes ----------------------------------------------------------------
    def _need_actor(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("record changes need an Actor for the audit log")
        return self.actor

    async def get(self, table: str, row_id: int) -> Row | None:
        _check_table(table)
        return await self.one(f"SELECT * FROM {table} WHERE id=?", (row_id,))

    async def insert(self, table: str, values: Mapping[str, Any], *, undoes: str | None = None
                     ) -> Row:
        _check_table(table)
        actor = self._need_actor()
        cols = list(values)
        sql = (f"INSERT INTO {table} ({', '.join(cols)}) "
               f"VALUES ({placeholders(cols)}) RETURNING *")
        after = await self.one(sql, [values[c] for c in cols])
        assert after is not None
        row_id = after["id"]
        await audit.append(self, actor, "insert", table, row_id, None, after, undoes=undoes)
        return after

    async def update(self, table: str, row_id: int, changes: Mapping[str, Any], *,
                     undoes: str | None = None) -> tuple[Row, Row]:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        real = {k: v for k, v in changes.items() if before.get(k) != v}
        if not real:
            return before, before
        sets = ", ".join(f"{c}=?" for c in real)
        after = await self.one(f"UPDATE {table} SET {sets} WHERE id=? RETURNING *",
                               (*real.values(), row_id))
        assert after is not None
        await audit.append(self, actor, "update", table, row_id, before, after, undoes=undoes)
        return before, after

    async def delete(self, table: str, row_id: int, *, undoes: str | None = None) -> Row:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        await self.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))
        await audit.append(self, actor, "delete", table, row_id, before, None, undoes=undoes)
        return before


def _check_table(table: str) -> None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
