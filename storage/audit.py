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

from storage.personal import BLIND_INDEXES
from storage.sealing import (
    DIGEST,
    Keys,
    digested,
    digested_value,
    from_token,
    is_token,
    key_of,
    logged,
    tokens_keys,
)
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


def image(row: Row) -> Row:
    """A record as the log keeps it: sealed values as their tokens, never opened."""
    return {k: logged(v) for k, v in row.items() if k not in BLIND_INDEXES}


def entry_hash(entry: dict[str, Any]) -> str:
    """`sent_at` is hashed only when set, so the entries from before it existed verify.
    Sealed values are hashed as their digests (storage.sealing.digested): an erasure that
    drops the ciphertext from an image leaves the entry's hash as it was."""
    fields = {k: entry[k] for k in HASHED_FIELDS}
    for side in ("before", "after"):
        if isinstance(fields[side], str):
            fields[side] = digested(fields[side])
    fields["command"] = digested_value(fields["command"])
    if entry.get("sent_at") is not None:
        fields["sent_at"] = entry["sent_at"]
    payload = canonical(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def append(tx: Statements, actor: Actor, action: str, table: str, row_id: int,
                 before: Row | None, after: Row | None, *, undoes: str | None = None,
                 command: str | None = None) -> None:
    """`command`: the command line as logged (storage.tx seals it), else the actor's."""
    head = await tx.one("SELECT n, hash FROM audit_heads WHERE room_id=?", (actor.room_id,))
    n = (head["n"] if head else 0) + 1
    entry = {
        "room_id": actor.room_id,
        "n": n,
        "at": actor.at,
        "sender": actor.sender,
        "event_id": actor.event_id,
        "command": actor.command if command is None else command,
        "action": action,
        "tbl": table,
        "row_id": row_id,
        "before": canonical(image(before)) if before is not None else None,
        "after": canonical(image(after)) if after is not None else None,
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
    # Entries holding a sealed value whose key was destroyed (or purged by an erasure):
    # they verify, but nobody can read those values any more.
    sealed_unreadable: int = 0

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
    purged = _purged_by_erasures(rows)
    unreadable = 0
    for row in rows:
        n = row["n"]
        sealed = _sealed_state(tx.keys, row)
        if sealed == "purged" and n not in purged:
            problems.append(f"entry #{n} lost its sealed values, and no erasure names it")
        if sealed in ("purged", "erased"):
            unreadable += 1
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
    return VerifyResult(room_id=room_id, entries=len(rows), problems=problems, hashes=hashes,
                        sealed_unreadable=unreadable)


def _purged_by_erasures(rows: list[Row]) -> set[int]:
    """Entry numbers whose ciphertext an erasure (storage.erasures, in this same chain)
    dropped: the only place a digest may stand in for a sealed value."""
    allowed: set[int] = set()
    for row in rows:
        if row["tbl"] != "erasures" or not row["after"]:
            continue
        try:
            ranges = json.loads(json.loads(row["after"]).get("purged") or "[]")
            for first, last in ranges:
                allowed.update(range(int(first), int(last) + 1))
        except (ValueError, TypeError, AttributeError):
            continue  # an altered image: its own hash check names the entry
    return allowed


def _sealed_state(keys: Keys | None, row: Row) -> str | None:
    """"purged" if a digest stands in for a sealed value, "erased" if a sealed value's key
    is gone, "sealed" if all open, None without sealed values."""
    text = (row["before"] or "") + (row["after"] or "")
    command = row["command"] or ""
    if "\\u0000d:" in text or command.startswith(DIGEST):
        return "purged"
    key_ids = tokens_keys(text)
    if is_token(command):
        key_ids.add(key_of(from_token(command)))
    if not key_ids:
        return None
    if keys is None:
        return "sealed"
    if any(keys.aead(key_id) is None for key_id in key_ids):
        return "erased"
    return "sealed"


async def rooms(tx: Statements) -> list[str]:
    """Every room with an audit log (or the head record of one)."""
    rows = await tx.all(
        "SELECT room_id FROM audit_heads UNION SELECT DISTINCT room_id FROM audit_log "
        "ORDER BY room_id"
    )
    return [r["room_id"] for r in rows]


async def verify_all(tx: Statements) -> list[VerifyResult]:
    return [await verify_room(tx, room_id) for room_id in await rooms(tx)]
