"""Erasures (E-n): destroying the personal data of records by destroying their keys.

One run is durable steps, so that a crash between them is finished at the next start
(bot.erasure): `begin` records E-n and its records; `mark_batch` marks them and drops every
other copy the database keeps, a batch per transaction, then `close_marking` (state still
`started`); the keys are destroyed in the key store, which is another file, so not in those
transactions (`keys_destroyed`); then both files are vacuumed and the KEK rotated (`done`).
Every step is idempotent.

The E-n record holds the scope, reason, approver and counts, never a value; with `purge`
it also lists the audit entries whose ciphertext it replaced by digests, which is the only
place storage.audit accepts a digest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage import deconfliction
from storage.consultations import DISCLOSE
from storage.personal import PERSONAL, personal_fields
from storage.sealing import ERASED, digested, digested_value, from_token, is_token, key_of
from storage.statements import Row, Statements, placeholders
from storage.tx import Tx

KIND = "E"  # the counter of E-n (storage counters)
BATCH = 2000  # records marked per transaction: the writer is held a second or so at most
STARTED, KEYS_DESTROYED, DONE = "started", "keys_destroyed", "done"
# Tables whose records carry a number members know them by (T-3, A-1 …).
_NUMBERED = frozenset({"tasks", "arrests", "seizures", "takedowns", "assets", "forms",
                       "tallies"})


# How a personal table's rows belong to an operation, where not by their own op_id.
_OF_OP = {"rollcall_answers": "rollcall_id IN (SELECT id FROM rollcalls WHERE op_id=?)"}


@dataclass(frozen=True)
class Target:
    """A record in an erasure's scope and the key its personal fields are sealed with."""

    tbl: str
    row_id: int
    subject_key: int | None


async def of_category(tx: Statements, op_id: int, category: str) -> list[Target]:
    """The operation's records of one data-subject category not erased yet."""
    found: list[Target] = []
    for tbl in PERSONAL:
        rows = await tx.all(f"SELECT id, subject_key FROM {tbl} WHERE {_OF_OP.get(tbl, 'op_id=?')} "
                            "AND subject_category=? AND erased_by IS NULL ORDER BY id",
                            (op_id, category))
        found += [Target(tbl, r["id"], r["subject_key"]) for r in rows]
    return found


async def by_number(tx: Statements, op_id: int, tbl: str, seq: int) -> Row | None:
    """A numbered record with its erasure state, whatever its table."""
    if tbl not in PERSONAL or tbl not in _NUMBERED:
        return None
    return await tx.one(f"SELECT id, seq, subject_key, subject_category, erased_by FROM {tbl} "
                        "WHERE op_id=? AND seq=?", (op_id, seq))


async def begin(tx: Tx, op_id: int, *, scope: str, reason: str, approver: str,
                targets: Sequence[Target], purge: bool, at: str) -> Row:
    """Step one, in the caller's transaction: the E-n record and the records it erases
    (with those holding a copy of their values), nothing changed yet. The marking follows
    in batches (`mark_batch`), so an erasure of 100,000 records never holds the writer for
    long; the keys are destroyed only once every record is marked."""
    assert tx.actor is not None
    seq = await tx.next_seq(op_id, KIND)
    targets = [*targets, *await _copies(tx, op_id, targets)]
    live = list({(t.tbl, t.row_id): t for t in targets}.values())
    counts: dict[str, int] = {}
    for t in live:
        counts[t.tbl] = counts.get(t.tbl, 0) + 1
    handles: list[list[object]] = []
    for tbl in sorted({t.tbl for t in live} & _NUMBERED):
        ids = [t.row_id for t in live if t.tbl == tbl]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            handles += [[tbl, r["seq"]] for r in await tx.all(
                f"SELECT seq FROM {tbl} WHERE id IN ({placeholders(chunk)}) ORDER BY seq",
                chunk)]
    erasure = await tx.insert("erasures", {
        "op_id": op_id, "seq": seq, "scope": scope, "reason": reason, "approver": approver,
        "counts": json.dumps(counts, sort_keys=True), "handles": json.dumps(handles),
        "purge": int(purge), "state": STARTED, "started_at": at,
        "created_by": tx.actor.sender, "created_at": at})
    for t in live:
        await tx.execute("INSERT INTO erasure_targets (erasure_id, tbl, row_id, subject_key) "
                         "VALUES (?, ?, ?, ?)", (erasure["id"], t.tbl, t.row_id, t.subject_key))
    return erasure


async def mark_batch(tx: Tx, erasure_id: int, limit: int = BATCH) -> int:
    """Up to `limit` of the erasure's records marked erased by it (its own transaction):
    `erased_by` set, the seizures' blind index and the deconfliction keys dropped, the keys
    of their audit entries' command lines noted for destruction, and with `purge` the
    entries' ciphertext replaced by digests (hashes unchanged) and the live fields set to
    ERASED in clear. How many it took; 0 once all are marked."""
    assert tx.actor is not None
    erasure = await get(tx, erasure_id)
    assert erasure is not None
    room_id, purge = erasure["room_id"], bool(erasure["purge"])
    todo = await tx.all("SELECT tbl, row_id, subject_key FROM erasure_targets "
                        "WHERE erasure_id=? AND done=0 ORDER BY tbl, row_id LIMIT ?",
                        (erasure_id, limit))
    keys: set[int] = set()
    marked: dict[str, list[int]] = {}
    for t in todo:
        tbl, row_id = t["tbl"], t["row_id"]
        row = await tx.get(tbl, row_id)
        if row is not None and row["erased_by"] is None:
            changes: dict[str, object] = {"erased_by": erasure_id}
            if purge:
                changes.update({f: ERASED for f in personal_fields(tbl)
                                if row.get(f) is not None})
            await tx.update(tbl, row_id, changes, sealed=False)
            if tbl == "seizures":
                await tx.execute("UPDATE seizures SET value_key=NULL WHERE id=?", (row_id,))
            await deconfliction.unindex(tx, tbl, row_id)
            marked.setdefault(tbl, []).append(row_id)
        if t["subject_key"] is not None:
            keys.add(int(t["subject_key"]))
        await tx.execute("UPDATE erasure_targets SET done=1 WHERE erasure_id=? AND tbl=? "
                         "AND row_id=?", (erasure_id, tbl, row_id))
    for tbl, ids in marked.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            # A partner's report is logged in the partner room's chain: its command's key
            # goes too, but only the operation room's chain is purged (an erasure names
            # the entries of its own chain).
            for entry in await tx.all(
                    "SELECT id, room_id, n, event_id, command, before, after FROM audit_log "
                    f"WHERE tbl=? AND row_id IN ({placeholders(chunk)})", (tbl, *chunk)):
                own = entry["event_id"] == tx.actor.event_id
                command = entry["command"]
                if not own and is_token(command):
                    keys.add(key_of(from_token(command)))
                if purge and entry["room_id"] == room_id:
                    await tx.execute(
                        "UPDATE audit_log SET before=?, after=?, command=? WHERE id=?",
                        (_digested(entry["before"]), _digested(entry["after"]),
                         command if own else digested_value(command), entry["id"]))
                    await tx.execute("INSERT OR IGNORE INTO erasure_purged (erasure_id, n) "
                                     "VALUES (?, ?)", (erasure_id, entry["n"]))
    for key_id in sorted(keys):
        await tx.execute("INSERT OR IGNORE INTO erasure_keys (erasure_id, key_id) VALUES (?, ?)",
                         (erasure_id, key_id))
    return len(todo)


async def close_marking(tx: Tx, erasure_id: int) -> None:
    """Once every record is marked: the stored replies of the rooms' delivered commands
    blanked (they may quote the values; the rows stay, their event ids keep a command from
    being applied twice), and with `purge` the entries it purged listed on E-n, where
    storage.audit looks for them. Idempotent."""
    erasure = await get(tx, erasure_id)
    assert erasure is not None
    rooms = [erasure["room_id"]] + [r["room_id"] for r in await tx.all(
        "SELECT DISTINCT room_id FROM partner_links WHERE op_id=?", (erasure["op_id"],))]
    await tx.execute("UPDATE processed_events SET reply=? WHERE delivered=1 "
                     f"AND room_id IN ({placeholders(rooms)})",
                     (json.dumps({"ok": True, "text": "", "html": ""}), *rooms))
    if erasure["purge"]:
        purged = [int(r["n"]) for r in await tx.all(
            "SELECT n FROM erasure_purged WHERE erasure_id=? ORDER BY n", (erasure_id,))]
        await tx.update("erasures", erasure_id, {"purged": json.dumps(ranges(purged))})


async def _copies(tx: Statements, op_id: int, targets: Sequence[Target]) -> list[Target]:
    """Records holding a copy of an erased record's value: a takedown names its seized
    item's value as its target, so it goes with it."""
    seized = {t.row_id for t in targets if t.tbl == "seizures"}
    if not seized:
        return []
    rows = await tx.all(
        "SELECT k.id, k.subject_key, s.id AS seizure_id FROM takedowns k JOIN seizures s "
        "ON s.op_id = k.op_id AND s.seq = k.seizure_seq WHERE k.op_id=? "
        "AND k.erased_by IS NULL", (op_id,))
    return [Target("takedowns", r["id"], r["subject_key"]) for r in rows
            if r["seizure_id"] in seized]


def _digested(image: str | None) -> str | None:
    return None if image is None else digested(image)


def ranges(numbers: Iterable[int]) -> list[list[int]]:
    """Entry numbers as [first, last] runs: a purge of a long operation stays short."""
    out: list[list[int]] = []
    for n in sorted(set(numbers)):
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


async def key_ids(tx: Statements, erasure_id: int) -> list[int]:
    rows = await tx.all("SELECT key_id FROM erasure_keys WHERE erasure_id=? ORDER BY key_id",
                        (erasure_id,))
    return [int(r["key_id"]) for r in rows]


async def get(tx: Statements, erasure_id: int) -> Row | None:
    return await tx.one("SELECT e.*, o.room_id FROM erasures e JOIN operations o "
                        "ON o.id = e.op_id WHERE e.id=?", (erasure_id,))


async def unfinished(tx: Statements) -> list[Row]:
    """Erasures a crash or a restart cut short, and those done but not told yet."""
    return await tx.all("SELECT e.*, o.room_id FROM erasures e JOIN operations o "
                        "ON o.id = e.op_id WHERE e.state<>? OR e.announced_at IS NULL "
                        "ORDER BY e.id", (DONE,))


async def advance(tx: Tx, erasure_id: int, state: str, at: str) -> None:
    changes = {"state": state}
    if state == DONE:
        changes["finished_at"] = at
    await tx.update("erasures", erasure_id, changes)


async def announced(tx: Tx, erasure_id: int, at: str) -> None:
    await tx.update("erasures", erasure_id, {"announced_at": at})


async def past_recipients(tx: Statements, room_id: str) -> list[str]:
    """Where the room's records were disclosed to, from the consultation log: who to tell
    of the erasure (Directive 2016/680 art. 16(6)). Another room named as recipient in the
    room's own chain (`/deconflict share`), and the operation's partner rooms, whose
    updates are logged in their own chains; a file exported into the room itself went to
    its members, who read the erasure there."""
    rows = await tx.all(
        "SELECT DISTINCT recipients FROM consult_log WHERE verb=? AND recipients<>? "
        "AND (room_id=? OR room_id IN (SELECT l.room_id FROM partner_links l "
        "JOIN operations o ON o.id = l.op_id WHERE o.room_id=?)) ORDER BY recipients",
        (DISCLOSE, room_id, room_id, room_id))
    return [str(r["recipients"]) for r in rows]
