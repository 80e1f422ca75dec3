"""A transaction handle whose every record change is written to the audit log.

Record tables are only changed through `insert`, `update` and `delete` here, so no code
path can change a record without leaving who/when/which-event/before/after behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage import audit
from storage.audit import Actor
from storage.keystore import KeyStore
from storage.personal import OTHER, default_category, personal_fields
from storage.sealing import from_token, is_token, opened_row, seal, token
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
        "retention_policies",
        "holds",
        "erasures",
    }
)


class Tx(Statements):
    def __init__(self, runner: Runner, actor: Actor | None,
                 keys: KeyStore | None = None) -> None:
        super().__init__(runner, keys)
        self.actor = actor
        self._command: str | None = None

    def logged_command(self, actor: Actor) -> str:
        """The command line as the audit log keeps it: sealed under a key of its own, once
        per command, since it may quote any personal value the command recorded. Erasing a
        record destroys the keys of the commands that touched it (storage.sealing). Public
        for an entry written with storage.audit.append directly (one change logged in two
        rooms' chains)."""
        if self._command is None:
            store = self.keys
            if store is None or not store.seal_new:
                self._command = actor.command
            else:
                key_id, aead = store.new_key("audit_log", OTHER, actor.at)
                self._command = token(seal(aead, key_id, "audit_log", "command", actor.command))
        return self._command

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
        plain = values
        if personal_fields(table):
            values = self._sealed_record(table, values, actor)
        cols = list(values)
        sql = (f"INSERT INTO {table} ({', '.join(cols)}) "
               f"VALUES ({placeholders(cols)}) RETURNING *")
        [raw] = await self.runner.fetchall(sql, tuple(values[c] for c in cols))
        after = opened_row(self.keys, dict(raw), plain)
        row_id = after["id"]
        await audit.append(self, actor, "insert", table, row_id, None, after, undoes=undoes,
                           command=self.logged_command(actor))
        return after

    async def update(self, table: str, row_id: int, changes: Mapping[str, Any], *,
                     undoes: str | None = None, sealed: bool = True) -> tuple[Row, Row]:
        """`sealed=False`: personal values written as given, in clear; only an erasure does
        that, to leave ERASED where its purge removed the ciphertext."""
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        real = {k: v for k, v in changes.items() if before.get(k) != v}
        if not real:
            return before, before
        if sealed and set(real) & set(personal_fields(table)):
            real = self._sealed_changes(table, before, real, actor)
        sets = ", ".join(f"{c}=?" for c in real)
        after = await self.one(f"UPDATE {table} SET {sets} WHERE id=? RETURNING *",
                               (*real.values(), row_id))
        assert after is not None
        await audit.append(self, actor, "update", table, row_id, before, after, undoes=undoes,
                           command=self.logged_command(actor))
        return before, after

    async def delete(self, table: str, row_id: int, *, undoes: str | None = None) -> Row:
        _check_table(table)
        actor = self._need_actor()
        before = await self.get(table, row_id)
        if before is None:
            raise LookupError(f"{table} row {row_id} does not exist")
        await self.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))
        await audit.append(self, actor, "delete", table, row_id, before, None, undoes=undoes,
                           command=self.logged_command(actor))
        return before


    # -- sealing personal fields (storage.sealing) ------------------------------------------
    def _sealed_record(self, table: str, values: Mapping[str, Any], actor: Actor
                       ) -> dict[str, Any]:
        """A new record's personal fields sealed under a key of its own; a record put back
        by /undo brings its sealed values and key from the log instead."""
        out = dict(values)
        if out.get("subject_category") is None:
            out["subject_category"] = default_category(table)
        fields = [f for f in personal_fields(table) if out.get(f) is not None]
        if any(is_token(out[f]) for f in fields):
            for f in fields:
                out[f] = from_token(out[f]) if is_token(out[f]) else out[f]
            return out
        store = self.keys
        if not fields or store is None or not store.seal_new:
            return out
        key_id, aead = store.new_key(table, out["subject_category"], actor.at)
        out["subject_key"] = key_id
        for f in fields:
            out[f] = seal(aead, key_id, table, f, str(out[f]))
        return out

    def _sealed_changes(self, table: str, before: Row, changes: Mapping[str, Any],
                        actor: Actor) -> dict[str, Any]:
        out = dict(changes)
        store = self.keys
        if store is None or not store.seal_new:
            return out
        key_id = before.get("subject_key")
        aead = store.aead(int(key_id)) if key_id is not None else None
        # marked by an erasure whose keys are not destroyed yet: a value sealed now would
        # outlive it under a command key the erasure never saw
        if (key_id is not None and aead is None) or before.get("erased_by") is not None:
            raise ErasedRecord(table, int(before["id"]), before.get("seq"))
        for f in personal_fields(table):
            value = out.get(f)
            if value is None or f not in out:
                continue
            if is_token(value):
                out[f] = from_token(value)
                continue
            if aead is None:
                category = before.get("subject_category") or default_category(table)
                new_id, aead = store.new_key(table, category, actor.at)
                key_id = out["subject_key"] = new_id
            assert key_id is not None
            out[f] = seal(aead, int(key_id), table, f, str(value))
        return out


class ErasedRecord(LookupError):
    """A record whose subject was erased: its personal fields can no longer change."""

    def __init__(self, table: str, row_id: int, seq: int | None = None) -> None:
        super().__init__(f"{table} row {row_id} was erased")
        self.table, self.row_id, self.seq = table, row_id, seq


def _check_table(table: str) -> None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
