"""Which personal records are due for erasure.

A stand-in with the shape the retention policy has (helper "retention" writes the real
one, with periods per operation, extensions and holds): a closed operation's records of
one category are due once `closed_at` plus the category's period has passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.codec import from_db_time
from storage.erasures import of_category
from storage.personal import CATEGORIES, OTHER, SUSPECT, VICTIM, WITNESS
from storage.statements import Statements

DEFAULTS: Mapping[str, timedelta] = {
    SUSPECT: timedelta(days=3 * 365), VICTIM: timedelta(days=365),
    WITNESS: timedelta(days=365), OTHER: timedelta(days=365),
}


@dataclass(frozen=True)
class DueScope:
    op_id: int
    room_id: str
    category: str
    records: list[tuple[str, int, int | None]] = field(default_factory=list)


async def due_for_erasure(tx: Statements, now: datetime,
                          defaults: Mapping[str, timedelta] = DEFAULTS) -> list[DueScope]:
    """Per closed operation and category, the records not erased whose period has run."""
    due: list[DueScope] = []
    for op in await tx.all("SELECT id, room_id, closed_at FROM operations "
                           "WHERE closed_at IS NOT NULL ORDER BY id"):
        closed = from_db_time(op["closed_at"])
        for category in CATEGORIES:
            if closed + defaults[category] > now:
                continue
            records = [(t.tbl, t.row_id, t.subject_key)
                       for t in await of_category(tx, op["id"], category)]
            if records:
                due.append(DueScope(op["id"], op["room_id"], category, records))
    return due
