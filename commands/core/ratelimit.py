"""Per-user token bucket: how many commands one member may send, and when to try again.

Time is the bot's own clock, when it handles the command: the event's origin_server_ts
is whatever the sender's homeserver says, and 1,000 commands stamped 2 s apart and sent
at once would all pass. The one exception is the backlog after downtime: commands sent
one by one while the bot was down arrive together at its restart and must not be refused
for that, so a command dated inside the time the bot was away (`away`: from its last
handled command to its start) counts at its own time. That lends a lying server at most
what an honest member could have sent while the bot was down, once; any other date is
ignored, and a bucket's time never runs backwards. A bucket that has refilled is the same
as no bucket, so those are forgotten and the map holds only members who sent commands
recently.
"""

from __future__ import annotations

from dataclasses import dataclass

FORGET_AT = 1024  # buckets held before the full ones are dropped


@dataclass(frozen=True)
class RateLimit:
    per_minute: int  # 0: no limit
    burst: int


class RateLimiter:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._rate = limit.per_minute / 60  # tokens per second
        self._buckets: dict[str, tuple[float, float]] = {}  # user: (tokens, at)
        self.away: tuple[float, float] | None = None  # epoch seconds the bot was down

    def take(self, user: str, at: float, sent: float | None = None) -> float:
        """Take a token for a command `user` sent when the bot's clock says `at` (epoch
        seconds; `sent` is the event's own date): 0.0 when the command may run, else the
        seconds until it would have been allowed."""
        if self._rate <= 0:
            return 0.0
        if sent is not None and self.away is not None and self.away[0] <= sent <= self.away[1]:
            at = sent
        burst = float(self.limit.burst)
        tokens, last = self._buckets.get(user, (burst, at))
        if at > last:  # out-of-order times refill nothing
            tokens, last = min(burst, tokens + (at - last) * self._rate), at
        if tokens >= 1:
            self._buckets[user] = (tokens - 1, last)
            self._forget_full(at)
            return 0.0
        self._buckets[user] = (tokens, last)
        return (1 - tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < FORGET_AT:
            return
        burst = self.limit.burst
        self._buckets = {user: (tokens, at) for user, (tokens, at) in self._buckets.items()
                         if tokens + (now - at) * self._rate < burst}

    def __len__(self) -> int:
        return len(self._buckets)
