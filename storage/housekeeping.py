"""Keeping bookkeeping tables from growing without end.

`processed_events` holds one row per command ever handled: the event id that makes a
redelivery harmless and the stored reply. A homeserver redelivers within minutes or, after
the bot's downtime, days; after the retention (90 days by default) the row only costs
space and a bigger index, so it goes. A reply not yet delivered is never pruned: it is
still owed to the room.
"""

from __future__ import annotations

from datetime import datetime

from storage.codec import to_db_time
from storage.tx import Tx

PRUNE_CHUNK = 5000  # rows per transaction, so the writer is never held for long


async def prune_processed_events(tx: Tx, before: datetime) -> int:
    """Delete up to PRUNE_CHUNK delivered rows handled before `before`; returns how many."""
    rows = await tx.all(
        "DELETE FROM processed_events WHERE rowid IN (SELECT rowid FROM processed_events "
        "WHERE delivered = 1 AND processed_at < ? LIMIT ?) RETURNING 1",
        (to_db_time(before), PRUNE_CHUNK))
    return len(rows)
