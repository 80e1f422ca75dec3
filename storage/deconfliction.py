"""Deconfliction's tables: who holds which value, the hits (D-n) and each operation's side.

The index maps a keyed hash of (kind, normal value) to the records holding it, so finding
the other operations that hold a value is one seek in a B-tree whatever their number.
Why a hash: its keys are 16 bytes whatever the value (a 2,000-character URL included), and
the one table that spans every operation then holds no readable indicator or suspect
reference, so a query or a dump of it shows nothing of any operation. It does not hide
anything from whoever holds the whole database: the values are in the record tables, and
the key (HMAC-SHA-256, made by the migration) is in the same file.

A hit has one side per operation, each audited in that operation's room only and holding
only that operation's own record and the hit's label, so no room's audit log (and no export
of it) shows anything of the other side. What one side may learn of the other is read from
the other side at the moment it may (an introduction). Labels are numbered per operation
pair (`deconfliction_pairs`: D-<pair tag>-<n>), and the hit's internal id is random, so
nothing a room sees counts the hits of other pairs. Hits numbered before that keep their
label D-<n>.

A hit found when a record is made is first held (`deconfliction_pending`, not audited:
it is nobody's record yet) and becomes a hit with sides only when its grace period has
passed with the value still held; `deconfliction_lookups` counts each operation's lookups
and the hits they found, for the cap.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storage.statements import placeholders
from storage.tx import Actor, Row, Tx

INDEXED_TABLES = ("seizures", "arrests")
SIDES = "deconfliction_sides"
KEY_BYTES = 16  # 128 bits: no collision among billions of values
PENDING = "deconfliction_pending"
# Records matched only where their operation's lead opted them in (operations.deconflict_red).
RESTRICTED = ("RED", "AMBER+STRICT")


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


_HOLDING = (
    "SELECT i.key, i.op_id, o.room_id, i.tbl, i.row_id, "
    "COALESCE(s.seq, a.seq) AS seq, COALESCE(s.tlp, a.tlp) AS tlp, o.deconflict_red "
    "FROM deconfliction_index i JOIN operations o ON o.id = i.op_id "
    "LEFT JOIN seizures s ON i.tbl = 'seizures' AND s.id = i.row_id AND s.op_id = i.op_id "
    "LEFT JOIN arrests a ON i.tbl = 'arrests' AND a.id = i.row_id AND a.op_id = i.op_id "
    "WHERE o.phase <> 'closed' AND ")


def _holders(rows: Iterable[Row]) -> list[Holder]:
    """Only records that may be matched: a RED or AMBER+STRICT one only where its
    operation's lead opted in."""
    return [Holder(bytes(r["key"]), r["op_id"], r["room_id"], r["tbl"], r["row_id"], r["seq"],
                   r["tlp"]) for r in rows
            if r["seq"] is not None and (r["tlp"] not in RESTRICTED or r["deconflict_red"])]


async def holders(tx: Tx, keys: Iterable[bytes], op_id: int) -> list[Holder]:
    """Records of other operations, not closed, holding any of `keys`, oldest first."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    rows = await tx.all(
        _HOLDING + f"i.key IN ({placeholders(wanted)}) AND i.op_id <> ? "
        "ORDER BY i.op_id, i.tbl, i.row_id", (*wanted, op_id))
    return _holders(rows)


async def holder(tx: Tx, key: bytes, op_id: int, tbl: str | None = None,
                 seq: int | None = None) -> Holder | None:
    """The oldest record of `op_id` (of `tbl` numbered `seq`, if given) that still holds
    `key` and may be matched; None once it is undone, changed, closed or restricted."""
    rows = await tx.all(_HOLDING + "i.key = ? AND i.op_id = ? ORDER BY i.tbl, i.row_id",
                        (key, op_id))
    found = [h for h in _holders(rows) if tbl is None or (h.tbl, h.seq) == (tbl, seq)]
    return found[0] if found else None


async def linked(tx: Tx, op_id: int, other: Holder) -> str | None:
    """Whether `op_id` already has a hit with the other operation's record, whatever record
    of `op_id` made it: its label in `op_id`'s room, or "" while it is held. The same value
    recorded again then tells the other operation nothing new."""
    label = await tx.scalar(
        f"SELECT a.label FROM {SIDES} a JOIN {SIDES} b ON b.hit = a.hit AND b.id <> a.id "
        "WHERE a.op_id=? AND b.op_id=? AND b.tbl=? AND b.seq=? ORDER BY a.id LIMIT 1",
        (op_id, other.op_id, other.tbl, other.seq))
    if label is not None:
        return str(label)
    held = await tx.scalar(
        f"SELECT 1 FROM {PENDING} WHERE (op_id=? AND holder_op=? AND holder_tbl=? "
        "AND holder_seq=?) OR (op_id=? AND holder_op=? AND key=?) LIMIT 1",
        (op_id, other.op_id, other.tbl, other.seq, other.op_id, op_id, other.key))
    return "" if held else None


async def new_hit(tx: Tx, at: str) -> int:
    """A hit's internal id: random, so that it counts nothing (it is in both sides' audited
    rows, hence in exports)."""
    return int(await tx.scalar(
        "INSERT INTO deconfliction_hits (id, created_at) VALUES (?, ?) RETURNING id",
        (secrets.randbelow(2**53 - 2**40) + 2**40, at)))  # above older hits' ids; JSON-safe


async def pair_tag(tx: Tx, op_x: int, op_y: int) -> str | None:
    a, b = sorted((op_x, op_y))
    tag = await tx.scalar("SELECT tag FROM deconfliction_pairs WHERE op_a=? AND op_b=?", (a, b))
    return None if tag is None else str(tag)


async def tags_near(tx: Tx, op_x: int, op_y: int) -> set[str]:
    """The tags of every pair either operation is in: a new pair's tag must differ from
    them, so that each room tells its hits apart."""
    rows = await tx.all("SELECT tag FROM deconfliction_pairs WHERE op_a IN (?, ?) "
                        "OR op_b IN (?, ?)", (op_x, op_y, op_x, op_y))
    return {r["tag"] for r in rows}


async def add_pair(tx: Tx, op_x: int, op_y: int, tag: str) -> None:
    a, b = sorted((op_x, op_y))
    await tx.execute("INSERT INTO deconfliction_pairs (op_a, op_b, tag) VALUES (?, ?, ?)",
                     (a, b, tag))


async def next_in_pair(tx: Tx, op_x: int, op_y: int) -> int:
    """The pair's next hit number: 1, 2, … for each pair of operations, never reused."""
    a, b = sorted((op_x, op_y))
    return int(await tx.scalar("UPDATE deconfliction_pairs SET last = last + 1 "
                               "WHERE op_a=? AND op_b=? RETURNING last", (a, b)))


# -- hits held for their grace period -----------------------------------------------------

async def hold(tx: Tx, values: Mapping[str, Any]) -> None:
    cols = list(values)
    await tx.execute(f"INSERT INTO {PENDING} ({', '.join(cols)}) VALUES "
                     f"({placeholders(cols)})", [values[c] for c in cols])


async def withdraw_unheld(tx: Tx, op_id: int) -> int:
    """Drop the held hits of values `op_id` no longer holds (an /undo, a changed value):
    the other operation is never told of them. How many."""
    rows = await tx.all(
        f"DELETE FROM {PENDING} WHERE op_id=? AND NOT EXISTS (SELECT 1 FROM "
        f"deconfliction_index i WHERE i.key = {PENDING}.key AND i.op_id = {PENDING}.op_id) "
        "RETURNING id", (op_id,))
    return len(rows)


async def any_held_due(tx: Tx, now: str) -> bool:
    return bool(await tx.scalar(f"SELECT 1 FROM {PENDING} WHERE due_at <= ? LIMIT 1", (now,)))


async def held_due(tx: Tx, now: str) -> list[Row]:
    """Held hits whose grace period has passed, oldest first."""
    return await tx.all(f"SELECT * FROM {PENDING} WHERE due_at <= ? ORDER BY due_at, id",
                        (now,))


async def release(tx: Tx, pending_id: int) -> None:
    await tx.execute(f"DELETE FROM {PENDING} WHERE id=?", (pending_id,))


# -- the cap on lookups --------------------------------------------------------------------

async def lookups_since(tx: Tx, op_id: int, since: str) -> list[Row]:
    """The operation's lookups since `since` (`at`, `hits` found), oldest first."""
    return await tx.all("SELECT at, hits FROM deconfliction_lookups WHERE op_id=? AND at > ? "
                        "ORDER BY at", (op_id, since))


async def count_lookup(tx: Tx, op_id: int, at: str, hits: int, forget_before: str) -> None:
    await tx.execute("DELETE FROM deconfliction_lookups WHERE op_id=? AND at <= ?",
                     (op_id, forget_before))
    await tx.execute("INSERT INTO deconfliction_lookups (op_id, at, hits) VALUES (?, ?, ?)",
                     (op_id, at, hits))


def as_room(tx: Tx, actor: Actor) -> Tx:
    """The same transaction, audited in `actor`'s room: each side is logged in its own
    operation's chain, under the deconfliction's name, not the command of the other room."""
    return Tx(tx.runner, actor)


async def add_side(tx: Tx, values: Mapping[str, Any]) -> Row:
    return await tx.insert(SIDES, values)


async def side(tx: Tx, op_id: int, label: str) -> Row | None:
    return await tx.one(f"SELECT * FROM {SIDES} WHERE op_id=? AND label=?", (op_id, label))


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
        "WHERE d.op_id=? ORDER BY d.id DESC", (op_id,))


async def hits_of(tx: Tx, op_id: int, tbl: str, seq: int) -> list[str]:
    """The labels of the hits a record has."""
    rows = await tx.all(f"SELECT label FROM {SIDES} WHERE op_id=? AND tbl=? AND seq=? "
                        "ORDER BY id", (op_id, tbl, seq))
    return [r["label"] for r in rows]


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
