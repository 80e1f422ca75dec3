"""Tamper-evident audit log: one hash chain per room.

Each entry's hash is SHA-256 over the canonical JSON of its fields plus the previous
entry's hash, and `audit_heads` keeps the latest (n, hash) per room. Altering an entry
breaks its own hash; deleting or reordering one breaks the numbering or the chain;
deleting the newest entries no longer matches the head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from storage.statements import Row, Statements, placeholders


@dataclass(frozen=True)
class Actor:
    """Who is changing the record, and through which Matrix event and command."""

    room_id: str
    sender: str
    event_id: str
    command: str
    at: str  # ISO UTC text from storage.codec.to_db_time: the bot's clock, when it was done
    # The event's own time (origin_server_ts, which its sender's server sets) when it
    # differs from `at` by more than a minute: kept beside it, never used instead.
    sent_at: str | None = None


GENESIS = "0" * 64

HASHED_FIELDS = (
    "room_id", "n", "at", "sender", "event_id", "command", "action", "tbl", "row_id",
    "before", "after", "undoes", "prev_hash",
)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """`sent_at` is hashed only when set, so the entries from before it existed verify."""
    fields = {k: entry[k] for k in HASHED_FIELDS}
    if entry.get("sent_at") is not None:
        fields["sent_at"] = entry["sent_at"]
    payload = canonical(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def append(tx: Statements, actor: Actor, action: str, table: str, row_id: int,
                 before: Row | None, after: Row | None, *, undoes: str | None = None) -> None:
    head = await tx.one("SELECT n, hash FROM audit_heads WHERE room_id=?", (actor.room_id,))
    n = (head["n"] if head else 0) + 1
    entry = {
        "room_id": actor.room_id,
        "n": n,
        "at": actor.at,
        "sender": actor.sender,
        "event_id": actor.event_id,
        "command": actor.command,
        "action": action,
        "tbl": table,
        "row_id": row_id,
        "before": canonical(before) if before is not None else None,
        "after": canonical(after) if after is not None else None,
        "undoes": undoes,
        "prev_hash": head["hash"] if head else GENESIS,
        "sent_at": actor.sent_at,
    }
    entry["hash"] = entry_hash(entry)
    cols = list(entry)
    await tx.execute(
        f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({placeholders(cols)})",
        [entry[c] for c in cols],
    )
    await tx.execute(
        "INSERT INTO audit_heads (room_id, n, hash) VALUES (?, ?, ?) "
        "ON CONFLICT (room_id) DO UPDATE SET n=excluded.n, hash=excluded.hash",
        (actor.room_id, n, entry["hash"]),
    )


@dataclass(frozen=True)
class Head:
    """The newest entry of a room's chain: what the bot posts in the room as a witness."""

    n: int
    hash: str


async def head(tx: Statements, room_id: str) -> Head | None:
    row = await tx.one("SELECT n, hash FROM audit_heads WHERE room_id=?", (room_id,))
    return Head(row["n"], row["hash"]) if row else None


@dataclass
class VerifyResult:
    room_id: str
    entries: int
    problems: list[str]
    # Each entry's stored hash by number, to compare with the heads witnessed in the room.
    hashes: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_room(tx: Statements, room_id: str) -> VerifyResult:
    """Walk the room's chain in row order and report every break, naming the entry."""
    rows = await tx.all("SELECT * FROM audit_log WHERE room_id=? ORDER BY id", (room_id,))
    head = await tx.one("SELECT n, hash FROM audit_heads WHERE room_id=?", (room_id,))
    problems: list[str] = []
    hashes: dict[int, str] = {}
    prev_hash = GENESIS
    expected_n = 1
    for row in rows:
        n = row["n"]
        if n != expected_n:
            if n > expected_n:
                missing = f"#{expected_n}" if n == expected_n + 1 else f"#{expected_n}–#{n - 1}"
                problems.append(f"entry {missing} is missing (deleted)")
            else:
                problems.append(f"entry #{n} is out of order (after #{expected_n - 1})")
        if entry_hash(row) != row["hash"]:
            problems.append(f"entry #{n} was altered (its hash does not match its content)")
        elif row["prev_hash"] != prev_hash and n == expected_n:
            problems.append(f"entry #{n} does not follow the previous entry (chain broken)")
        prev_hash = row["hash"]
        expected_n = n + 1
        hashes[n] = row["hash"]
    if head is None:
        if rows:
            problems.append("the log's head record is missing")
    else:
        last_n = rows[-1]["n"] if rows else 0
        if head["n"] != last_n or (rows and head["hash"] != rows[-1]["hash"]):
            if head["n"] > last_n:
                problems.append(
                    f"entries after #{last_n} up to #{head['n']} are missing (deleted)"
                )
            else:
                problems.append("the newest entry does not match the log's head record")
    return VerifyResult(room_id=room_id, entries=len(rows), problems=problems, hashes=hashes)


async def rooms(tx: Statements) -> list[str]:
    """Every room with an audit log (or the head record of one)."""
    rows = await tx.all(
        "SELECT room_id FROM audit_heads UNION SELECT DISTINCT room_id FROM audit_log "
        "ORDER BY room_id"
    )
    return [r["room_id"] for r in rows]


async def verify_all(tx: Statements) -> list[VerifyResult]:
    return [await verify_room(tx, room_id) for room_id in await rooms(tx)]
