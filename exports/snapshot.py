"""One operation as every export format reads it: the small parts loaded, the records
streamed from one read transaction, all filtered by TLP.

Records above the requested TLP level are dropped here and nowhere else, so no format can
leak a RED record into a GREEN export by forgetting a filter. Records are never all in
memory at once: formats iterate `rows(kind)`, a database cursor, and write as they go, so
an export of 100,000 records needs no more memory than one of 100.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commands.validate import TLP_LEVELS
from storage.tx import Row

RECORD_KINDS = ("tasks", "arrests", "seizures", "takedowns", "assets", "tallies",
                "preservations")
SCHEMA_VERSION = 1


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
    workdir: Path | None = None  # for a format's scratch files: next to the output

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def levels(self) -> tuple[str, ...]:
        return allowed_levels(self.tlp)

    def _filter(self, kind: str, where: str) -> tuple[str, tuple[Any, ...]]:
        assert kind in RECORD_KINDS
        marks = ", ".join("?" for _ in self.levels)
        sql = f"FROM {kind} WHERE op_id=? AND tlp IN ({marks})" + (f" AND {where}" if where
                                                                    else "")
        return sql, (self.op["id"], *self.levels)

    def rows(self, kind: str, *, where: str = "", order: str = "seq",
             limit: int | None = None, params: tuple[Any, ...] = ()) -> Iterator[Row]:
        sql, args = self._filter(kind, where)
        sql = f"SELECT * {sql} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        yield from self.conn.execute(sql, (*args, *params))

    def count(self, kind: str, where: str = "") -> int:
        sql, args = self._filter(kind, where)
        return self.conn.execute(f"SELECT COUNT(*) AS n {sql}", args).fetchone()["n"]

    def levels_used(self, *kinds: str) -> set[str]:
        used: set[str] = set()
        for kind in kinds:
            sql, args = self._filter(kind, "")
            used |= {r["tlp"] for r in self.conn.execute(f"SELECT DISTINCT tlp {sql}", args)}
        return used

    def audit(self) -> Iterator[Row]:
        if self.audit_included:
            yield from self.conn.execute("SELECT * FROM audit_log WHERE room_id=? ORDER BY n",
                                         (self.op["room_id"],))


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
    if with_audit:
        # The audit log holds before/after images of every record: it may only travel
        # in an export whose level covers every record of the operation.
        highest = 0
        for kind in RECORD_KINDS:
            for r in rows(f"SELECT DISTINCT tlp FROM {kind} WHERE op_id=?"):
                highest = max(highest, TLP_LEVELS.index(r["tlp"]))
        snap.audit_included = TLP_LEVELS.index(level) >= highest
    return snap


def public(row: Row) -> dict[str, Any]:
    """A record without its internal keys, as exports show it."""
    return {k: v for k, v in row.items() if k not in ("id", "op_id")}
