"""Periodic upkeep beside the sync loop: prune old handled events (see
storage/housekeeping.py) at start and then daily."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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
