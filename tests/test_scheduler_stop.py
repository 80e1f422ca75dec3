"""Stopping the bot lets a scheduled post under way finish: APScheduler's own shutdown
cancels running jobs, which would cut a sitrep or a board off mid-write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler import SitrepScheduler


async def test_a_job_under_way_finishes_before_the_scheduler_stops() -> None:
    sched = SitrepScheduler()
    sched.scheduler = AsyncIOScheduler(timezone=UTC)
    sched.scheduler.start()
    started = asyncio.Event()
    finished: list[str] = []

    async def drawing_a_board() -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append("posted")

    sched.scheduler.add_job(sched._job, "date", run_date=datetime.now(UTC),
                            args=[drawing_a_board])
    await asyncio.wait_for(started.wait(), 5)
    await sched.stop()
    assert finished == ["posted"]
