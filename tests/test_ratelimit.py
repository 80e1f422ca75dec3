"""A member who sends commands faster than the limit gets a short answer for each one
refused (nothing is dropped silently, nothing recorded), others are not affected, and
commands sent at a normal pace while the bot was down are not refused at its restart; the
dates a sender's server puts on its events lend it nothing else."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from commands.core.dispatcher import Dispatcher
from commands.core.ratelimit import FORGET_AT, RateLimit, RateLimiter
from commands.core.types import Settings
from storage.audit import verify_room
from storage.codec import to_db_time
from storage.sealing import open_text
from tests.harness import LEAD, OFFICER, OTHER, Harness

LIMIT = RateLimit(per_minute=30, burst=5)  # a token every 2 s


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[tuple[Harness, list[tuple[str, str]]]]:
    h = await Harness.open(tmp_path)
    seen: list[tuple[str, str]] = []
    h.dispatcher = Dispatcher(h.db, Settings(), h.clock, limiter=RateLimiter(LIMIT),
                              observe=lambda kind, outcome: seen.append((kind, outcome)))
    await h.ok('!op init "Operation Firebreak" code=FIREBREAK')  # one of LEAD's five
    yield h, seen
    await h.close()


async def test_commands_over_the_limit_are_each_answered_and_not_recorded(limited) -> None:
    h, seen = limited
    for n in range(4):
        await h.ok(f'!task add "task {n}"')
    refused = [await h.send(f'!task add "too fast {n}"') for n in range(3)]
    for answer in refused:
        assert not answer.ok
        assert "too many commands: at most 30 a minute (5 in a row)" in answer.text
        assert "Nothing was recorded for this one; send it again in 2 s" in answer.text
    assert [r["text"] for r in await h.rows("SELECT text FROM tasks")] == [
        f"task {n}" for n in range(4)]
    assert seen[-3:] == [("task add", "refused")] * 3
    other = await h.send('!task add "from the officer"', OFFICER)
    assert other.ok, "one member's flood does not hold another up"
    h.clock.advance(seconds=2)  # one token back
    assert (await h.send('!task add "after a pause"')).ok
    assert not (await h.send('!task add "again too fast"')).ok


async def test_a_refused_command_delivered_again_is_not_run_then(limited) -> None:
    h, _ = limited
    for n in range(4):
        await h.ok(f'!task add "task {n}"')
    event = h.incoming('!task add "too fast"')
    first = await h.dispatcher.handle(event)
    h.clock.advance(minutes=5)
    again = await h.dispatcher.handle(event)
    assert not first.ok and again.text == first.text
    assert await h.rows("SELECT * FROM tasks WHERE text='too fast'") == []


async def test_commands_sent_at_a_normal_pace_while_the_bot_was_down_all_run(limited) -> None:
    h, _ = limited
    h.clock.advance(minutes=5)  # the bot stops after the op init; sent while it is down:
    sent = []
    for n in range(20):  # one every 3 s, as the officer typed them
        sent.append(h.incoming(f'!task add "offline {n}"', OFFICER))
        h.clock.advance(seconds=3)
    h.clock.advance(minutes=1)
    await h.dispatcher.starting()  # it starts again
    answers = [await h.dispatcher.handle(msg) for msg in sent]  # handled in one go
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    assert "(sent " in answers[0].text and "while the bot caught up" in answers[0].text


async def test_dates_set_by_the_senders_server_lend_it_no_commands(limited) -> None:
    """1,000 commands stamped 2 s apart (one token each) and sent at once: only the burst
    runs, whether the stamps are in the past or the future."""
    h, _ = limited
    await h.dispatcher.starting()
    now = h.clock.now()
    for name, start in (("past", now - timedelta(hours=1)), ("future", now)):
        answers = [await h.dispatcher.handle(dataclasses.replace(
            h.incoming(f'!task add "{name} {n}"', OFFICER),
            timestamp=start + timedelta(seconds=2 * n))) for n in range(1000)]
        assert sum(a.ok for a in answers) == LIMIT.burst, name
        assert all("too many commands" in a.text for a in answers if not a.ok)
        h.clock.advance(minutes=1)  # the bucket fills again
    stored = [r for r in await h.rows("SELECT text, created_at FROM tasks")
              if r["text"] == "past 0"]
    assert stored[0]["created_at"] == to_db_time(now)  # the bot's time, not the stamp
    entry = next({"at": e["at"], "sent_at": e["sent_at"]}
                 for e in await h.rows("SELECT at, sent_at, command FROM audit_log")
                 if "past 0" in open_text(h.db.keys, e["command"]))
    assert entry == {"at": to_db_time(now), "sent_at": to_db_time(now - timedelta(hours=1))}
    assert (await h.db.read(lambda tx: verify_room(tx, h.room))).ok


def test_members_with_a_full_bucket_are_forgotten() -> None:
    limiter = RateLimiter(RateLimit(per_minute=60, burst=3))
    for n in range(FORGET_AT * 3):
        assert limiter.take(f"@u{n}:x", at=float(n)) == 0.0  # one command each, a second apart
    assert len(limiter) <= FORGET_AT


def test_no_limit_when_per_minute_is_zero() -> None:
    limiter = RateLimiter(RateLimit(per_minute=0, burst=1))
    assert all(limiter.take(LEAD, at=0.0) == 0.0 for _ in range(1000))
    assert len(limiter) == 0


async def test_each_command_is_counted_by_kind_and_outcome(limited) -> None:
    h, seen = limited
    await h.send("!task list", OTHER)
    await h.send("!tsk list", OTHER)
    await h.send("!task add", OTHER)
    assert seen[-3:] == [("task list", "ok"), ("unknown", "error"), ("task add", "error")]
