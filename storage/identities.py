"""Pinned cross-signing identities, the devices the runtime has judged, and the refusals
already answered.

A user's master key is pinned the first time the bot sees it (trust on first use); a
different master key later is what a hijacked or reset account looks like, so it is kept
apart (`state='changed'`, `new_master_key`) until a lead confirms it with /trust. Pins and
their changes are audited in every room the bot shares with the user, so each operation's
log tells who was trusted with its keys and since when. The rooms shared when the change
was seen are kept (`identity_change_rooms`): only a lead of one of them may confirm it, so
a room the changed account joins afterwards — one its new holder may lead — cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from storage import audit
from storage.tx import Actor, Row, Tx

PINNED = "pinned"
CHANGED = "changed"


@dataclass(frozen=True)
class Pin:
    user_id: str
    master_key: str
    state: str
    new_master_key: str | None

    @classmethod
    def of(cls, row: Row) -> Pin:
        return cls(row["user_id"], row["master_key"], row["state"], row["new_master_key"])


async def pins(tx: Tx) -> dict[str, Pin]:
    return {r["user_id"]: Pin.of(r) for r in await tx.all("SELECT * FROM identities")}


@dataclass(frozen=True)
class Change:
    """A changed identity waiting for /trust, and the rooms that were told of it."""

    pin: Pin
    rooms: frozenset[str]


async def audit_in_rooms(tx: Tx, rooms: Iterable[str], by: str, at: str, what: str,
                         row_id: int, before: Row | None, after: Row) -> None:
    for room_id in sorted(set(rooms)):
        actor = Actor(room_id=room_id, sender=by, event_id="", command=what, at=at)
        await audit.append(tx, actor, "insert" if before is None else "update", "identities",
                           row_id, before, after)


async def pin(tx: Tx, user_id: str, master_key: str, *, rooms: Iterable[str], by: str,
              at: str) -> Pin:
    """First sight of a user's identity. Idempotent: an existing pin is left as it is."""
    row = await tx.one(
        "INSERT INTO identities (user_id, master_key, pinned_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO NOTHING RETURNING *", (user_id, master_key, at))
    if row is None:
        existing = await tx.one("SELECT * FROM identities WHERE user_id=?", (user_id,))
        assert existing is not None
        return Pin.of(existing)
    await audit_in_rooms(tx, rooms, by, at, f"(identity of {user_id} pinned on first sight)",
                          row["id"], None, row)
    return Pin.of(row)


async def mark_changed(tx: Tx, user_id: str, new_master_key: str, *, rooms: Iterable[str],
                       by: str, at: str) -> Pin:
    before = await tx.one("SELECT * FROM identities WHERE user_id=?", (user_id,))
    assert before is not None, "only a pinned identity can change"
    after = await tx.one(
        "UPDATE identities SET state=?, new_master_key=?, changed_at=? WHERE user_id=? "
        "RETURNING *", (CHANGED, new_master_key, at, user_id))
    assert after is not None
    rooms = sorted(set(rooms))
    await audit_in_rooms(tx, rooms, by, at, f"(identity of {user_id} changed)",
                         after["id"], before, after)
    await tx.execute("DELETE FROM identity_change_rooms WHERE user_id=?", (user_id,))
    await _tell(tx, user_id, rooms)
    return Pin.of(after)


async def _tell(tx: Tx, user_id: str, rooms: Iterable[str]) -> None:
    for room_id in rooms:
        await tx.execute("INSERT INTO identity_change_rooms (user_id, room_id) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING", (user_id, room_id))


async def told_unless_recorded(tx: Tx, user_id: str, rooms: Iterable[str]) -> None:
    """A change seen before the told rooms were kept (migration 9) gets the rooms shared
    now, once; later joins are never added to a change already recorded."""
    if await tx.one("SELECT 1 FROM identity_change_rooms WHERE user_id=?", (user_id,)) is None:
        await _tell(tx, user_id, rooms)


async def pending_change(tx: Tx, user_id: str) -> Change | None:
    row = await tx.one("SELECT * FROM identities WHERE user_id=?", (user_id,))
    if row is None or row["state"] != CHANGED:
        return None
    told = await tx.all("SELECT room_id FROM identity_change_rooms WHERE user_id=?",
                        (user_id,))
    return Change(Pin.of(row), frozenset(r["room_id"] for r in told))


async def back_to_pinned(tx: Tx, user_id: str) -> None:
    """The server shows the pinned key again (a reset that was undone): nothing to confirm."""
    await tx.execute("UPDATE identities SET state=?, new_master_key=NULL, changed_at=NULL "
                     "WHERE user_id=?", (PINNED, user_id))
    await tx.execute("DELETE FROM identity_change_rooms WHERE user_id=?", (user_id,))


async def confirm(tx: Tx, user_id: str, by: str) -> tuple[Row, Row] | None:
    """A lead's /trust: the new identity becomes the pinned one (audited in their room).
    The told rooms are kept: an /undo makes the same change pending again."""
    row = await tx.one("SELECT * FROM identities WHERE user_id=?", (user_id,))
    if row is None or row["state"] != CHANGED:
        return None
    return await tx.update("identities", row["id"], {
        "master_key": row["new_master_key"], "state": PINNED, "new_master_key": None,
        "pinned_at": tx.actor.at if tx.actor else row["pinned_at"], "confirmed_by": by})


async def record_devices(tx: Tx, user_id: str, trusted: Mapping[str, bool], at: str) -> None:
    """The runtime's latest judgement of a user's devices, for /trust's list."""
    await tx.execute("DELETE FROM device_trust WHERE user_id=?", (user_id,))
    for device_id, ok in trusted.items():
        await tx.execute("INSERT INTO device_trust (user_id, device_id, trusted, seen_at) "
                         "VALUES (?, ?, ?, ?)", (user_id, device_id, int(ok), at))


async def untrusted_devices(tx: Tx, users: Iterable[str]) -> dict[str, list[str]]:
    wanted = set(users)
    found: dict[str, list[str]] = {}
    for r in await tx.all("SELECT user_id, device_id FROM device_trust WHERE trusted=0 "
                          "ORDER BY user_id, device_id"):
        if r["user_id"] in wanted:
            found.setdefault(r["user_id"], []).append(r["device_id"])
    return found


async def changed_identities(tx: Tx, users: Iterable[str]) -> list[Pin]:
    wanted = set(users)
    return [Pin.of(r) for r in await tx.all(
        "SELECT * FROM identities WHERE state=? ORDER BY user_id", (CHANGED,))
        if r["user_id"] in wanted]


async def first_refusal(tx: Tx, room_id: str, user_id: str, device_id: str, reason: str,
                        at: str) -> bool:
    """True the first time this device is refused for this reason in this room: each
    refusal is answered once per device, not once per message."""
    row = await tx.one(
        "INSERT INTO trust_refusals (room_id, user_id, device_id, reason, answered_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
        (room_id, user_id, device_id, reason, at))
    return row is not None


async def forget_refusals(tx: Tx, user_id: str) -> None:
    """After trust changes (a /trust, a device verified), a new refusal is news again."""
    await tx.execute("DELETE FROM trust_refusals WHERE user_id=?", (user_id,))
