"""Each command's changes as the audit log holds them, read back for /undo, and the lead
powers a command used (`lead_changes`), kept so that its /undo needs a lead too."""

from __future__ import annotations

from storage.sealing import open_text
from storage.tx import Row, Tx


async def last_undoable(tx: Tx, room_id: str, sender: str) -> str | None:
    """The event id of `sender`'s newest change in the room that is neither an undo nor
    undone already, so repeated /undo walks back through their changes."""
    event_id = await tx.scalar(
        "SELECT event_id FROM audit_log WHERE room_id=? AND sender=? AND undoes IS NULL "
        "AND event_id NOT IN (SELECT undoes FROM audit_log WHERE room_id=? AND undoes IS NOT NULL)"
        " ORDER BY n DESC LIMIT 1",
        (room_id, sender, room_id),
    )
    return str(event_id) if event_id is not None else None


async def of_event(tx: Tx, room_id: str, event_id: str) -> list[Row]:
    """The audit entries one command made, newest first: the order to revert them in; the
    command line opened (storage.sealing)."""
    rows = await tx.all("SELECT * FROM audit_log WHERE room_id=? AND event_id=? ORDER BY n DESC",
                        (room_id, event_id))
    return [{**row, "command": str(open_text(tx.keys, row["command"]))} for row in rows]


async def lead_power_used(tx: Tx, event_id: str) -> str | None:
    what = await tx.scalar("SELECT what FROM lead_changes WHERE event_id=?", (event_id,))
    return str(what) if what is not None else None


async def record_lead_powers(tx: Tx, event_id: str, room_id: str, what: str) -> None:
    """What the command needed a lead for (`Context.lead_powers`), in its transaction."""
    await tx.execute("INSERT INTO lead_changes (event_id, room_id, what) VALUES (?, ?, ?)",
                     (event_id, room_id, what))
