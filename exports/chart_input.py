"""The plain values the charts draw: built in the bot's process from rows, drawn in a
worker process by exports.charts. Nothing here imports matplotlib, so the bot process
never loads it (tens of megabytes, and a second of import) just to hand a board over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

STATUSES = ("planned", "go", "done", "failed", "aborted")  # commands/takedown.py's states


@dataclass(frozen=True)
class Png:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Takedown:
    ref: str  # "K-3"
    target: str  # as chat shows it (defanged), or "S-4 (withheld)" in an export
    agency: str
    status: str
    planned: datetime | None
    actual: datetime | None  # done: executed; go, failed, aborted: reported


@dataclass(frozen=True)
class Agency:
    code: str
    zone: str  # IANA
    answer: str = ""  # roll call: "GO", "NO-GO (reason)", "waiting"; "" without one


@dataclass(frozen=True)
class Board:
    title: str  # "Operation Firebreak (FIREBREAK) · TLP:AMBER"
    now: datetime
    hhour: datetime | None
    agencies: Sequence[Agency]
    takedowns: Sequence[Takedown]
    rollcall: str = ""  # one line: "Go/no-go: R-2 (open) GO 2 · NO-GO DE-BKA · waiting 0"
    tlp: str = ""  # the level it is drawn at, and labelled with: nothing above it is in it
    above: int = 0  # takedowns left out for being above `tlp`


def status_counts(takedowns: Iterable[Takedown]) -> dict[str, int]:
    """Takedowns per status, in the order of STATUSES, only the statuses present."""
    counts = dict.fromkeys(STATUSES, 0)
    for t in takedowns:
        counts[t.status] = counts.get(t.status, 0) + 1
    return {s: n for s, n in counts.items() if n}
