"""Periodic upkeep beside the sync loop, at start and then daily: prune old handled events
(see storage/housekeeping.py) and the consultation log past its own retention (see
storage/consultations.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from storage import consultations
from storage.codec import to_db_time
from storage.database import Database
from storage.housekeeping import PRUNE_CHUNK, prune_processed_events

if TYPE_CHECKING:
    from bot.runtime import Bot

log = logging.getLogger(__name__)
EVERY_S = 24 * 3600


class Housekeeping:
    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self._task: asyncio.Task | None = None

    async def start(self, bot: Bot) -> None:
        self._task = asyncio.create_task(self._run(bot))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, bot: Bot) -> None:
        while True:
            try:
                await prune(bot.db, bot.clock.now(), bot.config.processed_retention_days)
            except Exception:  # a full disk, say: try again next time, the bot goes on
                log.exception("pruning handled events failed")
            try:
                await prune_consultations(bot.db, bot.clock.now(),
                                          bot.config.consultation_log_years)
            except Exception:
                log.exception("pruning the consultation log failed")
            await asyncio.sleep(self.every_s)


async def prune(db: Database, now: datetime, retention_days: int) -> int:
    """Delete handled events older than the retention, a chunk at a time."""
    cutoff = now - timedelta(days=retention_days)
    total = 0
    while True:
        deleted = await db.write(lambda tx: prune_processed_events(tx, cutoff))
        total += deleted
        if deleted < PRUNE_CHUNK:
            break
        await asyncio.sleep(0)  # let commands in between chunks
    if total:
        log.info("pruned %d handled events from before %s", total, cutoff.date())
    return total


def consultations_cutoff(now: datetime, years: int) -> datetime:
    """Rows made before this are due: a row is kept to the end of the `years`-th year after
    the year it was made (1: the end of the following year, BDSG §76(4))."""
    return datetime(now.year - years, 1, 1, tzinfo=UTC)


async def prune_consultations(db: Database, now: datetime, years: int) -> int:
    """Delete the consultation log's rows past its retention; the chain stays verifiable
    from the anchor each room keeps."""
    cutoff = consultations_cutoff(now, years)
    deleted = await db.write(lambda tx: consultations.prune(tx, to_db_time(cutoff)))
    if deleted:
        log.info("pruned %d consultation log rows from before %s", deleted, cutoff.date())
    return deleted
