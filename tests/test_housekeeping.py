"""Handled events are forgotten after the retention, never earlier: a redelivery inside
the window is still recognised (not run twice), and a reply still owed is kept."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot.config import parse
from bot.housekeeping import Housekeeping, prune
from storage.housekeeping import PRUNE_CHUNK
from tests.harness import Harness
from tests.test_config import GOOD

RETENTION = 90


async def delivered(h: Harness, *event_ids: str) -> None:
    for event_id in event_ids:
        await h.dispatcher.delivered(event_id)


async def test_a_redelivery_inside_the_retention_is_still_recognised(h: Harness) -> None:
    event = h.incoming('!task add "Image server fra-2"')
    assert (await h.dispatcher.handle(event)).ok
    await delivered(h, event.event_id)
    h.clock.advance(days=RETENTION - 1)
    assert await prune(h.db, h.clock.now(), RETENTION) == 0
    again = await h.dispatcher.handle(event)
    assert again.duplicate, "redelivered within the window: answered before, not run again"
    assert len(await h.rows("SELECT * FROM tasks")) == 1


async def test_events_older_than_the_retention_are_pruned_unsent_replies_kept(
        h: Harness) -> None:
    old = [h.incoming(f'!task add "old {n}"') for n in range(3)]
    for msg in old:
        await h.dispatcher.handle(msg)
    await delivered(h, old[0].event_id, old[1].event_id)  # old[2]'s reply is still owed
    h.clock.advance(days=RETENTION + 1)
    recent = h.incoming('!task add "recent"')
    await h.dispatcher.handle(recent)
    await delivered(h, recent.event_id)
    assert await prune(h.db, h.clock.now(), RETENTION) == 2
    kept = {r["event_id"] for r in await h.rows("SELECT event_id FROM processed_events")}
    assert old[2].event_id in kept and recent.event_id in kept
    assert not {old[0].event_id, old[1].event_id} & kept
    assert [r for r in await h.dispatcher.undelivered() if r[1] == old[2].event_id]


async def test_pruning_goes_in_chunks_until_everything_old_is_gone(h: Harness) -> None:
    rows = [(f"$old{n}", h.room, "@x:localhost", "{}", 1, "2020-01-01T00:00:00Z")
            for n in range(PRUNE_CHUNK * 2 + 10)]

    async def insert(tx):  # type: ignore[no-untyped-def]
        for row in rows:
            await tx.execute("INSERT INTO processed_events (event_id, room_id, sender, reply, "
                             "delivered, processed_at) VALUES (?, ?, ?, ?, ?, ?)", row)

    await h.db.write(insert)
    assert await prune(h.db, h.clock.now(), RETENTION) == len(rows)


async def test_the_service_prunes_at_start(h: Harness) -> None:
    event = h.incoming('!task add "x"')
    await h.dispatcher.handle(event)
    await delivered(h, event.event_id)
    h.clock.advance(days=RETENTION + 1)
    bot = SimpleNamespace(db=h.db, clock=h.clock, config=parse(GOOD))
    service = Housekeeping()
    await service.start(bot)  # type: ignore[arg-type]
    for _ in range(100):
        if not await h.rows("SELECT * FROM processed_events WHERE event_id=?",
                            (event.event_id,)):
            break
        await asyncio.sleep(0.02)
    await service.stop()
    assert not await h.rows("SELECT * FROM processed_events WHERE event_id=?",
                            (event.event_id,))
