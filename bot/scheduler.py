"""Posts scheduled sitreps and reminders into the rooms.

The database is the only source of truth: APScheduler (3.x, AsyncIOScheduler) jobs are
rebuilt from `sitrep_schedules` at start-up and whenever a lead changes a schedule (a
one-second reconcile job notices). A job firing, or the start-up catch-up, asks
`commands.schedule.latest_due_slot` which slot is due and `commands.sitrep.produce`
records it under a UNIQUE (operation, slot) key, so a slot is posted once: late after
downtime (only the latest missed one), never twice. The action-day board follows at
H − before_h and after each sitrep of the action phase (commands.board_schedule): owed in
the transaction that decides it, drawn outside any transaction, posted through the outbox.
Deconfliction hits held for their grace period are made and told when due
(commands.deconflict.release_due), their notices through the outbox too.

Each live partner room of an operation (commands.partner_feed) gets its partner update with
the operation's scheduled sitrep, in the same transaction, and the T-minus reminders of its
own takedowns; both written to the outbox there, read only through the partner gate.

Each post is written for the whole room, in the room's language (`/op lang`, else the
bot's default): it is put in force around what makes the post, and the post is marked
with it (`Reply.lang`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.erasure import erase_due, finish_all
from bot.redaction import redact_own
from commands import (
    SCHEDULED_BOARD,
    SCHEDULED_SITREP,
    BoardSchedule,
    Reply,
    board_posted,
    boards_due,
    deconfliction_anything_due,
    deconfliction_due,
    due_reminders,
    i18n,
    latest_due_slot,
    log_scheduled_post,
    owe_board_with_sitrep,
    partner_reminders,
    partner_sitreps,
    produce_sitrep,
    record_handles,
    record_reminder,
    retention_warnings,
    speaking,
    trigger_for,
)
from exports.board import make_board
from storage import languages, operations, sitreps
from storage.codec import from_db_time
from storage.outbox import Post, PostImage
from storage.tx import Row, Tx

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)
STOP_WAITING_S = 5.0
ON_TIME = timedelta(seconds=30)  # jobs post within a second or two; later than this is "late"


class SitrepScheduler:
    def __init__(self, reconcile_seconds: float = 1.0,
                 boards: BoardSchedule | None = None, deconfliction: bool = True,
                 language: str | None = None, retention_periods: dict[str, str] | None = None,
                 contact: str | None = None) -> None:
        self.reconcile_seconds = reconcile_seconds
        # Review periods by category (config [personal_data]; the bot's at start when not
        # given) and the data-protection contact's room, told when the bot left a room.
        self.retention_periods = retention_periods
        self.contact = contact
        # The bot's default language, for rooms that chose none (from the bot's settings
        # at start when not given).
        self.language = language
        self.boards = boards or BoardSchedule()
        self.deconfliction = deconfliction  # off: held hits are dropped, nobody is told
        self._drawing = asyncio.Lock()  # one board at a time: a second run finds it settled
        self._jobs: dict[int, tuple[str, str, str, str]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self.scheduler: AsyncIOScheduler | None = None
        self.bot: Bot
        # Who posts and who receives in a room, for the consultation log of the posts the
        # bot makes by itself: the bot's user and the room's members (set at start).
        self.audience: Callable[[str], tuple[str, Collection[str]]] = lambda room: (
            "@opsroom", ())
        # Whether the bot is still in a room (set at start): a review warning for a room it
        # left goes to the data-protection contact instead.
        self.in_room: Callable[[str], bool] = lambda room: True

    async def start(self, bot: Bot) -> None:
        self.bot = bot
        self.audience = bot.audience
        self.in_room = bot.in_room
        if self.language is None:
            self.language = bot.config.settings.language
        if self.retention_periods is None:
            self.retention_periods = bot.config.settings.retention_periods
        if self.contact is None:
            self.contact = bot.config.data_protection_room
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.start()
        await self.reconcile()
        self.scheduler.add_job(self._job, IntervalTrigger(seconds=self.reconcile_seconds),
                               args=[self.reconcile],
                               id="reconcile", coalesce=True, max_instances=1)

    async def stop(self) -> None:
        """No new job starts; one under way (a sitrep being recorded, a board being drawn,
        half a second) is let finish before the database closes behind it. What it owed is
        durable either way; this keeps a shutdown from cutting it off mid-write."""
        if self.scheduler is None:
            return
        self.scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=STOP_WAITING_S)
        self.scheduler.shutdown(wait=False)  # cancels what is still running after that

    async def _job(self, work: Callable[..., Awaitable[None]], *args: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            await work(*args)
        finally:
            self._running.discard(task)

    def now(self) -> datetime:
        return self.bot.clock.now()

    def room_language(self, op: Row | None) -> str:
        """What the room of `op` reads: its own language, else the bot's default."""
        return (op["lang"] if op is not None else None) or self.default_language()

    def default_language(self) -> str:
        return self.language or i18n.SOURCE

    @contextmanager
    def speaking_to(self, op: Row | None) -> Iterator[str]:
        """Everything made inside is in the room's language."""
        with speaking(self.room_language(op)) as lang:
            yield lang

    async def reconcile(self) -> None:
        """Sync jobs with the schedules in the database, then post what is due."""
        rows = await self.bot.db.read(sitreps.active_schedules)
        wanted = {r["op_id"]: r for r in rows}
        assert self.scheduler is not None
        for op_id in set(self._jobs) - set(wanted):
            self.scheduler.remove_job(f"sitrep-{op_id}")
            del self._jobs[op_id]
        for op_id, row in wanted.items():
            signature = (row["kind"], row["spec"], row["tz"], row["anchor"])
            if self._jobs.get(op_id) != signature:
                trigger = trigger_for(*signature)
                self.scheduler.add_job(self._job, trigger, args=[self.post_due_sitrep, op_id],
                                       id=f"sitrep-{op_id}", replace_existing=True,
                                       coalesce=True, misfire_grace_time=None)
                self._jobs[op_id] = signature
            await self.post_due_sitrep(op_id)
        await self.post_reminders()
        await self.post_retention_warnings()
        await self.post_boards()
        await self.post_deconfliction()
        await self.run_erasures()

    async def run_erasures(self) -> None:
        """Erase what the retention policy says is due, with nobody acting, and finish any
        erasure cut short (bot.erasure): each tick, so the due minute is kept."""
        now = self.now()
        await erase_due(self.bot.db, now, self.retention_periods or {})
        await finish_all(self.bot.db, now, self._post_erasure, self._redact)

    async def _post_erasure(self, room_id: str, reply: Reply) -> None:
        await self.bot.post(room_id, reply.text, reply.html, lang=reply.lang)

    async def _redact(self, room_id: str, event_ids: Sequence[str]) -> int:
        return await redact_own(self.bot.client, room_id, event_ids)

    async def post_due_sitrep(self, op_id: int) -> None:
        now = self.now()

        async def decide(tx: Tx) -> tuple[str, Reply, list[Post]] | None:
            row = await sitreps.schedule_with_room(tx, op_id)
            if row is None:
                return None
            last = await sitreps.last_slot(tx, op_id)
            anchor = from_db_time(row["anchor"])
            after = max(anchor, from_db_time(last)) if last else anchor
            trigger = trigger_for(row["kind"], row["spec"], row["tz"], row["anchor"])
            slot = latest_due_slot(trigger, after, now)
            if slot is None:
                return None
            op = await operations.by_id(tx, op_id)
            assert op is not None  # the schedule's row joined it
            with self.speaking_to(op):
                reply = await produce_sitrep(tx, op, now, slot=slot, late=now - slot > ON_TIME)
            if reply is None:
                return None
            sitrep = await sitreps.latest(tx, op_id)
            assert sitrep is not None
            poster, members = self.audience(row["room_id"])
            await log_scheduled_post(tx, row["room_id"], now, poster, members,
                                     SCHEDULED_SITREP, reply.text.encode("utf-8"),
                                     len(record_handles(reply.text)))
            await owe_board_with_sitrep(tx, op, sitrep["number"], now, self.boards)
            partner_posts = await partner_sitreps(tx, op, now, self.default_language())
            for post in partner_posts:  # a partner's update discloses its assigned items
                text = str(post.content.get("body", ""))
                poster, members = self.audience(post.room_id)
                await log_scheduled_post(tx, post.room_id, now, poster, members,
                                         SCHEDULED_SITREP, text.encode("utf-8"),
                                         len(record_handles(text)))
            return row["room_id"], reply, partner_posts

        result = await self.bot.db.write(decide)
        if result:
            room_id, reply, partner_posts = result
            await self.bot.post(room_id, reply.text, reply.html, reply.extra_content,
                                lang=reply.lang)
            for post in partner_posts:
                self.bot.send_post(post)
            await self.post_boards()  # the sitrep's board right behind it

    async def post_reminders(self) -> None:
        now = self.now()

        async def decide(tx: Tx) -> tuple[list[tuple[str, Reply]], list[Post]]:
            posts: list[tuple[str, Reply]] = []
            partner_posts: list[Post] = []
            for op in await operations.open_ones(tx):
                with self.speaking_to(op):
                    for item in await due_reminders(tx, op, now):
                        if await record_reminder(tx, op["id"], item, now) and item.reply:
                            posts.append((op["room_id"], item.reply))
                partner_posts += await partner_reminders(tx, op, now, self.default_language())
            return posts, partner_posts

        posts, partner_posts = await self.bot.db.write(decide)
        for room_id, reply in posts:
            await self.bot.post(room_id, reply.text, reply.html, lang=reply.lang)
        for post in partner_posts:
            self.bot.send_post(post)

    async def post_retention_warnings(self) -> None:
        """Tell each closed operation's room, 30 and 7 days ahead, what its review date will
        erase (commands.retention.warnings_due), each warning once. A room the bot has left
        cannot be told: the data-protection contact is, in the bot's default language; with
        no contact configured the warning goes to the log, so it is never lost silently."""
        now = self.now()
        defaults = self.retention_periods or {}

        async def decide(tx: Tx) -> list[tuple[str, Reply]]:
            posts: list[tuple[str, Reply]] = []
            for warning in await retention_warnings(tx, now, defaults):
                room = warning.op["room_id"]
                away = not self.in_room(room)
                with self.speaking_to(None if away else warning.op):
                    item = warning.owed(now, left=away)
                if not await record_reminder(tx, warning.op["id"], item, now) or not item.reply:
                    continue
                if not away:
                    posts.append((room, item.reply))
                elif self.contact:
                    posts.append((self.contact, item.reply))
                else:
                    log.warning("retention review of %s not told: the bot left its room %s "
                                "and [personal_data] contact is not set: %s",
                                warning.op["code"], room, item.reply.text)
            return posts

        for room_id, reply in await self.bot.db.write(decide):
            await self.bot.post(room_id, reply.text, reply.html, lang=reply.lang)

    async def post_boards(self) -> None:
        """Draw and post the boards owed now (commands.board_schedule)."""
        async with self._drawing:
            now = self.now()
            todo: list[Row] = await self.bot.db.write(
                lambda tx: boards_due(tx, now, self.boards))
            for item in todo:
                room_id: str = item["room_id"]

                async def language(tx: Tx, room_id: str = room_id) -> str:
                    return await languages.of_room(tx, room_id) or self.default_language()

                lang = await self.bot.db.read(language)
                with speaking(lang):  # whatever the board says in words is the room's
                    picture = await make_board(self.bot.db, room_id, now)
                image = picture.post_image() if picture is not None else None
                drawn = sum(picture.statuses.values()) if picture is not None else 0

                async def settle(tx: Tx, item: Row = item, image: PostImage | None = image,
                                 lang: str = lang, drawn: int = drawn) -> Post | None:
                    with speaking(lang):
                        post = await board_posted(tx, item, image, now)
                    if post is not None and image is not None:
                        poster, members = self.audience(item["room_id"])
                        await log_scheduled_post(tx, item["room_id"], now, poster, members,
                                                 SCHEDULED_BOARD, image.data, drawn)
                    return post

                post = await self.bot.db.write(settle)
                if post is not None:
                    self.bot.send_post(post)

    async def post_deconfliction(self) -> None:
        """The deconfliction hits whose grace period has passed: made, and told to both
        rooms, in one transaction with their outbox posts (a crash loses none)."""
        now = self.now()
        if not await self.bot.db.read(lambda tx: deconfliction_anything_due(tx, now)):
            return
        posts: list[Post] = await self.bot.db.write(
            lambda tx: deconfliction_due(tx, now, self.deconfliction,
                                         language=self.default_language()))
        for post in posts:
            self.bot.send_post(post)
