"""One operation as every export format reads it: the small parts loaded, the records
streamed from one read transaction, all filtered by TLP.

Records above the requested TLP level are dropped here and nowhere else (the queries in
storage/exports.py apply the levels this module hands them), so no format can leak a RED
record into a GREEN export by forgetting a filter. The same holds for strings
that travel outside their record: a takedown's target copies its seized item's value, and
the audit log keeps every image a record ever had (a RED task undone is gone from the
tables but not from the log). Records are never all in memory at once: formats iterate
`rows(kind)` and `audit()`, database cursors, and write as they go, so an export of
100,000 records needs no more memory than one of 100.

What is at which level:
- a record, and each audit image of it, at its own `tlp`; an image of a table without a
  label (agencies, members, roll calls and answers, sitrep schedule and notes) at the
  operation's level, the default of everything recorded in it;
- an audit entry travels only when every image its record ever had is at or below the
  export's level: a record is at the highest level it ever held, so raising it protects
  its past too (a task raised to RED keeps its AMBER text out of an AMBER export). Else
  the entry is left out whole (its command line may quote what the image held); an entry
  kept whose command also changed a record left out shows no command line;
- a takedown's target names its seized item's value only while that item is in the
  export; otherwise it shows "S-n (withheld)", wherever the takedown appears;
- the operation's own name, code, zone, phase and H-hour identify the export and go with
  it at every level (its `tlp` is the default for records, not a label of the name).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commands import tr, validate
from storage import exports as store
from storage.audit import canonical
from storage.exports import RECORD_KINDS
from storage.tx import Row

SCHEMA_VERSION = 1
WITHHELD_TARGET = " (withheld)"  # after "S-n", for a seized item not in the export
WITHHELD_COMMAND = "(withheld: this command also changed records above the export's level)"


class ExportError(ValueError):
    """A user-facing reason the export cannot be made (unknown room, bad level)."""


@dataclass
class Snapshot:
    conn: sqlite3.Connection
    op: Row
    tlp: str
    generated_at: str
    agencies: list[Row]
    members: list[Row]
    rollcalls: list[Row]
    counts: dict[str, int]
    columns: dict[str, list[str]] = field(default_factory=dict)
    audit_included: bool = False
    audit_withheld: int = 0  # entries left out so far by audit()
    workdir: Path | None = None  # for a format's scratch files: next to the output

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def levels(self) -> tuple[str, ...]:
        return allowed_levels(self.tlp)

    def rows(self, kind: str, *, seq: int | None = None, order: store.Order = "number",
             limit: int | None = None) -> Iterator[Row]:
        """Records of `kind` at the export's levels, in one of `storage.exports.ORDERS`;
        `seq` picks one."""
        for row in store.records(self.conn, kind, self.op["id"], self.levels, seq=seq,
                                 order=order, limit=limit):
            if kind == "takedowns" and not row.pop("seizure_shown"):
                row["target"] = f"S-{row['seizure_seq']}{WITHHELD_TARGET}"
            yield row

    def indicators(self) -> Iterator[Row]:
        """The indicators the operation holds, one selection for every format that carries
        indicators (STIX, MISP): each seized or targeted item, whatever its type (domain,
        IP, URL, server, wallet, account, device, other). Assets are amounts, not indicators."""
        return self.rows("seizures")

    def count(self, kind: str, *, status: str | None = None) -> int:
        return store.count(self.conn, kind, self.op["id"], self.levels, status=status)

    def counts_by(self, kind: str, *columns: str) -> dict[tuple[Any, ...], int]:
        """Records at or below the level counted per value of `columns` (the pdf's charts),
        aggregated in SQL so 100,000 records cost no Python loop."""
        assert columns and all(c in self.columns[kind] for c in columns)
        return store.counts_by(self.conn, kind, self.op["id"], self.levels, columns)

    def levels_used(self, *kinds: str) -> set[str]:
        used: set[str] = set()
        for kind in kinds:
            used |= store.levels_used(self.conn, kind, self.op["id"], self.levels)
        return used

    def audit(self) -> Iterator[Row]:
        """The room's audit entries that may travel at this level (see the module's
        docstring), oldest first; counts those left out in `audit_withheld`."""
        if not self.audit_included:
            return
        for entry in store.audit_entries(self.conn, self.op["room_id"], self.levels,
                                         unlabelled=self.op["tlp"]):
            if not entry.pop("shown"):
                self.audit_withheld += 1
                continue
            if not entry.pop("whole_command"):
                entry["command"] = WITHHELD_COMMAND
            if entry["tbl"] == "takedowns":
                entry["before"] = self._takedown_image(entry["before"])
                entry["after"] = self._takedown_image(entry["after"])
            yield entry

    def _takedown_image(self, image: str | None) -> str | None:
        """A takedown's audit image with its target shown as `rows` shows it."""
        if image is None:
            return None
        takedown = json.loads(image)
        seized = takedown.get("seizure_seq")
        if seized is None or store.seizure_shown(self.conn, self.op["id"], seized, self.levels):
            return image
        takedown["target"] = f"S-{seized}{WITHHELD_TARGET}"
        return canonical(takedown)


def allowed_levels(tlp: str) -> tuple[str, ...]:
    if tlp not in validate.TLP_LEVELS:
        raise ExportError(tr("{level} is not a TLP 2.0 level ({levels})").format(
            level=repr(tlp), levels=", ".join(validate.TLP_LEVELS)))
    return validate.levels_up_to(tlp)


def load(conn: sqlite3.Connection, room_id: str, tlp: str | None, generated_at: str, *,
         with_audit: bool = False) -> Snapshot:
    op = store.operation(conn, room_id)
    if op is None:
        raise ExportError(tr("no operation is bound to room {room}").format(room=room_id))
    level = tlp or op["tlp"]
    allowed_levels(level)
    snap = Snapshot(
        conn=conn,
        op=op,
        tlp=level,
        generated_at=generated_at,
        agencies=store.agencies(conn, op["id"]),
        members=store.members(conn, op["id"]),
        rollcalls=store.rollcalls(conn, op["id"]),
        counts={},
        columns={kind: [name for name in store.columns(conn, kind)
                        if name not in ("id", "op_id")] for kind in RECORD_KINDS},
    )
    snap.counts = {kind: snap.count(kind) for kind in RECORD_KINDS}
    snap.audit_included = with_audit
    return snap


def public(row: Row) -> dict[str, Any]:
    """A record without its internal keys, as exports show it."""
    return {k: v for k, v in row.items() if k not in ("id", "op_id")}
