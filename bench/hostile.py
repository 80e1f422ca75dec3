"""Intake with malformed events mixed in, through a local Synapse.

While the bot is down, a lead sends COMMANDS commands to ROOMS operation rooms; in the
mixed runs one event in ten is a mutated, mostly malformed event PUT through the client
API (tests/hostile_events.py) and taken by the homeserver. From the restart until every
command is handled, against the same without them (runs taking turns). Goal: malformed
events cost about their share of events, and every command is still answered once.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.client import GuardedClient
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.hostile_events import mutated, put, templates
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    TestClient,
    make_client,
    register_bot,
    running_bot,
)

COMMANDS = 300
ROOMS = 3
RUNS = 3  # of each kind, taking turns


async def _send(lead: TestClient, rooms: list[str], hs: LocalSynapse, run: int,
                malformed: bool) -> tuple[int, int]:
    """The commands (and, mixed, one malformed event per nine commands); how many of
    each the homeserver took."""
    rng = random.Random(run)
    bad = 0
    async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {lead.nio.access_token}"}) as http:
        for n in range(COMMANDS):
            room = rooms[n % ROOMS]
            await lead.send_text(room, f'!task add "run {run} task {n}"')
            for attempt in range(5) if malformed and n % 9 == 8 else ():
                # Synapse refuses some shapes itself: one the bot will see per nine commands.
                kind, content = rng.choice(templates(rng))
                if await put(http, hs.base_url, room, kind, f"bench-{run}-{n}-{attempt}",
                             mutated(rng, content)):
                    bad += 1
                    break
    return COMMANDS, bad


async def _handled(bot: Bot, expected: int) -> None:
    while True:
        if await bot.db.read(lambda tx: tx.scalar(
                "SELECT COUNT(*) FROM processed_events")) >= expected:
            return
        await asyncio.sleep(0.05)


async def main() -> dict[str, Any]:
    clean: list[float] = []
    mixed: list[float] = []
    bad_total = 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with LocalSynapse(tmp / "synapse") as hs:
            lead = await make_client(hs, "bench-lead", tmp, client_class=GuardedClient)
            config = await register_bot(hs, "hostile", tmp / "bot", sections=NO_RATE_LIMIT)
            rooms = []
            async with running_bot(config) as bot:
                for n in range(ROOMS):
                    room = await lead.create_room(invite=[config.matrix.user_id])
                    await lead.wait_joined(room, config.matrix.user_id)
                    await lead.command(room, f'!op init "Operation Mixed {n}" code=MX{n}')
                    rooms.append(room)
                done = await bot.db.read(lambda tx: tx.scalar(
                    "SELECT COUNT(*) FROM processed_events"))
            for run in range(2 * RUNS):
                malformed = run % 2 == 1
                sent, bad = await _send(lead, rooms, hs, run, malformed)
                bad_total += bad
                started = time.perf_counter()
                async with running_bot(config) as bot:
                    await asyncio.wait_for(_handled(bot, done + sent), 300)
                    (mixed if malformed else clean).append(time.perf_counter() - started)
                    done += sent
                    await bot.sender.drain()  # untimed: the next run owes nothing
            await lead.close()
    def rate(times: list[float]) -> float:
        return round(COMMANDS / statistics.median(times), 1)

    return {"hostile_commands_per_run": COMMANDS,
            "hostile_malformed_events_per_mixed_run": round(bad_total / RUNS),
            "hostile_clean_commands_per_s": rate(clean),
            "hostile_mixed_commands_per_s": rate(mixed),
            "hostile_mixed_vs_clean": round(statistics.median(mixed)
                                            / statistics.median(clean), 2)}


if __name__ == "__main__":
    print(asyncio.run(main()))
