"""One operation, read once, filtered by TLP, as plain data every export format uses.

Records above the requested TLP level are dropped here and nowhere else, so no format can
leak a RED record into a GREEN export by forgetting a filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commands.validate import TLP_LEVELS
from storage.tx import Row, Tx

RECORD_KINDS = ("tasks", "arrests", "seizures", "takedowns", "assets", "tallies",
                "preservations")
SCHEMA_VERSION = 1


class ExportError(ValueError):
    """A user-facing reason the export cannot be made (unknown room, bad level)."""


@dataclass
class Snapshot:
    op: Row
    tlp: str
    generated_at: str
    agencies: list[Row]
    members: list[Row]
    records: dict[str, list[Row]]
    rollcalls: list[Row]
    columns: dict[str, list[str]] = field(default_factory=dict)
    audit: list[Row] = field(default_factory=list)
    audit_included: bool = False

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.records.values())


def allowed_levels(tlp: str) -> tuple[str, ...]:
    if tlp not in TLP_LEVELS:
        raise ExportError(f"{tlp!r} is not a TLP 2.0 level ({', '.join(TLP_LEVELS)})")
    return TLP_LEVELS[: TLP_LEVELS.index(tlp) + 1]


async def load(tx: Tx, room_id: str, tlp: str | None, generated_at: str, *,
               with_audit: bool = False) -> Snapshot:
    op = await tx.one("SELECT * FROM operations WHERE room_id=?", (room_id,))
    if op is None:
        raise ExportError(f"no operation is bound to room {room_id}")
    level = tlp or op["tlp"]
    levels = allowed_levels(level)
    marks = ", ".join("?" for _ in levels)
    records = {
        kind: await tx.all(f"SELECT * FROM {kind} WHERE op_id=? AND tlp IN ({marks}) "
                           "ORDER BY seq", (op["id"], *levels))
        for kind in RECORD_KINDS
    }
    audit: list[Row] = []
    audit_included = False
    if with_audit:
        # The audit log holds before/after images of every record: it may only travel
        # in an export whose level covers every record of the operation.
        highest = 0
        for kind in RECORD_KINDS:
            for r in await tx.all(f"SELECT DISTINCT tlp FROM {kind} WHERE op_id=?",
                                  (op["id"],)):
                highest = max(highest, TLP_LEVELS.index(r["tlp"]))
        if TLP_LEVELS.index(level) >= highest:
            audit = await tx.all("SELECT * FROM audit_log WHERE room_id=? ORDER BY n",
                                 (room_id,))
            audit_included = True
    return Snapshot(
        op=op,
        tlp=level,
        generated_at=generated_at,
        agencies=await tx.all("SELECT code, country, tz, name FROM agencies WHERE op_id=? "
                              "ORDER BY code", (op["id"],)),
        members=await tx.all("SELECT user_id, agency FROM members WHERE op_id=? "
                             "ORDER BY user_id", (op["id"],)),
        records=records,
        rollcalls=await tx.all("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq",
                               (op["id"],)),
        columns={kind: [c["name"] for c in await tx.all(f"PRAGMA table_info({kind})")
                        if c["name"] not in ("id", "op_id")] for kind in RECORD_KINDS},
        audit=audit,
        audit_included=audit_included,
    )


def public(row: Row) -> dict[str, Any]:
    """A record without its internal keys, as exports show it."""
    return {k: v for k, v in row.items() if k not in ("id", "op_id")}
