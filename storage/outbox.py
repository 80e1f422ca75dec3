"""Posts the bot owes a room that are not replies to a command (sitreps, reminders, the
"could not decrypt" notice): kept until the homeserver has them, so a post that a shutdown
or an outage kept from going out is sent at the next start instead of being lost.

(Replies to commands need no outbox: `processed_events.delivered` already says which
were not sent.)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.codec import to_db_time
from storage.database import Database
from storage.tx import Row, Tx


@dataclass(frozen=True)
class Post:
    id: int
    room_id: str
    content: dict[str, Any]
    txn_id: str  # the homeserver's transaction id: sending it again never posts it twice


async def add_post(tx: Tx, room_id: str, content: dict[str, Any], now: datetime) -> Post:
    """Inside the caller's transaction, so the post exists exactly if what it reports does."""
    row = await tx.one(
        "INSERT INTO outbox (room_id, content, txn_id, created_at) VALUES (?, ?, ?, ?) "
        "RETURNING *",
        (room_id, json.dumps(content), f"opsroom-post-{uuid.uuid4().hex}", to_db_time(now)))
    return _post(row)


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, room_id: str, content: dict[str, Any], now: datetime) -> Post:
        return await self.db.write(lambda tx: add_post(tx, room_id, content, now))

    async def sent(self, post_id: int) -> None:
        async def delete(tx: Tx) -> None:
            await tx.execute("DELETE FROM outbox WHERE id=?", (post_id,))

        await self.db.write(delete)

    async def unsent(self) -> list[Post]:
        async def q(tx: Tx) -> list[Row]:
            return await tx.all("SELECT * FROM outbox ORDER BY id")

        return [_post(r) for r in await self.db.read(q)]


def _post(row: Any) -> Post:
    return Post(row["id"], row["room_id"], json.loads(row["content"]), row["txn_id"])
