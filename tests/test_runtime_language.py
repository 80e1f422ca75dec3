"""The runtime writes each post in its reader's language and marks it so (issue 17): a
scheduled post in the room's, an answer to one member in that member's, a reply in the
language the dispatcher wrote it in. Checked by the marks `notice_content` adds for a
right-to-left language, not by translated words (the catalogues are merged later)."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.notice_limit import NoticeLimit
from bot.runtime import Bot, edit_notice
from bot.scheduler import SitrepScheduler
from bot.sending import Outgoing
from commands import RateLimit, RateLimiter, Reply
from storage.outbox import Outbox, Post
from tests.harness import OFFICER, Harness

RLM, LRI, PDI = "\u200f", "\u2066", "\u2069"


class Poster:
    """The part of the bot a scheduled post goes through (Bot.post), with the outbox on the
    harness's database and the send queue a list."""

    post = Bot.post

    def __init__(self, h: Harness) -> None:
        self.db = h.db
        self.clock = h.clock
        self.outbox = Outbox(h.db)
        self.sent: list[Post] = []

    def send_post(self, post: Post) -> None:
        self.sent.append(post)


async def set_room_language(h: Harness, lang: str | None) -> None:
    async def write(tx: Any) -> None:
        await tx.execute("UPDATE operations SET lang=? WHERE room_id=?", (lang, h.room))

    await h.db.write(write)


async def scheduled_sitrep(h: Harness) -> Post:
    await h.ok("!sitrep every 1h")
    poster = Poster(h)
    sched = SitrepScheduler()
    sched.bot = poster  # type: ignore[assignment]
    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    h.clock.advance(hours=1, seconds=5)
    await sched.reconcile()
    [post] = [p for p in poster.sent if p.content.get("msgtype") == "m.notice"]
    return post


async def test_a_scheduled_sitrep_is_made_and_marked_in_the_rooms_language(h: Harness
                                                                           ) -> None:
    await set_room_language(h, "ar")
    post = await scheduled_sitrep(h)
    assert post.content["body"].startswith(RLM)
    assert LRI in post.content["body"]  # the record numbers and DTGs read left to right
    assert post.content["formatted_body"].startswith('<div dir="rtl">' + RLM)


async def test_a_scheduled_sitrep_in_an_english_room_has_no_marks(h: Harness) -> None:
    post = await scheduled_sitrep(h)
    assert "SITREP #1" in post.content["body"]
    assert RLM not in post.content["body"] and LRI not in post.content["body"]


async def test_the_scheduler_hands_the_bot_the_language_the_reminder_was_made_in(
        h: Harness) -> None:
    await set_room_language(h, "ar")
    await h.ok("!hhour 2026-11-25T12:00Z")
    posted: list[str | None] = []

    async def post(room_id: str, text: str, html: str, extra: Any = None, *,
                   lang: str | None = None) -> None:
        posted.append(lang)

    sched = SitrepScheduler(language="fr")
    sched.bot = SimpleNamespace(db=h.db, clock=h.clock, post=post)  # type: ignore[assignment]
    h.clock.advance(seconds=30)  # the H-24h reminder is due
    await sched.post_reminders()
    assert posted == ["ar"]


class Queue:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def put(self, item: Outgoing) -> None:
        self.sent.append(item)

    put_when_quiet = put

    async def room_for(self, room_id: str) -> None:
        return None


def replying_bot(h: Harness | None = None) -> Any:
    """A bot with what sending a reply or a notice needs: a queue, a dispatcher."""
    bot = Bot.__new__(Bot)
    bot.sender = Queue()  # type: ignore[assignment]
    if h is not None:
        bot.db = h.db
        bot.dispatcher = h.dispatcher
        bot.config = SimpleNamespace(settings=h.dispatcher.settings)  # type: ignore[assignment]
        bot.notices = NoticeLimit(RateLimiter(RateLimit(per_minute=6, burst=1)),
                                  lambda: h.clock.now().timestamp())
    return bot


def answer_body(bot: Any) -> str:
    return bot.sender.sent[0].content["body"]


def test_an_arabic_reply_is_marked_right_to_left_with_identifiers_isolated() -> None:
    bot = replying_bot()
    reply = Reply(ok=True, text="أُنشئت T-12 للضابط @anna:police.example.",
                  html="أُنشئت <b>T-12</b> للضابط @anna:police.example.", lang="ar")
    bot.send_reply("!op:localhost", "$cmd", reply)
    content = bot.sender.sent[0].content
    assert content["body"].startswith(RLM)
    assert f"{LRI}T-12{PDI}" in content["body"]
    assert f"{LRI}@anna:police.example{PDI}." in content["body"]
    assert content["formatted_body"].startswith('<div dir="rtl">' + RLM)
    assert f"<b>{LRI}T-12{PDI}</b>" in content["formatted_body"]


def test_an_english_reply_carries_no_marks() -> None:
    bot = replying_bot()
    bot.send_reply("!op:localhost", "$cmd", Reply(ok=True, text="T-12 created: Seize server",
                                                   html="<b>T-12</b> created", lang="en"))
    content = bot.sender.sent[0].content
    assert content["body"] == "T-12 created: Seize server"
    assert not {RLM, LRI, PDI} & set(content["body"] + content["formatted_body"])


async def test_an_answer_to_one_member_is_in_their_language_the_summary_in_the_rooms(
        h: Harness) -> None:
    await h.ok("!lang ar", sender=OFFICER)
    bot = replying_bot(h)
    await bot._answer_event(h.room, OFFICER, edit_notice, "$edit1")
    await bot._answer_event(h.room, OFFICER, edit_notice, "$edit2")  # past the limit
    answer, summary = (item.content for item in bot.sender.sent)
    assert answer["body"].startswith(RLM) and answer["m.relates_to"]["m.in_reply_to"] == {
        "event_id": "$edit1"}
    assert OFFICER in summary["body"] and RLM not in summary["body"]  # the room reads English
    assert "m.relates_to" not in summary


async def test_an_answer_to_a_member_without_a_choice_is_in_the_rooms_language(
        h: Harness) -> None:
    await set_room_language(h, "ar")
    bot = replying_bot(h)
    await bot._answer_event(h.room, OFFICER, edit_notice, "$edit")
    assert answer_body(bot).startswith(RLM)


async def test_an_identity_change_is_told_in_the_rooms_language(h: Harness) -> None:
    await set_room_language(h, "ar")
    await h.ok("!lang en", sender=OFFICER)
    bot = replying_bot(h)
    from bot.crypto.device_trust import changed_text

    await bot._tell_room(h.room, lambda: changed_text(OFFICER))
    assert answer_body(bot).startswith(RLM) and f"{LRI}{OFFICER}" in answer_body(bot)


def test_a_malformed_events_reason_is_logged_in_english_and_said_with_its_field() -> None:
    from bot.event_shape import NOT_OBJECT, Reason
    from bot.runtime import malformed_text
    from commands import speaking

    why = Reason(NOT_OBJECT, "m.relates_to")
    assert why == "m.relates_to is not an object" and f"{why}" == why  # the log's text
    with speaking("fr"):
        told = malformed_text(why)
    assert "m.relates_to" in told and why.said() in malformed_text(why)
