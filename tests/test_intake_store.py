"""What the bot keeps about its intake survives a restart: room marks, commands waiting
for their key, and posts not yet sent (storage.intake, storage.outbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.database import Database
from storage.intake import IntakeStore, RoomMark
from storage.outbox import Outbox

ROOM = "!room:localhost"
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
SEALED = {"type": "m.room.encrypted", "event_id": "$sealed", "sender": "@officer:localhost",
          "origin_server_ts": 1, "content": {"algorithm": "m.megolm.v1.aes-sha2",
                                             "ciphertext": "...", "session_id": "s",
                                             "sender_key": "k", "device_id": "D"}}


async def reopen(db: Database) -> Database:
    await db.close()
    return await Database.open(db.path)


async def test_a_room_mark_moves_forward_and_survives_a_restart(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "opsroom.db")
    store = IntakeStore(db)
    assert await store.room_mark(ROOM) is None
    await store.set_room_mark(ROOM, RoomMark("$1", 100), NOW)
    await store.set_room_mark(ROOM, RoomMark("$2", 200), NOW)
    db = await reopen(db)
    assert await IntakeStore(db).room_mark(ROOM) == RoomMark("$2", 200)
    await db.close()


async def test_an_undecryptable_command_is_held_once_and_survives_a_restart(
        tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "opsroom.db")
    await IntakeStore(db).hold(ROOM, "$sealed", SEALED, NOW)
    await IntakeStore(db).hold(ROOM, "$sealed", SEALED, NOW.replace(hour=5))  # seen again
    db = await reopen(db)
    [held] = await IntakeStore(db).held()
    assert (held.room_id, held.event_id, held.event, held.first_seen) == (
        ROOM, "$sealed", SEALED, NOW)
    await IntakeStore(db).release("$sealed")
    assert await IntakeStore(db).held() == []
    await db.close()


async def test_giving_up_swaps_the_held_command_for_its_notice_in_one_step(
        tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "opsroom.db")
    store = IntakeStore(db)
    await store.hold(ROOM, "$sealed", SEALED, NOW)
    notice = {"msgtype": "m.notice", "body": "could not decrypt"}
    post = await store.give_up("$sealed", ROOM, notice, NOW)
    assert post is not None and post.content == notice
    assert await store.give_up("$sealed", ROOM, notice, NOW) is None, "answered once"
    db = await reopen(db)
    assert await IntakeStore(db).held() == []
    assert await Outbox(db).unsent() == [post], "the notice is owed until it is sent"
    await db.close()


async def test_a_post_is_owed_until_sent_and_each_has_its_own_transaction_id(
        tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "opsroom.db")
    outbox = Outbox(db)
    first = await outbox.add(ROOM, {"body": "sitrep 1"}, NOW)
    await outbox.sent(first.id)
    second = await outbox.add(ROOM, {"body": "sitrep 2"}, NOW)
    assert second.txn_id != first.txn_id, "a reused id would make the server drop the post"
    db = await reopen(db)
    assert [p.content for p in await Outbox(db).unsent()] == [{"body": "sitrep 2"}]
    await db.close()
