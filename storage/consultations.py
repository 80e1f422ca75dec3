"""The consultation and disclosure log (Directive 2016/680 art. 25): one row each time the
bot shows records to someone, chained per room like the audit log (storage.audit).

A row says who was shown, from which device, when, what they asked for (the command and
its option names, never a personal value), how many records, to whom (the room and the
hash of its member list then: each distinct list is stored once, in `consult_members`),
why (the stated purpose) and a keyed MAC of what was shown, never the data: the log must
not become a second copy of what erasure removes, yet a reply or file produced later can
still be shown to be the one logged. The MAC key (`consult_secret`) is this database's
own, so nobody without it can test a guess of the contents against the MAC.

The log has its own lifetime (BDSG §76(4)): `prune` deletes old rows and keeps the last
pruned row's number and hash in `consult_anchors`, where verification then starts, so
the chain still verifies after pruning and a row deleted from the middle is still found.

`shown_events` records which of the bot's own Matrix messages carried which record
handle, so erasure can redact them (`events_showing`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from storage.audit import GENESIS, Head, VerifyResult, canonical
from storage.statements import Row, Statements, placeholders

CONSULT = "consult"
DISCLOSE = "disclose"
LOG_REVIEW = "log_review"

HASHED_FIELDS = (
    "room_id", "n", "at", "sender", "device", "event_id", "verb", "scope", "records",
    "recipients", "members_hash", "purpose", "shown_mac", "prev_hash",
)


@dataclass(frozen=True)
class Consultation:
    """What one showing told whom; `shown` is the reply text or file, MACed, never kept."""

    room_id: str
    at: str
    sender: str
    device: str | None
    event_id: str | None
    verb: str
    scope: str
    records: int
    members_hash: str  # of the recipients then (`members_hash`, stored in the same database)
    purpose: str
    shown: bytes
    recipients: str | None = None  # the room the records went to; `room_id` when None


def entry_hash(entry: dict[str, Any]) -> str:
    payload = canonical({k: entry[k] for k in HASHED_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def _secret(tx: Statements) -> bytes:
    return bytes(await tx.scalar("SELECT secret FROM consult_secret"))


async def members_hash(tx: Statements, members: Collection[str]) -> str:
    """The member list's hash, stored once per distinct list."""
    listed = json.dumps(sorted(set(members)), separators=(",", ":"))
    digest = hashlib.sha256(listed.encode("utf-8")).hexdigest()
    await tx.execute("INSERT OR IGNORE INTO consult_members (hash, members) VALUES (?, ?)",
                     (digest, listed))
    return digest


async def logged(tx: Statements, event_id: str) -> bool:
    return await tx.one("SELECT 1 FROM consult_log WHERE event_id=?", (event_id,)) is not None


async def append(tx: Statements, c: Consultation) -> Head | None:
    """Chain one row; None (and nothing written) when the command `c.event_id` is logged
    already: a redelivered command or a file sent again was one consultation."""
    if c.event_id is not None and await logged(tx, c.event_id):
        return None
    head = await tx.one("SELECT n, hash FROM consult_heads WHERE room_id=?", (c.room_id,))
    n = (head["n"] if head else 0) + 1
    entry: dict[str, Any] = {
        "room_id": c.room_id,
        "n": n,
        "at": c.at,
        "sender": c.sender,
        "device": c.device,
        "event_id": c.event_id,
        "verb": c.verb,
        "scope": c.scope,
        "records": c.records,
        "recipients": c.recipients or c.room_id,
        "members_hash": c.members_hash,
        "purpose": c.purpose,
        "shown_mac": hmac.new(await _secret(tx), c.shown, hashlib.sha256).hexdigest(),
        "prev_hash": head["hash"] if head else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    cols = list(entry)
    await tx.execute(
        f"INSERT INTO consult_log ({', '.join(cols)}) VALUES ({placeholders(cols)})",
        [entry[c] for c in cols])
    await tx.execute(
        "INSERT INTO consult_heads (room_id, n, hash) VALUES (?, ?, ?) "
        "ON CONFLICT (room_id) DO UPDATE SET n=excluded.n, hash=excluded.hash",
        (c.room_id, n, entry["hash"]))
    return Head(n, entry["hash"])


async def head(tx: Statements, room_id: str) -> Head | None:
    row = await tx.one("SELECT n, hash FROM consult_heads WHERE room_id=?", (room_id,))
    return Head(row["n"], row["hash"]) if row else None


async def verify_room(tx: Statements, room_id: str) -> VerifyResult:
    """Walk the room's chain from its anchor (GENESIS before any pruning) and report every
    break, naming the row: altered, deleted, out of order, or a tail cut off."""
    rows = await tx.all("SELECT * FROM consult_log WHERE room_id=? ORDER BY n, id", (room_id,))
    top = await tx.one("SELECT n, hash FROM consult_heads WHERE room_id=?", (room_id,))
    anchor = await tx.one("SELECT n, hash FROM consult_anchors WHERE room_id=?", (room_id,))
    problems: list[str] = []
    hashes: dict[int, str] = {}
    prev_hash = anchor["hash"] if anchor else GENESIS
    expected_n = (anchor["n"] if anchor else 0) + 1
    for row in rows:
        n = row["n"]
        if n != expected_n:
            if n > expected_n:
                missing = f"#{expected_n}" if n == expected_n + 1 else f"#{expected_n}–#{n - 1}"
                problems.append(f"consultation row {missing} is missing (deleted)")
            else:
                problems.append(f"consultation row #{n} is out of order")
        if entry_hash(row) != row["hash"]:
            problems.append(f"consultation row #{n} was altered (its hash does not match "
                            "its content)")
        elif row["prev_hash"] != prev_hash and n == expected_n:
            problems.append(f"consultation row #{n} does not follow the previous row (chain "
                            "broken)")
        prev_hash = row["hash"]
        expected_n = n + 1
        hashes[n] = row["hash"]
    last_n = rows[-1]["n"] if rows else (anchor["n"] if anchor else 0)
    last_hash = rows[-1]["hash"] if rows else (anchor["hash"] if anchor else None)
    if top is None:
        if rows:
            problems.append("the consultation log's head record is missing")
    elif top["n"] != last_n or top["hash"] != last_hash:
        if top["n"] > last_n:
            problems.append(f"consultation rows after #{last_n} up to #{top['n']} are "
                            "missing (deleted)")
        else:
            problems.append("the newest consultation row does not match the log's head "
                            "record")
    return VerifyResult(room_id=room_id, entries=len(rows), problems=problems, hashes=hashes)


async def rooms(tx: Statements) -> list[str]:
    rows = await tx.all("SELECT room_id FROM consult_heads UNION "
                        "SELECT DISTINCT room_id FROM consult_log ORDER BY room_id")
    return [r["room_id"] for r in rows]


async def since(tx: Statements, room_id: str, at: str, *, sender: str | None = None
                ) -> list[Row]:
    """The room's rows from `at` on (only `sender`'s when given), oldest first, each with
    its member list."""
    return await tx.all(
        "SELECT c.*, m.members FROM consult_log c "
        "LEFT JOIN consult_members m ON m.hash = c.members_hash "
        "WHERE c.room_id=? AND c.at >= ? AND (? IS NULL OR c.sender=?) ORDER BY c.n",
        (room_id, at, sender, sender))


async def prune(tx: Statements, before: str) -> int:
    """Delete the rows made before `before`: per room the run from the start of what is
    left up to the newest such row (so what stays is one unbroken chain), and move the
    room's anchor to the last row deleted. Member lists no row points to any more go too."""
    deleted = 0
    for room in await tx.all("SELECT room_id, MAX(n) AS upto FROM consult_log "
                             "WHERE at < ? GROUP BY room_id", (before,)):
        room_id, upto = room["room_id"], room["upto"]
        last = await tx.one("SELECT hash FROM consult_log WHERE room_id=? AND n=?",
                            (room_id, upto))
        assert last is not None
        deleted += int(await tx.scalar(
            "SELECT COUNT(*) FROM consult_log WHERE room_id=? AND n <= ?", (room_id, upto)))
        await tx.execute("DELETE FROM consult_log WHERE room_id=? AND n <= ?", (room_id, upto))
        await tx.execute(
            "INSERT INTO consult_anchors (room_id, n, hash, pruned_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (room_id) DO UPDATE SET n=excluded.n, hash=excluded.hash, "
            "pruned_at=excluded.pruned_at", (room_id, upto, last["hash"], before))
    if deleted:
        await tx.execute("DELETE FROM consult_members WHERE hash NOT IN "
                         "(SELECT members_hash FROM consult_log)")
    return deleted


# -- purposes ---------------------------------------------------------------------------

async def set_purpose(tx: Statements, room_id: str, user_id: str, purpose: str, at: str,
                      until: str) -> None:
    await tx.execute(
        "INSERT INTO consult_purposes (room_id, user_id, purpose, set_at, until) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id, user_id) DO UPDATE SET "
        "purpose=excluded.purpose, set_at=excluded.set_at, until=excluded.until",
        (room_id, user_id, purpose, at, until))


async def purpose(tx: Statements, room_id: str, user_id: str, at: str) -> Row | None:
    """The member's purpose in force at `at` (purpose, set_at, until), or None."""
    return await tx.one("SELECT purpose, set_at, until FROM consult_purposes "
                        "WHERE room_id=? AND user_id=? AND until > ?", (room_id, user_id, at))


# -- which bot messages showed which record -----------------------------------------------

async def record_shown(tx: Statements, room_id: str, event_id: str,
                       handles: Iterable[str]) -> None:
    for handle in sorted(set(handles)):
        await tx.execute("INSERT OR IGNORE INTO shown_events (room_id, event_id, handle) "
                         "VALUES (?, ?, ?)", (room_id, event_id, handle))


async def events_showing(tx: Statements, room_id: str, handles: Collection[str]) -> list[str]:
    """The bot's events in `room_id` that showed any of `handles` (T-3, A-1 …)."""
    if not handles:
        return []
    listed = list(handles)
    rows = await tx.all(
        f"SELECT DISTINCT event_id FROM shown_events WHERE room_id=? "
        f"AND handle IN ({placeholders(listed)}) ORDER BY event_id", (room_id, *listed))
    return [r["event_id"] for r in rows]
