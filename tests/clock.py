"""A clock that only moves when told to, so tests and benchmarks can cross H-hour, due
times and sitrep slots without waiting (the product only ever uses the wall clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.core.types import Clock


class FixedClock(Clock):
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current = self.current + timedelta(**delta)
