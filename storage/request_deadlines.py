"""The deadlines a form draft (F-n) sets running on its request (P-n), other than its
preservation period (that one is the P-n's expiry), for the reminders.

A deadline is a record (audited, undoable): moving a form's `sent` moves its deadlines, and
the audit says who moved them. Each form holds one row per kind, so a changed draft
updates the row in place.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.preservations import OPEN
from storage.statements import placeholders
from storage.tx import Row, Tx


async def replace(tx: Tx, op_id: int, preservation_id: int, form_id: int,
                  deadlines: Iterable[tuple[str, str]], by: str, at: str) -> bool:
    """Make the form's deadlines exactly these (kind, due_at); True if anything changed."""
    wanted = dict(deadlines)
    held = {row["kind"]: row for row in await tx.all(
        "SELECT * FROM request_deadlines WHERE form_id=? ORDER BY id", (form_id,))}
    changed = False
    for kind, row in held.items():
        if kind not in wanted:
            await tx.delete("request_deadlines", row["id"])
            changed = True
        elif row["due_at"] != wanted[kind]:
            await tx.update("request_deadlines", row["id"], {"due_at": wanted[kind]})
            changed = True
    for kind, due_at in wanted.items():
        if kind not in held:
            await tx.insert("request_deadlines", {
                "op_id": op_id, "preservation_id": preservation_id, "form_id": form_id,
                "kind": kind, "due_at": due_at, "created_by": by, "created_at": at})
            changed = True
    return changed


async def open_due(tx: Tx, op_id: int, until: str) -> list[Row]:
    """Deadlines due at or before `until` whose request is still open, with what a reminder
    names: the form (`form_seq`, `form`) and the request (`request_seq`, `provider`,
    `country`, `status`, `sent_at`, `expires_at`)."""
    marks = placeholders(OPEN)
    return await tx.all(
        "SELECT d.id, d.form_id, d.kind, d.due_at, f.seq AS form_seq, f.form, "
        "p.seq AS request_seq, p.provider, p.country, p.status, p.sent_at, p.expires_at "
        "FROM request_deadlines d JOIN forms f ON f.id = d.form_id "
        "JOIN preservations p ON p.id = d.preservation_id "
        f"WHERE d.op_id=? AND d.due_at <= ? AND p.status IN ({marks}) "
        "ORDER BY d.due_at, d.id", (op_id, until, *OPEN))
