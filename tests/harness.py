"""Drives the dispatcher the way the bot does, without a homeserver, for fast unit tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from commands.core.dispatcher import Dispatcher
from commands.core.types import Incoming, Reply, Settings
from exports.board import drawer
from exports.build import exporter
from exports.form_writer import form_writer
from storage.database import Database
from tests.clock import FixedClock

ROOM = "!op:localhost"
LEAD = "@lead:localhost"
OFFICER = "@officer:localhost"
OTHER = "@other:localhost"
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Harness:
    db: Database
    dispatcher: Dispatcher
    clock: FixedClock
    room: str = ROOM

    _ids = itertools.count(1)

    @classmethod
    async def open(cls, tmp: Path, settings: Settings | None = None) -> Harness:
        db = await Database.open(tmp / "data" / "opsroom.db")
        clock = FixedClock(START)
        dispatcher = Dispatcher(db, settings or Settings(), clock, exporter=exporter(db),
                                draw_board=drawer(db), form_writer=form_writer(db))
        return cls(db, dispatcher, clock)

    def incoming(self, body: str, sender: str = LEAD, power: int | None = None,
                 event_id: str | None = None, room: str | None = None) -> Incoming:
        if power is None:
            power = 100 if sender == LEAD else 0
        return Incoming(
            room_id=room or self.room,
            sender=sender,
            event_id=event_id or f"$ev{next(self._ids)}",
            body=body,
            timestamp=self.clock.now(),
            power_level=power,
        )

    async def send(self, body: str, sender: str = LEAD, **kw: object) -> Reply:
        return await self.dispatcher.handle(self.incoming(body, sender, **kw))  # type: ignore[arg-type]

    async def ok(self, body: str, sender: str = LEAD, **kw: object) -> Reply:
        reply = await self.send(body, sender, **kw)
        assert reply.ok, f"{body!r} failed: {reply.text}"
        return reply

    async def fails(self, body: str, sender: str = LEAD, **kw: object) -> Reply:
        reply = await self.send(body, sender, **kw)
        assert not reply.ok, f"{body!r} unexpectedly succeeded: {reply.text}"
        return reply

    async def setup_operation(self) -> None:
        """A bound operation with two agencies and mapped members, as most tests need."""
        await self.ok('!op init "Operation Firebreak" code=FIREBREAK tz=Europe/Paris tlp=AMBER')
        await self.ok("!agency add FR-OFAC country=FR tz=Europe/Paris")
        await self.ok('!agency add DE-BKA country=DE tz=Europe/Berlin "Bundeskriminalamt"')
        await self.ok(f"!member {LEAD} agency=FR-OFAC")
        await self.ok(f"!member {OFFICER} agency=DE-BKA")
        await self.ok(f"!member {OTHER} agency=FR-OFAC")

    async def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        async def q(tx):  # type: ignore[no-untyped-def]
            return await tx.all(sql, params)

        return await self.db.read(q)

    async def close(self) -> None:
        await self.db.close()


def write_cli_config(tmp: Path) -> Path:
    """A config file for the `opsroom` commands that read a Harness's database (`Harness.open
    (tmp)`) without the bot, such as `audit verify` and `export`: nothing listens on its
    homeserver."""
    config = tmp / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@bot:localhost"\n'
                      f'password = "x"\n\n[storage]\ndata_dir = "{tmp / "data"}"\n\n'
                      '[access]\nallowed_inviters = ["@*:localhost"]\n')
    return config
