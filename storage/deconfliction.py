"""Deconfliction's tables: who holds which value, the hits (D-n) and each operation's side.

The index maps a keyed hash of (kind, normal value) to the records holding it, so finding
the other operations that hold a value is one seek in a B-tree whatever their number.
Why a hash: its keys are 16 bytes whatever the value (a 2,000-character URL included), and
the one table that spans every operation then holds no readable indicator or suspect
reference, so a query or a dump of it shows nothing of any operation. It does not hide
anything from whoever holds the whole database: the values are in the record tables, and
the key (HMAC-SHA-256, made by the migration) is in the same file.

A hit is numbered once for all operations (D-n) and has one side per operation, each
audited in that operation's room only and holding only that operation's own record, so no
room's audit log (and no export of it) shows anything of the other side. What one side
may learn of the other is read from the other side at the moment it may (an introduction).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storage.statements import placeholders
from storage.tx import Actor, Row, Tx

INDEXED_TABLES = ("seizures", "arrests")
SIDES = "deconfliction_sides"
KEY_BYTES = 16  # 128 bits: no collision among billions of values


@dataclass(frozen=True)
class Holder:
    """A record of another operation holding one of the values looked up."""

    key: bytes
    op_id: int
    room_id: str
    tbl: str
    row_id: int
    seq: int
    tlp: str


async def secret(tx: Tx) -> bytes:
    return bytes(await tx.scalar("SELECT secret FROM deconfliction_secret"))


def digest(key: bytes, kind: str, value: str) -> bytes:
    return hmac.digest(key, f"{kind}\0{value}".encode(), "sha256")[:KEY_BYTES]


async def indexed(tx: Tx, tbl: str, row_id: int) -> set[bytes]:
    rows = await tx.all("SELECT key FROM deconfliction_index WHERE tbl=? AND row_id=?",
                        (tbl, row_id))
    return {bytes(r["key"]) for r in rows}


async def reindex(tx: Tx, op_id: int, tbl: str, row_id: int, keys: Iterable[bytes]) -> None:
    """The record's index entries become `keys` (none: it holds nothing comparable now)."""
    await unindex(tx, tbl, row_id)
    for key in set(keys):
        await tx.execute("INSERT INTO deconfliction_index (key, op_id, tbl, row_id) "
                         "VALUES (?, ?, ?, ?)", (key, op_id, tbl, row_id))


async def unindex(tx: Tx, tbl: str, row_id: int) -> None:
    await tx.execute("DELETE FROM deconfliction_index WHERE tbl=? AND row_id=?", (tbl, row_id))


async def holders(tx: Tx, keys: Iterable[bytes], op_id: int) -> list[Holder]:
    """Records of other operations, not closed, holding any of `keys`, oldest first."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    rows = await tx.all(
        "SELECT i.key, i.op_id, o.room_id, i.tbl, i.row_id, "
        "COALESCE(s.seq, a.seq) AS seq, COALESCE(s.tlp, a.tlp) AS tlp "
        "FROM deconfliction_index i JOIN operations o ON o.id = i.op_id "
        "LEFT JOIN seizures s ON i.tbl = 'seizures' AND s.id = i.row_id AND s.op_id = i.op_id "
        "LEFT JOIN arrests a ON i.tbl = 'arrests' AND a.id = i.row_id AND a.op_id = i.op_id "
        f"WHERE i.key IN ({placeholders(wanted)}) AND i.op_id <> ? "
        "AND o.phase <> 'closed' ORDER BY i.op_id, i.tbl, i.row_id",
        (*wanted, op_id))
    return [Holder(bytes(r["key"]), r["op_id"], r["room_id"], r["tbl"], r["row_id"], r["seq"],
                   r["tlp"]) for r in rows if r["seq"] is not None]


async def already_hit(tx: Tx, record: Row, tbl: str, holder: Holder) -> bool:
    """Whether these two records already have a hit (a value indexed again after /undo).
    Sides name records by operation and number: row ids of deleted rows are reused."""
    return bool(await tx.scalar(
        f"SELECT 1 FROM {SIDES} a JOIN {SIDES} b ON b.hit = a.hit AND b.id <> a.id "
        "WHERE a.op_id=? AND a.tbl=? AND a.seq=? AND b.op_id=? AND b.tbl=? AND b.seq=?",
        (record["op_id"], tbl, record["seq"], holder.op_id, holder.tbl, holder.seq)))


async def new_hit(tx: Tx, at: str) -> int:
    """The next D-n: one number for all operations, never reused."""
    return int(await tx.scalar(
        "INSERT INTO deconfliction_hits (created_at) VALUES (?) RETURNING id", (at,)))


def as_room(tx: Tx, actor: Actor) -> Tx:
    """The same transaction, audited in `actor`'s room: each side is logged in its own
    operation's chain, under the deconfliction's name, not the command of the other room."""
    return Tx(tx.runner, actor)


async def add_side(tx: Tx, values: Mapping[str, Any]) -> Row:
    return await tx.insert(SIDES, values)


async def side(tx: Tx, op_id: int, hit: int) -> Row | None:
    return await tx.one(f"SELECT * FROM {SIDES} WHERE op_id=? AND hit=?", (op_id, hit))


async def other_side(tx: Tx, hit: int, op_id: int) -> Row | None:
    """The other operation's side of a hit, with its room and code: only for the
    introduction, once both leads agreed, and to know whether the other lead did."""
    return await tx.one(
        f"SELECT d.*, o.room_id, o.code FROM {SIDES} d JOIN operations o ON o.id = d.op_id "
        "WHERE d.hit=? AND d.op_id<>?", (hit, op_id))


async def update_side(tx: Tx, row: Row, changes: Mapping[str, Any]) -> Row:
    _, after = await tx.update(SIDES, row["id"], changes)
    return after


async def sides_of(tx: Tx, op_id: int) -> list[Row]:
    """An operation's sides, newest hit first, with their record's TLP now (`record_tlp`,
    None once the record is undone), whether the other lead agreed (`peer_shared`) and,
    only once both did (introduced), the other lead and operation code (`peer_lead`,
    `peer_code`)."""
    return await tx.all(
        "SELECT d.*, COALESCE(s.tlp, a.tlp) AS record_tlp, "
        "p.shared_by IS NOT NULL AS peer_shared, "
        "CASE WHEN d.introduced_at IS NOT NULL THEN p.shared_by END AS peer_lead, "
        "CASE WHEN d.introduced_at IS NOT NULL THEN o.code END AS peer_code "
        f"FROM {SIDES} d "
        f"JOIN {SIDES} p ON p.hit = d.hit AND p.id <> d.id "
        "JOIN operations o ON o.id = p.op_id "
        "LEFT JOIN seizures s ON d.tbl = 'seizures' AND s.op_id = d.op_id AND s.seq = d.seq "
        "LEFT JOIN arrests a ON d.tbl = 'arrests' AND a.op_id = d.op_id AND a.seq = d.seq "
        "WHERE d.op_id=? ORDER BY d.hit DESC", (op_id,))


async def hits_of(tx: Tx, op_id: int, tbl: str, seq: int) -> list[int]:
    """The hits (D-n) a record has."""
    rows = await tx.all(f"SELECT hit FROM {SIDES} WHERE op_id=? AND tbl=? AND seq=? "
                        "ORDER BY hit", (op_id, tbl, seq))
    return [r["hit"] for r in rows]


# -- indexing the records made before the index existed (once, at start) -----------------

async def backfill_pending(tx: Tx) -> list[Row]:
    return await tx.all("SELECT tbl, upto FROM deconfliction_backfill ORDER BY tbl")


async def records_below(tx: Tx, tbl: str, upto: int, limit: int) -> list[Row]:
    """The next records to index, newest first from `upto` down."""
    if tbl not in INDEXED_TABLES:
        raise ValueError(f"not an indexed table: {tbl}")
    return await tx.all(f"SELECT * FROM {tbl} WHERE id <= ? ORDER BY id DESC LIMIT ?",
                        (upto, limit))


async def backfill_done_upto(tx: Tx, tbl: str, below: int | None) -> None:
    """Records above `below` are indexed; None: all of them."""
    if below is None or below < 1:
        await tx.execute("DELETE FROM deconfliction_backfill WHERE tbl=?", (tbl,))
    else:
        await tx.execute("UPDATE deconfliction_backfill SET upto=? WHERE tbl=?", (below, tbl))
