"""What the scheduler feeds partner rooms (the partner update with each scheduled sitrep,
the T-minus reminders of their takedowns), and how it stops: /partner unlink, or the bot
losing the room. A clock the tests move by hand; posts collected instead of sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.intake import RoomLanes
from bot.runtime import Bot
from bot.scheduler import SitrepScheduler
from bot.sending import Outgoing, SendQueues
from commands import partner_room_lost
from storage.audit import Actor
from storage.outbox import Outbox, Post
from tests.harness import LEAD, ROOM, Harness
from tests.test_sending import FakeClient, wait_until

HOST = "!host:localhost"  # Example Hosting's room
REGISTRAR = "!registrar:localhost"


class Sink:
    """Stands in for the bot: what the scheduler would post, room by room."""

    def __init__(self, h: Harness) -> None:
        self.db = h.db
        self.clock = h.clock
        self.posts: list[tuple[str, str]] = []
        self.sent: list[Post] = []

    async def post(self, room_id: str, text: str, html: str, extra: dict | None = None,
                   *, lang: str | None = None) -> None:
        self.posts.append((room_id, text))

    def send_post(self, post: Post) -> None:
        self.sent.append(post)
        self.posts.append((post.room_id, post.content["body"]))

    def to(self, room_id: str) -> list[str]:
        return [text for room, text in self.posts if room == room_id]


def scheduler_for(h: Harness) -> tuple[SitrepScheduler, Sink]:
    sink = Sink(h)
    sched = SitrepScheduler()
    sched.bot = sink  # type: ignore[assignment]
    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    return sched, sink


async def at(h: Harness, when: str) -> None:
    h.clock.current = datetime.fromisoformat(when).replace(tzinfo=UTC)


async def two_partners(h: Harness) -> None:
    """Example Hosting (alias "Operation Lantern", Amsterdam) has S-1 and K-1; the
    Registrar (no alias, New York) has S-3 and K-2. S-2 and K-3 are TLP:AMBER, a suspect
    is arrested: none of those is any partner's."""
    h.dispatcher.shared_rooms = lambda user: {HOST, REGISTRAR}
    await h.ok("!seize server 203.0.113.5 tlp=GREEN")
    await h.ok("!seize domain secret-panel.example tlp=AMBER")
    await h.ok("!seize domain shop-front.example tlp=GREEN")
    await h.ok("!arrest add SUSPECT-1 country=FR agency=FR-OFAC")
    await h.ok("!hhour 2026-11-26T04:00Z")
    await h.ok("!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN")
    await h.ok("!takedown add S-3 agency=FR-OFAC at=H+30m tlp=GREEN")
    await h.ok("!takedown add S-2 agency=FR-OFAC at=H tlp=AMBER")
    await h.ok(f'!partner link {HOST} name="Example Hosting" tz=Europe/Amsterdam '
               'alias="Operation Lantern"')
    await h.ok(f'!partner link {REGISTRAR} name="Registrar" tz=America/New_York')
    await h.ok('!partner assign S-1 K-1 "Example Hosting"')
    await h.ok('!partner assign S-3 K-2 "Registrar"')


def holds_nothing_of_the_police(text: str) -> None:
    for secret in ("FIREBREAK", "Firebreak", "SUSPECT-1", "secret-panel", "K-3", "S-2",
                   "TLP:AMBER"):
        assert secret not in text, f"{secret} reached a partner room:\n{text}"


async def test_each_scheduled_sitrep_brings_each_partner_an_update_of_only_its_own_items(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!sitrep every 1h")
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-24T13:00:05")
    await sched.reconcile()
    await sched.reconcile()
    assert [t.splitlines()[0] for t in sink.to(ROOM)] == [
        "SITREP #1 · Operation Firebreak (FIREBREAK) · TLP:AMBER"]
    [host] = sink.to(HOST)
    assert host.splitlines()[0] == ("Partner update #1 · Operation Lantern · 241300ZNOV26 "
                                    "(Nov 24, 2026, 14:00 CET)")
    assert "H-hour: 260400ZNOV26 (Nov 26, 2026, 05:00 CET)" in host
    assert "S-1" in host and "203[.]0[.]113[.]5" in host and "K-1" in host
    assert "shop-front" not in host and "K-2" not in host  # the Registrar's
    holds_nothing_of_the_police(host)
    [registrar] = sink.to(REGISTRAR)
    assert registrar.splitlines()[0].startswith("Partner update #1 · the joint operation · ")
    assert "Nov 25, 2026, 23:00 EST" in registrar  # H-hour on New York's clock
    assert "K-2" in registrar and "shop-front" in registrar and "K-1" not in registrar
    holds_nothing_of_the_police(registrar)

    # A record raised above the link's TLP after it was assigned drops out of the next one.
    [k1] = await h.rows("SELECT * FROM takedowns WHERE seq=1")
    await h.db.write(lambda tx: tx.update("takedowns", k1["id"], {"tlp": "AMBER"}),
                     actor=Actor(ROOM, LEAD, "$raise", "(test)", "2026-11-24T13:30:00Z"))
    await at(h, "2026-11-24T14:00:05")
    await sched.reconcile()
    host = sink.to(HOST)[-1]
    assert host.startswith("Partner update #2 · Operation Lantern")
    assert "S-1" in host and "K-1" not in host
    assert len(sink.to(ROOM)) == 2 and len(sink.to(REGISTRAR)) == 2


async def test_partners_with_a_takedown_get_each_t_minus_reminder_once_and_on_time(
        h: Harness) -> None:
    await two_partners(h)
    h.dispatcher.shared_rooms = lambda user: {HOST, REGISTRAR, "!bank:localhost"}
    await h.ok('!partner link !bank:localhost name="Bank" tz=Europe/London')
    await h.ok('!seize account DE89370400440532013000 tlp=GREEN')
    await h.ok('!partner assign S-4 "Bank"')  # an item, no takedown: nothing to remind
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-25T03:59:00")
    await sched.post_reminders()
    assert sink.to(HOST) == []
    await at(h, "2026-11-25T04:00:20")
    await sched.post_reminders()
    await sched.post_reminders()
    [h24] = sink.to(HOST)
    assert h24.splitlines()[0] == ("⏱ H-24h · Operation Lantern · H-hour 260400ZNOV26 "
                                   "(Nov 26, 2026, 05:00 CET) (in 23h59m)")
    assert "K-1" in h24 and "planned 260400ZNOV26 (Nov 26, 2026, 05:00 CET)" in h24
    assert "K-2" not in h24
    holds_nothing_of_the_police(h24)
    [r24] = sink.to(REGISTRAR)
    assert r24.startswith("⏱ H-24h · the joint operation · H-hour 260400ZNOV26 "
                          "(Nov 25, 2026, 23:00 EST)")
    assert "K-2" in r24 and "K-1" not in r24
    assert sink.to("!bank:localhost") == []
    assert len(sink.to(ROOM)) == 1  # the operation's own, as before

    restarted, sink2 = scheduler_for(h)  # a restart repeats none
    await restarted.post_reminders()
    assert sink2.posts == []
    for moment, head in (("2026-11-26T03:00:10", "⏱ H-1h · Operation Lantern"),
                         ("2026-11-26T03:45:10", "⏱ H-15m · Operation Lantern"),
                         ("2026-11-26T04:00:10", "⏱ H-HOUR NOW · Operation Lantern")):
        await at(h, moment)
        await restarted.post_reminders()
        await restarted.post_reminders()
        assert sink2.to(HOST)[-1].startswith(head)
        assert "late" not in sink2.to(HOST)[-1]
    assert len(sink2.to(HOST)) == 3 and len(sink2.to(REGISTRAR)) == 3


async def test_reminders_that_passed_before_the_partner_had_a_takedown_are_not_posted_late(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!hhour 2026-11-24T12:30Z")  # H-1h and H-15m passed before anything
    sched, sink = scheduler_for(h)
    await sched.post_reminders()
    assert sink.to(HOST) == []
    await at(h, "2026-11-24T12:30:05")
    await sched.post_reminders()
    [now] = sink.to(HOST)
    assert now.startswith("⏱ H-HOUR NOW · Operation Lantern")


async def test_after_unlink_a_partner_gets_no_sitrep_and_no_reminder(h: Harness) -> None:
    await two_partners(h)
    await h.ok("!sitrep every 1h")
    await h.ok('!partner unlink "Example Hosting"')
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-24T13:00:05")
    await sched.reconcile()
    await at(h, "2026-11-25T04:00:20")
    await sched.reconcile()
    await at(h, "2026-11-26T04:00:10")
    await sched.reconcile()
    assert sink.to(HOST) == []
    assert any(t.startswith("Partner update") for t in sink.to(REGISTRAR))
    assert any(t.startswith("⏱ H-HOUR NOW") for t in sink.to(REGISTRAR))


class Sending:
    """The part of the bot an outbox post goes out through (Bot.send_post)."""

    send_post = Bot.send_post

    def __init__(self, outbox: Outbox, queues: SendQueues) -> None:
        self.outbox = outbox
        self.sender = queues


async def test_a_post_still_waiting_for_an_unlinked_room_is_dropped_not_sent_later(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!sitrep every 1h")
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-24T13:00:05")
    await sched.reconcile()  # the partner update is in the outbox; the homeserver is down
    [update] = [p for p in sink.sent if p.room_id == HOST]
    outbox = Outbox(h.db)
    assert await outbox.pending(update.id)
    client = FakeClient()
    client.gate = asyncio.Event()
    queues = SendQueues(client)  # type: ignore[arg-type]
    queues.put(Outgoing(ROOM, {"body": "in flight"}))  # holds the room's worker up
    queues.put(Outgoing(HOST, {"body": "something else"}))
    Sending(outbox, queues).send_post(update)

    await h.ok('!partner unlink "Example Hosting"')
    assert not await outbox.pending(update.id)
    left = [p for p in await outbox.unsent() if p.room_id == HOST]
    assert [p.content["body"] for p in left] == [
        "🔌 This room is no longer linked to the operation: nothing more comes here from it, "
        "and nothing sent here is recorded."]  # a restart sends only the goodbye
    client.gate.set()  # the homeserver is back
    await wait_until(lambda: len(client.sent) == 2)
    await queues.close()
    assert [c["body"] for room, c in client.sent if room == HOST] == ["something else"]
    assert any(p.room_id == REGISTRAR for p in await outbox.unsent())  # not another room's


async def test_losing_a_partner_room_ends_its_link_and_tells_the_operation(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!sitrep every 1h")
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-24T13:00:05")
    await sched.reconcile()
    now = h.clock.now()

    async def lose(room: str) -> list[Any]:
        return await h.db.write(lambda tx: partner_room_lost(tx, room, now, "en"))

    assert await lose("!unrelated:localhost") == []
    [told] = await lose(HOST)
    assert told.room_id == ROOM
    assert told.content["body"] == (
        "🔌 The bot is no longer in Example Hosting's room (!host:localhost): the link ended, "
        "nothing more is sent there. To feed the partner again, invite the bot to a room and "
        "/partner link it.")
    assert [p for p in await Outbox(h.db).unsent() if p.room_id == HOST] == []
    [entry] = await h.rows("SELECT * FROM audit_log WHERE tbl='partner_links' AND "
                           "sender='(partner room)'")
    assert entry["room_id"] == ROOM
    assert "Partners: 1" in (await h.ok("!partner list")).text
    assert "audit log intact" in (await h.ok("!audit verify")).text
    assert await lose(HOST) == []  # the leave seen again (a replayed sync): nothing twice
    await at(h, "2026-11-25T04:00:20")
    await sched.reconcile()
    assert len(sink.to(HOST)) == 1  # only the update from before


class Syncing:
    """The part of the bot a sync's rooms go through (Bot._take), on the harness's
    database, with what it would send kept in a list."""

    _take = Bot._take
    _forget_room = Bot._forget_room
    _room_lost = Bot._room_lost

    def __init__(self, h: Harness) -> None:
        self.db = h.db
        self.clock = h.clock
        self.config = SimpleNamespace(settings=SimpleNamespace(language="en"))
        self.state: dict[str, Any] = {"joined_at": {HOST: 1}, "warned": []}
        self.power = SimpleNamespace(forget=lambda room: None)
        self.lanes = RoomLanes()
        self.handled: list[Any] = []
        self.checkpoints = SimpleNamespace(add=lambda token, handled: self.handled.extend(
            handled))
        self.sent: list[Post] = []

    def send_post(self, post: Post) -> None:
        self.sent.append(post)


async def test_a_sync_that_shows_the_bot_out_of_a_partner_room_ends_the_link(
        h: Harness) -> None:
    await two_partners(h)
    bot = Syncing(h)
    left = SimpleNamespace(rooms=SimpleNamespace(invite={}, join={}, leave={HOST: None}),
                           next_batch="s2")
    bot._take(left, "s1")  # type: ignore[arg-type]
    assert await asyncio.gather(*bot.handled) == [True]  # the token waits for it
    [told] = bot.sent
    assert told.room_id == ROOM and "Example Hosting's room" in told.content["body"]
    text = (await h.ok("!partner list")).text
    assert "Example Hosting" not in text and "Registrar" in text


async def test_a_reminder_withholds_a_takedowns_target_whose_item_is_not_the_partners(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!takedown add S-2 agency=FR-OFAC at=H tlp=GREEN")  # K-4: an AMBER item
    await h.ok('!partner assign K-4 "Example Hosting"')
    sched, sink = scheduler_for(h)
    await at(h, "2026-11-25T04:00:20")
    await sched.post_reminders()
    [h24] = sink.to(HOST)
    assert "K-4" in h24 and "S-2 (withheld)" in h24
    assert "secret-panel" not in h24
