"""The slow part of a stored reply, made again after a restart.

A reply whose file or check is built after its command committed (an export, a board,
/audit verify) is stored with a small `redo` dict, not with the file. When the bot died
before sending it, the dispatcher asks here for its slow part again; each handler module
registers how, so the framework needs to know no handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from commands.core.types import BoardDrawer, Exporter, FormWriter, Reply, WitnessSource
from storage.database import Database

SlowPart = Callable[[], Awaitable[Reply]]


@dataclass(frozen=True)
class Services:
    """What a slow part may need, as the dispatcher holds it."""

    db: Database
    room_id: str
    now: Callable[[], datetime]
    exporter: Exporter | None
    draw_board: BoardDrawer | None
    witness: WitnessSource | None
    form_writer: FormWriter | None = None


Remake = Callable[[Services, dict[str, str]], SlowPart | None]
_REMAKERS: dict[str, Remake] = {}


def remakes(key: str) -> Callable[[Remake], Remake]:
    """Registers how to make the slow part of replies whose `redo` holds `key`."""

    def register(fn: Remake) -> Remake:
        if key in _REMAKERS:
            raise RuntimeError(f"redo {key!r} registered twice")
        _REMAKERS[key] = fn
        return fn

    return register


def remake(redo: dict[str, str] | None, services: Services) -> SlowPart | None:
    if not redo:
        return None
    for key, fn in _REMAKERS.items():
        if key in redo:
            return fn(services, redo)
    return None
