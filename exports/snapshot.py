"""One operation as every export format reads it: the small parts loaded, the records
streamed from one read transaction, all filtered by TLP.

Records above the requested TLP level are dropped here and nowhere else, so no format can
leak a RED record into a GREEN export by forgetting a filter. The same holds for strings
that travel outside their record: a takedown's target copies its seized item's value, and
the audit log keeps every image a record ever had (a RED task undone is gone from the
tables but not from the log). Records are never all in memory at once: formats iterate
`rows(kind)` and `audit()`, database cursors, and write as they go, so an export of
100,000 records needs no more memory than one of 100.

What is at which level:
- a record, and each audit image of it, at its own `tlp`; an image of a table without a
  label (agencies, members, roll calls and answers, sitrep schedule and notes) at the
  operation's level, the default of everything recorded in it;
- an audit entry travels only when every image in it is at or below the export's level,
  else it is left out whole (its command line may quote what the image held); an entry
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

from commands.validate import TLP_LEVELS
from storage.audit import canonical
from storage.tx import Row

RECORD_KINDS = ("tasks", "arrests", "seizures", "takedowns", "assets", "tallies",
                "preservations")
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

    @property
    def _marks(self) -> str:
        return ", ".join("?" for _ in self.levels)

    def _filter(self, kind: str, where: str) -> tuple[str, tuple[Any, ...]]:
        assert kind in RECORD_KINDS
        sql = f"FROM {kind} WHERE op_id=? AND tlp IN ({self._marks})" + (
            f" AND {where}" if where else "")
        return sql, (self.op["id"], *self.levels)

    def rows(self, kind: str, *, where: str = "", order: str = "seq",
             limit: int | None = None, params: tuple[Any, ...] = ()) -> Iterator[Row]:
        sql, args = self._filter(kind, where)
        select: str = "*"
        select_args: tuple[Any, ...] = ()
        if kind == "takedowns":
            # The target is replaced in SQL, so 100,000 takedowns cost no query each.
            select = (f"*, CASE WHEN seizure_seq IS NULL OR EXISTS (SELECT 1 FROM seizures s "
                      f"WHERE s.op_id=takedowns.op_id AND s.seq=takedowns.seizure_seq AND "
                      f"s.tlp IN ({self._marks})) THEN target ELSE 'S-' || seizure_seq || ? "
                      f"END AS shown_target")
            select_args = (*self.levels, WITHHELD_TARGET)
        sql = f"SELECT {select} {sql} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row in self.conn.execute(sql, (*select_args, *args, *params)):
            if kind == "takedowns":
                row["target"] = row.pop("shown_target")
            yield row

    def count(self, kind: str, where: str = "") -> int:
        sql, args = self._filter(kind, where)
        return self.conn.execute(f"SELECT COUNT(*) AS n {sql}", args).fetchone()["n"]

    def counts_by(self, kind: str, *columns: str) -> dict[tuple[Any, ...], int]:
        """Records at or below the level counted per value of `columns` (the pdf's charts),
        aggregated in SQL so 100,000 records cost no Python loop."""
        assert columns and all(c in self.columns[kind] for c in columns)
        sql, args = self._filter(kind, "")
        names = ", ".join(columns)
        return {tuple(r[c] for c in columns): r["n"] for r in self.conn.execute(
            f"SELECT {names}, COUNT(*) AS n {sql} GROUP BY {names}", args)}

    def levels_used(self, *kinds: str) -> set[str]:
        used: set[str] = set()
        for kind in kinds:
            sql, args = self._filter(kind, "")
            used |= {r["tlp"] for r in self.conn.execute(f"SELECT DISTINCT tlp {sql}", args)}
        return used

    def audit(self) -> Iterator[Row]:
        """The room's audit entries that may travel at this level (see the module's
        docstring), oldest first; counts those left out in `audit_withheld`."""
        if not self.audit_included:
            return
        def shown(entry: str) -> str:
            image = f"COALESCE(json_extract({entry}.{{0}}, '$.tlp'), ?) IN ({self._marks})"
            return (f"({entry}.before IS NULL OR {image.format('before')}) AND "
                    f"({entry}.after IS NULL OR {image.format('after')})")

        level_args = (self.op["tlp"], *self.levels) * 2
        entries = self.conn.execute(
            f"SELECT a.*, {shown('a')} AS shown, NOT EXISTS (SELECT 1 FROM audit_log s "
            f"WHERE s.room_id=a.room_id AND s.event_id=a.event_id AND s.n<>a.n AND NOT "
            f"({shown('s')})) AS whole_command FROM audit_log a WHERE a.room_id=? ORDER BY a.n",
            (*level_args, *level_args, self.op["room_id"]))
        for entry in entries:
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
        if seized is None or self.conn.execute(
                f"SELECT 1 FROM seizures WHERE op_id=? AND seq=? AND tlp IN ({self._marks})",
                (self.op["id"], seized, *self.levels)).fetchone():
            return image
        takedown["target"] = f"S-{seized}{WITHHELD_TARGET}"
        return canonical(takedown)


def allowed_levels(tlp: str) -> tuple[str, ...]:
    if tlp not in TLP_LEVELS:
        raise ExportError(f"{tlp!r} is not a TLP 2.0 level ({', '.join(TLP_LEVELS)})")
    return TLP_LEVELS[: TLP_LEVELS.index(tlp) + 1]


def load(conn: sqlite3.Connection, room_id: str, tlp: str | None, generated_at: str, *,
         with_audit: bool = False) -> Snapshot:
    op = conn.execute("SELECT * FROM operations WHERE room_id=?", (room_id,)).fetchone()
    if op is None:
        raise ExportError(f"no operation is bound to room {room_id}")
    level = tlp or op["tlp"]
    allowed_levels(level)

    def rows(sql: str) -> list[Row]:
        return conn.execute(sql, (op["id"],)).fetchall()

    snap = Snapshot(
        conn=conn,
        op=op,
        tlp=level,
        generated_at=generated_at,
        agencies=rows("SELECT code, country, tz, name FROM agencies WHERE op_id=? "
                      "ORDER BY code"),
        members=rows("SELECT user_id, agency FROM members WHERE op_id=? ORDER BY user_id"),
        rollcalls=rows("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq"),
        counts={},
        columns={kind: [c["name"] for c in conn.execute(f"PRAGMA table_info({kind})")
                        if c["name"] not in ("id", "op_id")] for kind in RECORD_KINDS},
    )
    snap.counts = {kind: snap.count(kind) for kind in RECORD_KINDS}
    snap.audit_included = with_audit
    return snap


def public(row: Row) -> dict[str, Any]:
    """A record without its internal keys, as exports show it."""
    return {k: v for k, v in row.items() if k not in ("id", "op_id")}
