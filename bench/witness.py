"""How long /audit verify spends reading the bot's heads back from a room's history.

The bot posts EVENTS encrypted notices, each carrying an audit head, into a room on a
local Synapse; RoomHistory (bot/witness.py) then pages them back and decrypts them.
Reported: seconds for all of them and the projection to the reader's bound
(MAX_PAGES x PAGE_SIZE of the bot's events). Target: the bound read in under 60 s
(RoomHistory's own time limit), so a verify in a long operation still completes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bot import witness
from bot.dev_homeserver import LocalSynapse
from commands import WITNESS_KEY
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

EVENTS = 1000


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with LocalSynapse(tmp / "synapse") as hs:
            config = await register_bot(hs, "bench", tmp / "bot")
            lead = await make_client(hs, "lead-bench", tmp)
            async with running_bot(config) as bot:
                room = await lead.create_room(invite=[config.matrix.user_id])
                await lead.wait_joined(room, config.matrix.user_id)
                for n in range(1, EVENTS + 1):
                    await bot.post(room, f"head #{n}", f"head #{n}",
                                   {WITNESS_KEY: {"n": n, "hash": f"{n:064x}"}})
                await bot.sender.drain()
                history = witness.RoomHistory(bot.client)
                start = time.perf_counter()
                found = await history.heads(room)
                elapsed = time.perf_counter() - start
            await lead.close()
    assert len(found.heads) == EVENTS and found.complete, len(found.heads)
    bound = witness.MAX_PAGES * witness.PAGE_SIZE
    return {
        f"read back {EVENTS} encrypted heads (s)": round(elapsed, 2),
        "ms per event": round(elapsed / EVENTS * 1000, 2),
        f"projected for the bound, {bound} events (s)": round(elapsed / EVENTS * bound, 1),
    }
