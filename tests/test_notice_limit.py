"""Answers to what is not a command share the member's command bucket: within it each is
answered, past it the member gets one summary per room and then silence until it refills
(bot.notice_limit)."""

from __future__ import annotations

from bot.notice_limit import NoticeLimit, Verdict
from commands.core.ratelimit import RateLimit, RateLimiter

LIMIT = RateLimit(per_minute=6, burst=3)  # a token every 10 s


def test_a_flood_gets_its_burst_answered_then_one_summary_then_nothing() -> None:
    now = [1000.0]
    limit = NoticeLimit(RateLimiter(LIMIT), lambda: now[0])
    verdicts = [limit.judge("!a", "@m:x")[0] for _ in range(50)]
    assert verdicts[:3] == [Verdict.ANSWER] * 3
    assert verdicts[3] is Verdict.SUMMARY
    assert set(verdicts[4:]) == {Verdict.QUIET}


def test_the_summary_says_when_answers_resume_and_they_do() -> None:
    now = [1000.0]
    limit = NoticeLimit(RateLimiter(LIMIT), lambda: now[0])
    for _ in range(3):
        limit.judge("!a", "@m:x")
    verdict, wait = limit.judge("!a", "@m:x")
    assert verdict is Verdict.SUMMARY and 9 <= wait <= 10
    now[0] += wait
    assert limit.judge("!a", "@m:x")[0] is Verdict.ANSWER


def test_commands_and_notices_draw_on_the_same_bucket_and_other_members_are_untouched(
) -> None:
    now = [1000.0]
    limiter = RateLimiter(LIMIT)
    limit = NoticeLimit(limiter, lambda: now[0])
    for _ in range(3):
        assert limiter.take("@m:x", now[0]) == 0  # three commands
    assert limit.judge("!a", "@m:x")[0] is Verdict.SUMMARY
    assert limit.judge("!b", "@m:x")[0] is Verdict.SUMMARY, "each room is told once"
    assert limit.judge("!a", "@anna:x")[0] is Verdict.ANSWER


def test_without_a_limit_everything_is_answered() -> None:
    limit = NoticeLimit(None, lambda: 0.0)
    assert {limit.judge("!a", "@m:x")[0] for _ in range(100)} == {Verdict.ANSWER}


def test_the_answer_past_the_limit_is_the_summary_replying_to_nothing_then_none() -> None:
    now = [1000.0]
    limit = NoticeLimit(RateLimiter(RateLimit(per_minute=6, burst=1)), lambda: now[0])
    first = limit.decide("!a", "@m:x", "$1")
    assert first is not None and (first.text("edited"), first.reply_to) == ("edited", "$1")
    summary = limit.decide("!a", "@m:x", "$2")
    assert summary is not None and summary.to_room and summary.reply_to is None
    text = summary.text("edited")
    assert "@m:x" in text and "answers no more of them for 10 s" in text
    assert limit.decide("!a", "@m:x", "$3") is None
