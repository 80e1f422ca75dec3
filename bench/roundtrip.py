"""Command → reply round trip through a local Synapse, opsroom vs a bare nio echo bot
measured in the same run on the same homeserver, and start-up to first answered command.

Targets: p50 <= 1.15x the echo bot, p99 <= 1.5x; first answer < 3 s after start.

Three modes: quiet (one command at a time, the room settled in between), burst (ten back
to back) and sustained (sixty back to back, longer than a ✅ is held back). The echo bot
sends one event per command, opsroom two (the reply and the ✅ the SPEC asks for), and
Synapse persists a room's events one at a time; so a third bot, opsroom with the ✅ left
out, shows what the bot itself adds versus what the second event costs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.echo import EchoBot
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from commands import Reply
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    TestClient,
    is_reaction_to,
    make_client,
    register_bot,
    running_bot,
)

# One client fires 60 commands back to back here: that measures the bot, not the per-member
# rate limit (which would refuse most of them, see commands/ratelimit.py): NO_RATE_LIMIT.
COMMANDS = 60


class ReplyOnlyBot(Bot):
    """Diagnostic only: opsroom without the ✅ reaction."""

    def send_reply(self, room_id: str, event_id: str, reply: Reply,
                   sent_at: float | None = None) -> None:
        super().send_reply(room_id, event_id, dataclasses.replace(reply, ok=False), sent_at)


async def _timed(client: TestClient, room: str, text: str) -> tuple[float, str]:
    start = time.perf_counter()
    _, event_id = await client.command(room, text)
    return time.perf_counter() - start, event_id


async def _settled(client: TestClient, event_id: str, check_mark: bool) -> None:
    """Wait (untimed) until the bot has nothing left to send for this command."""
    if check_mark:
        await client.wait_for(lambda r, e: is_reaction_to(e, event_id))


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000, 1)

    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p90_ms": pct(0.9),
            "p99_ms": pct(0.99)}


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with LocalSynapse(tmp / "synapse") as hs:
            user = await make_client(hs, "bench-lead", tmp)
            await hs.register_user("echo", "pw-echo")
            echo = EchoBot(hs, "@echo:localhost", "pw-echo", tmp / "echo")
            await echo.start()
            echo_room = await user.create_room(invite=["@echo:localhost"])
            await user.wait_joined(echo_room, "@echo:localhost")
            await user.command(echo_room, "warm-up")

            config = await register_bot(hs, "bench", tmp / "bot", NO_RATE_LIMIT)
            started = time.perf_counter()
            async with running_bot(config):
                ready = time.perf_counter() - started
                room = await user.create_room(invite=[config.matrix.user_id])
                await user.wait_joined(room, config.matrix.user_id)
                first = time.perf_counter()
                await user.command(room, '!op init "Operation Bench" code=BENCH')
                first_answer = time.perf_counter() - first

                bare = await register_bot(hs, "bench-bare", tmp / "bot-bare", NO_RATE_LIMIT)
                async with running_bot(bare, bot_class=ReplyOnlyBot):
                    bare_room = await user.create_room(invite=[bare.matrix.user_id])
                    await user.wait_joined(bare_room, bare.matrix.user_id)
                    await user.command(bare_room, '!op init "Operation Bare" code=BARE')
                    bots = {"echo": (echo_room, "ping {i}", False),
                            "opsroom": (room, '!task add "bench {i}"', True),
                            "without_check_mark": (bare_room, '!task add "bench {i}"', False)}
                    times: dict[str, dict[str, list[float]]] = {
                        "quiet": {name: [] for name in bots},
                        "burst": {name: [] for name in bots},
                        "sustained": {name: [] for name in bots}}
                    # Quiet: each command alone in its room, the three bots taking turns,
                    # so server and client state are the same for all of them.
                    for i in range(COMMANDS):
                        for name, (room_id, text, check) in bots.items():
                            took, event_id = await _timed(user, room_id, text.format(i=i))
                            times["quiet"][name].append(took)
                            await _settled(user, event_id, check)
                    # Burst: each next command as soon as the reply is in, in blocks of
                    # ten per bot, taking turns.
                    for block in range(0, COMMANDS, 10):
                        for name, (room_id, text, check) in bots.items():
                            for i in range(block, block + 10):
                                took, event_id = await _timed(
                                    user, room_id, text.format(i=f"burst {i}"))
                                times["burst"][name].append(took)
                            await _settled(user, event_id, check)
                    # Sustained: all commands back to back, one bot after the other (longer
                    # than a ✅ is held back, see bot/sending.py).
                    for name, (room_id, text, check) in bots.items():
                        for i in range(COMMANDS):
                            took, event_id = await _timed(
                                user, room_id, text.format(i=f"sustained {i}"))
                            times["sustained"][name].append(took)
                        await _settled(user, event_id, check)
            await echo.stop()
            await user.close()
    result: dict[str, Any] = {"commands_per_bot_and_mode": COMMANDS}
    for mode, by_bot in times.items():
        echo_s = _stats(by_bot["echo"])
        for name, values in by_bot.items():
            stats = _stats(values)
            result.update({f"{mode}_{name}_{k}": v for k, v in stats.items()})
            if name != "echo":
                result[f"{mode}_{name}_p50_ratio"] = round(stats["p50_ms"] / echo_s["p50_ms"], 2)
                result[f"{mode}_{name}_p99_ratio"] = round(stats["p99_ms"] / echo_s["p99_ms"], 2)
    result.update({
        "start_to_ready_s": round(ready, 2),
        "first_command_answer_s": round(first_answer, 2),
        "start_to_first_answer_s": round(ready + first_answer, 2),
    })
    return result


if __name__ == "__main__":
    print(asyncio.run(main()))
