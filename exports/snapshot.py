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

A partner room's export (`load` on a room a live partner link feeds) is another selection,
not a lower level: only the seized items and takedowns `storage.partners.assigned_sync`
gives for that link, at the levels asked for and never above the link's TLP; no other
kind, no audit, no agency or member (nor a record's `created_by`, a member's Matrix id);
a takedown's target shows its seized item's value only while that item is the partner's
too. The operation is named only by the alias the lead gave (`commands.partner_shown_name`),
in the file and its name; ids are made from the link, not the operation's code, so a
partner importing a later export updates what it has and learns nothing from the ids.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commands import (
    PARTNER_EXPORT_FORMATS,
    ExportRefused,
    partner_format_refusal,
    partner_level_refusal,
    partner_shown_name,
    tr,
    validate,
)
from storage import exports as store
from storage import partners
from storage.audit import canonical
from storage.exports import RECORD_KINDS
from storage.sealing import open_image_text, open_text
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
    partner: Row | None = None  # the link, in a partner room's export
    ident: str = ""  # what ids are made from: the operation's code, or the partner link
    # Records under a legal hold (storage.retention) travel only when asked for (`held=yes`);
    # else they, and their audit entries, are left out and counted here.
    show_held: bool = False
    held_left_out: int = 0

    @property
    def kinds(self) -> tuple[str, ...]:
        """The record kinds this export carries."""
        return partners.KINDS if self.partner is not None else RECORD_KINDS

    @property
    def title(self) -> str:
        """The operation as the file names it: "Name (CODE)", or a partner's alias alone."""
        name, code = self.op["name"], self.op["code"]
        return name if name == code else f"{name} ({code})"

    @property
    def stem(self) -> str:
        """The start of the file's name: the operation's code, or the alias made safe."""
        if self.partner is None:
            return str(self.op["code"])
        return re.sub(r"[^\w]+", "-", self.op["code"]).strip("-") or "operation"

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
        if self.partner is not None:
            yield from self._partner_rows(kind, seq=seq, limit=limit)
            return
        for row in store.records(self.conn, kind, self.op["id"], self.levels, seq=seq,
                                 order=order, limit=limit, hide_held=not self.show_held):
            yield _target_withheld(kind, row)

    def _partner_rows(self, kind: str, *, seq: int | None, limit: int | None
                      ) -> Iterator[Row]:
        """The partner's records of `kind`, by number (their exports need no other order)."""
        assert self.partner is not None
        if kind not in partners.KINDS:
            return
        found = partners.assigned_sync(self.conn, self.partner["id"], kind, self.levels,
                                       seq=seq)
        for row in itertools.islice(found, limit):
            del row["created_by"]
            row.pop("subject_key", None)
            yield _target_withheld(kind, row)

    def indicators(self) -> Iterator[Row]:
        """The indicators the operation holds, one selection for every format that carries
        indicators (STIX, MISP): each seized or targeted item, whatever its type (domain,
        IP, URL, server, wallet, account, device, other). Assets are amounts, not indicators.
        An erased one is left out: an indicator whose value is gone tells a partner's
        platform nothing it could match, and "[erased]" is not a domain or an address."""
        return (row for row in self.rows("seizures") if row.get("erased_by") is None)

    def count(self, kind: str, *, status: str | None = None) -> int:
        if self.partner is not None:  # a partner's few records: counted as they are read
            return sum(1 for row in self.rows(kind) if status in (None, row["status"]))
        return store.count(self.conn, kind, self.op["id"], self.levels, status=status,
                           hide_held=not self.show_held)

    def counts_by(self, kind: str, *columns: str) -> dict[tuple[Any, ...], int]:
        """Records at or below the level counted per value of `columns` (the pdf's charts),
        aggregated in SQL so 100,000 records cost no Python loop."""
        assert columns and all(c in self.columns[kind] for c in columns)
        assert self.partner is None, "no partner format draws charts"
        return store.counts_by(self.conn, kind, self.op["id"], self.levels, columns,
                               hide_held=not self.show_held)

    def levels_used(self, *kinds: str) -> set[str]:
        used: set[str] = set()
        if self.partner is not None:
            return {row["tlp"] for kind in kinds for row in self.rows(kind)}
        for kind in kinds:
            used |= store.levels_used(self.conn, kind, self.op["id"], self.levels,
                                      hide_held=not self.show_held)
        return used

    def audit(self) -> Iterator[Row]:
        """The room's audit entries that may travel at this level (see the module's
        docstring), oldest first; counts those left out in `audit_withheld`."""
        if not self.audit_included:
            return
        held = {} if self.show_held else {
            kind: store.held_ids(self.conn, kind, self.op["id"]) for kind in RECORD_KINDS}
        for entry in store.audit_entries(self.conn, self.op["room_id"], self.levels,
                                         unlabelled=self.op["tlp"]):
            if not entry.pop("shown"):
                self.audit_withheld += 1
                continue
            if entry["row_id"] in held.get(entry["tbl"], ()):
                continue  # its record is left out and counted in held_left_out
            keys = getattr(self.conn, "keys", None)
            entry["command"] = open_text(keys, entry["command"])
            if not entry.pop("whole_command"):
                entry["command"] = WITHHELD_COMMAND
            entry["before"] = open_image_text(keys, entry["before"])
            entry["after"] = open_image_text(keys, entry["after"])
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


def _target_withheld(kind: str, row: Row) -> Row:
    """A takedown's target copies its seized item's value: withheld where that item is not
    in the export (the query's `seizure_shown`)."""
    if kind == "takedowns" and not row.pop("seizure_shown"):
        row["target"] = f"S-{row['seizure_seq']}{WITHHELD_TARGET}"
    return row


def operation_room(conn: sqlite3.Connection, room_id: str, fmt: str) -> str:
    """The room of the operation an export of `room_id` reads: its own, or, in a partner
    room, the operation the link feeds it from (whose audit log guards its records). Refuses
    what a partner room is not given: a format other than `PARTNER_EXPORT_FORMATS`, and anything
    once its link is gone (an export asked just before an unlink, or made again after a
    restart that came after it)."""
    link = partners.latest_for_room_sync(conn, room_id)
    if link is None:
        return room_id
    if not link["active"]:
        raise ExportRefused(tr("this room is no longer linked to an operation: nothing is "
                               "exported from it"))
    if fmt not in PARTNER_EXPORT_FORMATS:
        raise ExportError(partner_format_refusal(fmt))
    op = store.operation_by_id(conn, link["op_id"])
    assert op is not None
    return str(op["room_id"])


def load(conn: sqlite3.Connection, room_id: str, tlp: str | None, generated_at: str, *,
         with_audit: bool = False, show_held: bool = False) -> Snapshot:
    link = partners.latest_for_room_sync(conn, room_id)
    if link is not None and link["active"]:  # a partner is never shown held records
        return _partner_snapshot(conn, link, tlp, generated_at)
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
        show_held=show_held,
    )
    snap.counts = {kind: snap.count(kind) for kind in RECORD_KINDS}
    if not show_held:
        snap.held_left_out = sum(store.held_count(conn, kind, op["id"], snap.levels)
                                 for kind in RECORD_KINDS)
    snap.audit_included = with_audit
    snap.ident = str(op["code"])
    return snap


def _partner_snapshot(conn: sqlite3.Connection, link: Row, tlp: str | None,
                      generated_at: str) -> Snapshot:
    """A partner room's export (see the module's docstring). The operation's row is
    replaced by what the partner may read of it: the alias, H-hour, phase and the link's
    own dates and level, so no format can print the police's name or code by reading it."""
    level = tlp or link["tlp"]
    allowed_levels(level)
    if validate.tlp_rank(level) > validate.tlp_rank(link["tlp"]):
        raise ExportError(partner_level_refusal(level, link["tlp"]))
    op = store.operation_by_id(conn, link["op_id"])
    assert op is not None
    alias = partner_shown_name(link, op)
    shown_op: Row = {"id": op["id"], "room_id": link["room_id"], "name": alias, "code": alias,
                     "tlp": link["tlp"], "tz": link["tz"], "hhour": op["hhour"],
                     "phase": op["phase"], "created_at": link["created_at"],
                     "updated_at": link["updated_at"]}
    snap = Snapshot(
        conn=conn, op=shown_op, tlp=level, generated_at=generated_at, agencies=[],
        members=[], rollcalls=[], counts={}, partner=link, ident=f"partner-link-{link['id']}",
        columns={kind: [name for name in store.columns(conn, kind)
                        if name not in ("id", "op_id", "created_by")]
                 for kind in partners.KINDS})
    snap.counts = {kind: snap.count(kind) for kind in partners.KINDS}
    return snap


def public(row: Row) -> dict[str, Any]:
    """A record without its internal keys, as exports show it."""
    return {k: v for k, v in row.items() if k not in ("id", "op_id")}
