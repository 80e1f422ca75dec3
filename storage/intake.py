"""The bot's intake bookkeeping: how far each room has been handled, and the commands that
wait for a room key. Neither is an operation record, so neither goes through the audit log.

A room's mark is the last timeline event (any type) whose room batch was fully handled.
It lets the bot find where to resume in a room even without a sync token (a lost state
file): history is paged back to the mark, never further.

An undecryptable command is kept with its raw event, so a restart neither loses it nor
forgets to answer it; giving up on it and queueing the notice that says so happen in one
transaction (storage.outbox), so the notice cannot be lost either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.codec import from_db_time, to_db_time
from storage.database import Database
from storage.outbox import Post, add_post
from storage.tx import Row, Tx


@dataclass(frozen=True)
class RoomMark:
    event_id: str
    origin_ts: int  # ms, as the event's origin_server_ts


@dataclass(frozen=True)
class HeldEvent:
    room_id: str
    event_id: str
    event: dict[str, Any]  # the raw event as the homeserver sent it
    first_seen: datetime


class IntakeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def room_mark(self, room_id: str) -> RoomMark | None:
        async def q(tx: Tx) -> Row | None:
            return await tx.one("SELECT event_id, origin_ts FROM room_marks WHERE room_id=?",
                                (room_id,))

        row = await self.db.read(q)
        return RoomMark(row["event_id"], row["origin_ts"]) if row else None

    async def set_room_mark(self, room_id: str, mark: RoomMark, now: datetime) -> None:
        async def upsert(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO room_marks (room_id, event_id, origin_ts, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (room_id) DO UPDATE SET "
                "event_id=excluded.event_id, origin_ts=excluded.origin_ts, "
                "updated_at=excluded.updated_at",
                (room_id, mark.event_id, mark.origin_ts, to_db_time(now)))

        await self.db.write(upsert)

    async def hold(self, room_id: str, event_id: str, event: dict[str, Any],
                   now: datetime) -> None:
        """Keep an undecryptable event; seeing it again changes nothing."""

        async def insert(tx: Tx) -> None:
            await tx.execute(
                "INSERT OR IGNORE INTO undecryptable_events (event_id, room_id, event, "
                "first_seen) VALUES (?, ?, ?, ?)",
                (event_id, room_id, json.dumps(event), to_db_time(now)))

        await self.db.write(insert)

    async def held(self) -> list[HeldEvent]:
        async def q(tx: Tx) -> list[Row]:
            return await tx.all("SELECT * FROM undecryptable_events ORDER BY rowid")

        return [HeldEvent(r["room_id"], r["event_id"], json.loads(r["event"]),
                          from_db_time(r["first_seen"]))
                for r in await self.db.read(q)]

    async def release(self, event_id: str) -> None:
        """Decrypted at last (and handled): nothing waits for it any more."""

        async def delete(tx: Tx) -> None:
            await tx.execute("DELETE FROM undecryptable_events WHERE event_id=?", (event_id,))

        await self.db.write(delete)

    async def give_up(self, event_id: str, room_id: str, notice: dict[str, Any],
                      now: datetime) -> Post | None:
        """Stop waiting and queue the notice saying so, atomically; returns the post, or
        None if the event was no longer held."""

        async def swap(tx: Tx) -> Post | None:
            if not await tx.scalar("SELECT 1 FROM undecryptable_events WHERE event_id=?",
                                   (event_id,)):
                return None
            await tx.execute("DELETE FROM undecryptable_events WHERE event_id=?", (event_id,))
            return await add_post(tx, room_id, notice, now)

        return await self.db.write(swap)
