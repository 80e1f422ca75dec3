"""The board posts itself at H-15m and after each sitrep of the action phase, durably:
a fixed clock moved by hand, the scheduler driven as in tests/test_sitrep.py."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from PIL import Image

from bot.scheduler import SitrepScheduler
from commands import board_schedule
from commands.board_schedule import BoardSchedule
from storage.outbox import Outbox, Post
from tests.harness import OFFICER, Harness
from tests.test_board import colour_pixels

H = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


class Sink:
    """Stands in for the bot: collects text posts and the outbox posts it is handed."""

    def __init__(self, h: Harness) -> None:
        self.db = h.db
        self.clock = h.clock
        self.texts: list[str] = []
        self.posts: list[Post] = []
        self.order: list[str] = []

    async def post(self, room_id: str, text: str, html: str, extra: dict | None = None,
                   *, lang: str | None = None) -> None:
        self.texts.append(text)
        self.order.append(text.split(" ")[0])

    def send_post(self, post: Post) -> None:
        self.posts.append(post)
        self.order.append("board")


def scheduler(h: Harness, policy: BoardSchedule | None = None) -> tuple[SitrepScheduler, Sink]:
    sink = Sink(h)
    sched = SitrepScheduler(boards=policy)
    sched.bot = sink  # type: ignore[assignment]
    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    return sched, sink


async def plan(h: Harness) -> None:
    await h.ok(f"!hhour {H:%Y-%m-%dT%H:%MZ}")
    await h.ok("!takedown add forum.example agency=FR-OFAC at=H")
    await h.ok("!takedown add 198.51.100.7 agency=DE-BKA at=H+30m", sender=OFFICER)


def at(h: Harness, when: datetime) -> None:
    h.clock.current = when


def is_board(post: Post) -> bool:
    image = post.image
    assert image is not None and post.content["msgtype"] == "m.image"
    png = Image.open(io.BytesIO(image.data))
    assert png.size == (image.width, image.height)
    assert Image.open(io.BytesIO(image.thumbnail)).size == (image.thumbnail_width,
                                                            image.thumbnail_height)
    return colour_pixels(image.data)["planned"] > 0


async def test_the_board_posts_itself_once_at_h_minus_15m_and_again_when_h_moves(
        h: Harness) -> None:
    await plan(h)
    sched, sink = scheduler(h)
    at(h, H - timedelta(minutes=16))
    await sched.reconcile()
    assert sink.posts == []
    at(h, H - timedelta(minutes=15, seconds=-5))
    await sched.reconcile()
    await sched.reconcile()
    [post] = sink.posts
    assert is_board(post)
    assert post.image.filename == "FIREBREAK-board-20261125T0345Z-TLP-AMBER.png"
    assert sink.order[-2:] == ["⏱", "board"]  # right behind the H-15m reminder
    assert sink.texts[-1].startswith("⏱ H-15m")
    # Kept in the outbox with its picture until the homeserver has it.
    [owed] = await Outbox(h.db).unsent()
    assert owed.id == post.id and owed.image == post.image
    restarted, sink2 = scheduler(h)  # a restart: nothing is posted twice
    await restarted.reconcile()
    assert sink2.posts == []
    await h.ok("!hhour 2026-11-25T06:00Z")  # a new H-hour gets its own board
    at(h, datetime(2026, 11, 25, 5, 45, 30, tzinfo=UTC))
    await restarted.reconcile()
    assert len(sink2.posts) == 1 and sink2.posts[0].image.filename.endswith("0545Z-TLP-AMBER.png")


async def test_before_h_off_means_no_board_before_h(h: Harness) -> None:
    await plan(h)
    sched, sink = scheduler(h, BoardSchedule(before_h=None))
    at(h, H - timedelta(minutes=14))
    await sched.reconcile()
    assert sink.posts == [] and len(sink.texts) == 1  # the H-15m reminder only


async def test_no_board_without_takedowns_and_none_after_h_for_a_missed_h_minus_15m(
        h: Harness) -> None:
    await h.ok(f"!hhour {H:%Y-%m-%dT%H:%MZ}")
    sched, sink = scheduler(h)
    at(h, H - timedelta(minutes=10))
    await sched.reconcile()
    assert sink.posts == []
    [skipped] = await h.rows("SELECT key, skipped FROM board_posts")
    assert skipped["skipped"] == 1
    await h.ok("!takedown add forum.example agency=FR-OFAC at=H")
    at(h, H + timedelta(minutes=5))  # down through H-15m: H has passed, not posted late
    await h.ok("!hhour 2026-11-25T08:00Z")
    at(h, datetime(2026, 11, 25, 8, 1, tzinfo=UTC))
    await sched.reconcile()
    assert sink.posts == []


async def test_each_sitrep_of_the_action_phase_is_followed_by_the_board(h: Harness) -> None:
    await plan(h)
    at(h, H - timedelta(hours=3))
    await h.ok("!sitrep every 1h")  # slots at H-2h, H-1h, H, H+1h

    async def step(when: datetime) -> list[str]:
        at(h, when + timedelta(seconds=5))
        sink.order.clear()
        await sched.reconcile()
        return [p for p in sink.order if p in ("SITREP", "board")]

    sched, sink = scheduler(h)
    assert await step(H - timedelta(hours=2)) == ["SITREP"]  # before the action phase
    assert await step(H - timedelta(hours=1)) == ["SITREP"]
    assert await step(H - timedelta(minutes=15)) == ["board"]  # H-15m: it begins
    assert await step(H) == ["SITREP", "board"]  # the sitrep's board right behind it
    at(h, H + timedelta(minutes=20))
    await h.ok("!takedown done K-1")
    await h.ok("!takedown failed K-2", sender=OFFICER)  # none is planned or under way now
    assert await step(H + timedelta(hours=1)) == ["SITREP"]
    assert len(sink.posts) == 2 and all(is_board(p) for p in sink.posts[:1])
    assert colour_pixels(sink.posts[1].image.data)["planned"] > 0


async def test_with_sitreps_off_keeps_sitreps_text_only(h: Harness) -> None:
    await plan(h)
    at(h, H - timedelta(minutes=5))
    await h.ok("!sitrep every 1h")
    sched, sink = scheduler(h, BoardSchedule(before_h=None, with_sitreps=False))
    at(h, H + timedelta(minutes=55, seconds=5))
    await sched.reconcile()
    assert sink.order[0] == "SITREP" and sink.posts == []


async def test_the_board_posts_itself_at_the_operations_level_without_what_is_above(
        h: Harness) -> None:
    await plan(h)
    await h.ok("!seize domain red-seized.example tlp=RED")
    await h.ok('!takedown add S-1 agency=FR-OFAC at=H+1h tlp=RED')
    await h.ok("!takedown go K-3")  # only the RED takedown is under way
    sched, sink = scheduler(h)
    at(h, H - timedelta(minutes=15, seconds=-5))
    await sched.reconcile()
    [post] = sink.posts
    assert post.image.filename == "FIREBREAK-board-20261125T0345Z-TLP-AMBER.png"
    assert post.content["body"] == post.image.filename
    seen = colour_pixels(post.image.data)
    assert seen["planned"] >= 30 and seen["go"] == 0, seen


async def test_a_board_owed_at_a_crash_is_drawn_and_posted_after_restart(h: Harness) -> None:
    await plan(h)
    at(h, H - timedelta(minutes=14))
    policy = BoardSchedule()
    # The decision is committed, then the bot dies before the board is drawn.
    todo = await h.db.write(lambda tx: board_schedule.due(tx, h.clock.now(), policy))
    assert [t["key"] for t in todo] == [f"before-h:{H:%Y-%m-%dT%H:%M:%SZ}"]
    restarted, sink = scheduler(h, policy)
    at(h, H - timedelta(minutes=13))
    await restarted.post_boards()
    [post] = sink.posts
    assert is_board(post)
    await restarted.post_boards()
    assert len(sink.posts) == 1
    await Outbox(h.db).sent(post.id)
    assert await Outbox(h.db).unsent() == []
