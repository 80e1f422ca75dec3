"""Posts the bot owes a room that are not replies to a command (sitreps, reminders, the
"could not decrypt" notice, the scheduled action-day board): kept until the homeserver has
them, so a post that a shutdown or an outage kept from going out is sent at the next start
instead of being lost. A picture is kept with its post (`PostImage`), so the restart sends
the picture that was made when the post was due, as a sitrep's text is the one made then.

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
from storage.statements import placeholders
from storage.tx import Row, Tx


@dataclass(frozen=True)
class PostImage:
    """A PNG posted as m.image, with its thumbnail (the content gets their uploads)."""

    filename: str
    data: bytes
    width: int
    height: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int
    mimetype: str = "image/png"


@dataclass(frozen=True)
class Post:
    id: int
    room_id: str
    content: dict[str, Any]
    txn_id: str  # the homeserver's transaction id: sending it again never posts it twice
    image: PostImage | None = None


async def add_post(tx: Tx, room_id: str, content: dict[str, Any], now: datetime,
                   image: PostImage | None = None) -> Post:
    """Inside the caller's transaction, so the post exists exactly if what it reports does."""
    meta = None if image is None else json.dumps({
        "filename": image.filename, "mimetype": image.mimetype, "width": image.width,
        "height": image.height, "thumbnail_width": image.thumbnail_width,
        "thumbnail_height": image.thumbnail_height})
    row = await tx.one(
        "INSERT INTO outbox (room_id, content, txn_id, created_at, image, image_data, "
        "thumbnail_data) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (room_id, json.dumps(content), f"opsroom-post-{uuid.uuid4().hex}", to_db_time(now),
         meta, None if image is None else image.data,
         None if image is None else image.thumbnail))
    return _post(row)


async def drop_for_room(tx: Tx, room_id: str) -> int:
    """Forget what is still to be sent to `room_id` (a partner room whose link ended: it
    is to get nothing more from the operation, not even a post owed from before); how many."""
    await tx.execute("DELETE FROM outbox WHERE room_id=?", (room_id,))
    return int(await tx.scalar("SELECT changes()"))


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, room_id: str, content: dict[str, Any], now: datetime) -> Post:
        return await self.db.write(lambda tx: add_post(tx, room_id, content, now))

    async def sent(self, post_id: int) -> None:
        async def delete(tx: Tx) -> None:
            await tx.execute("DELETE FROM outbox WHERE id=?", (post_id,))

        await self.db.write(delete)

    async def pending(self, post_id: int) -> bool:
        """Whether the post is still to be sent (not sent, not dropped since it was queued)."""

        async def q(tx: Tx) -> bool:
            return await tx.one("SELECT 1 FROM outbox WHERE id=?", (post_id,)) is not None

        return await self.db.read(q)

    async def posts(self, ids: tuple[int, ...]) -> list[Post]:
        """Posts a command wrote in its own transaction (in `Reply.posts`), to send now."""
        marks = placeholders(ids)

        async def q(tx: Tx) -> list[Row]:
            return await tx.all(f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY id", ids)

        return [_post(r) for r in await self.db.read(q)]

    async def unsent(self) -> list[Post]:
        async def q(tx: Tx) -> list[Row]:
            return await tx.all("SELECT * FROM outbox ORDER BY id")

        return [_post(r) for r in await self.db.read(q)]


def _post(row: Any) -> Post:
    image = None
    if row["image"] is not None:
        image = PostImage(data=bytes(row["image_data"]),
                          thumbnail=bytes(row["thumbnail_data"]), **json.loads(row["image"]))
    return Post(row["id"], row["room_id"], json.loads(row["content"]), row["txn_id"], image)


async def rooms_of(tx: Tx, ids: tuple[int, ...]) -> list[str]:
    """The rooms posts written in this transaction go to (a disclosure's recipients)."""
    rows = await tx.all(f"SELECT DISTINCT room_id FROM outbox WHERE id IN ({placeholders(ids)}) "
                        "ORDER BY room_id", ids)
    return [r["room_id"] for r in rows]
