"""Background services the bot runs beside the sync loop (the sitrep scheduler, the
pruning of old handled events).

Kept in one place so `opsroom run`, `opsroom up` and the tests start the same set.
"""

from __future__ import annotations

from bot.config import Config
from bot.runtime import Service


def services_for(config: Config) -> list[Service]:
    from bot.housekeeping import Housekeeping
    from bot.scheduler import SitrepScheduler

    return [SitrepScheduler(boards=config.boards,
                            deconfliction=config.settings.deconfliction), Housekeeping()]
