"""How often the bot answers what is not a command: edits and redactions of commands,
messages it cannot decrypt, malformed events, refusals that are not answered once only.

Each of these used to earn its own notice, outside the per-member command limit: a
member (or their homeserver) could make the bot post as fast as they could send edits or
garbage ciphertext. Here each such answer takes a token from the same per-member bucket
as commands (commands.core.ratelimit), on the bot's clock; once a member is out of
tokens, they get one summary notice for the room saying how long the bot stays silent to
them, and nothing more until the bucket has refilled. Commands of that member are refused
by the same bucket meanwhile, each with its answer, as before.

Languages: an answer to one event is for its sender, in their language; the summary speaks
of a member to the whole room (it replies to nothing), in the room's language. So the
verdict comes first (`decide`, no text), the caller puts the right language in force, and
the text is made then (`Answer.text`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from commands import RateLimiter, tr


class Verdict(Enum):
    ANSWER = "answer"  # the notice goes out
    SUMMARY = "summary"  # the first one past the limit: one notice that says so
    QUIET = "quiet"  # past the limit and already told


def flood_text(user_id: str, wait: float) -> str:
    """The summary past the limit, in the language in force (the room's)."""
    return tr("⚠️ {user} sent more edits, deletions or unreadable messages than the bot "
              "answers at once; it answers no more of them for {seconds} s. Nothing was "
              "recorded from them.").format(user=user_id, seconds=math.ceil(wait))


@dataclass(frozen=True)
class Answer:
    """What to send for one event past the verdict, before any text is made."""

    user_id: str
    reply_to: str | None
    # Set for the summary past the limit (seconds until answers resume): it replies to
    # nothing and is written for the whole room.
    wait: float | None = None

    @property
    def to_room(self) -> bool:
        """Whether it is the summary (the room's language) rather than the answer to the
        sender (theirs)."""
        return self.wait is not None

    def text(self, said: str | Callable[[], str]) -> str:
        """The text, made now in the language in force: `said` (the answer to the event,
        or what makes it) or the summary."""
        if self.wait is not None:
            return flood_text(self.user_id, self.wait)
        return said if isinstance(said, str) else said()


class NoticeLimit:
    # Members told they are over the limit, per room: (room, user) → until (epoch seconds).
    # Entries go when their time is up, so the map holds only members flooding now.
    def __init__(self, limiter: RateLimiter | None, now: Callable[[], float]) -> None:
        self.limiter = limiter
        self.now = now
        self._told: dict[tuple[str, str], float] = {}

    def judge(self, room_id: str, user_id: str) -> tuple[Verdict, float]:
        """Whether to answer `user_id` in `room_id` now, and (past the limit) how many
        seconds until it would be answered again."""
        now = self.now()
        if len(self._told) > 1000:
            self._told = {k: until for k, until in self._told.items() if until > now}
        if self.limiter is None:
            return Verdict.ANSWER, 0.0
        wait = self.limiter.take(user_id, now)
        if wait <= 0:
            return Verdict.ANSWER, 0.0
        key = (room_id, user_id)
        if self._told.get(key, 0.0) > now:
            return Verdict.QUIET, wait
        self._told[key] = now + wait
        return Verdict.SUMMARY, wait

    def decide(self, room_id: str, user_id: str, reply_to: str | None) -> Answer | None:
        """What to send in answer to `user_id`'s event: the answer replying to `reply_to`,
        the summary instead (a reply to nothing: it speaks of many events), or None."""
        verdict, wait = self.judge(room_id, user_id)
        if verdict is Verdict.QUIET:
            return None
        if verdict is Verdict.SUMMARY:
            return Answer(user_id, None, wait)
        return Answer(user_id, reply_to)
