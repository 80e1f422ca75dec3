"""Command → reply round trip through a local Synapse, opsroom vs a bare nio echo bot
measured in the same run on the same homeserver, and start-up to first answered command.

Targets: p50 <= 1.15x the echo bot, p99 <= 1.5x; first answer < 3 s after start.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessageText

from bot.homeserver import LocalSynapse
from tests.integration.matrix_helpers import (
    TestClient,
    make_client,
    register_bot,
    running_bot,
)

COMMANDS = 60


class EchoBot:
    """The baseline: a bare nio client answering every text with an encrypted notice."""

    def __init__(self, synapse: LocalSynapse, user_id: str, password: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(synapse.base_url, user_id, store_path=str(store),
                                  config=AsyncClientConfig(encryption_enabled=True))
        self.password = password
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.client.login(self.password)
        self.client.add_event_callback(self._on_text, RoomMessageText)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)

        async def invites() -> None:
            while True:
                for room_id in list(self.client.invited_rooms):
                    await self.client.join(room_id)
                await asyncio.sleep(0.1)

        self.task = asyncio.gather(self.client.sync_forever(timeout=30000), invites())

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id:
            return
        await self.client.room_send(room.room_id, "m.room.message", {
            "msgtype": "m.notice", "body": f"echo: {event.body}",
            "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}}},
            ignore_unverified_devices=True)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


async def _measure(client: TestClient, room: str, make: str) -> list[float]:
    times = []
    for i in range(COMMANDS):
        start = time.perf_counter()
        await client.command(room, make.format(i=i))
        times.append(time.perf_counter() - start)
    return times


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
            echo_times = await _measure(user, echo_room, "ping {i}")
            await echo.stop()

            config = await register_bot(hs, "bench", tmp / "bot")
            started = time.perf_counter()
            async with running_bot(config) as bot:
                ready = time.perf_counter() - started
                room = await user.create_room(invite=[config.matrix.user_id])
                await user.wait_joined(room, config.matrix.user_id)
                first = time.perf_counter()
                await user.command(room, '!op init "Operation Bench" code=BENCH')
                first_answer = time.perf_counter() - first
                bot_times = await _measure(user, room, '!task add "bench {i}"')
                assert bot.client.device_id
            await user.close()
    echo_s, bot_s = _stats(echo_times), _stats(bot_times)
    return {
        "commands": COMMANDS,
        **{f"echo_{k}": v for k, v in echo_s.items()},
        **{f"opsroom_{k}": v for k, v in bot_s.items()},
        "p50_ratio": round(bot_s["p50_ms"] / echo_s["p50_ms"], 2),
        "p99_ratio": round(bot_s["p99_ms"] / echo_s["p99_ms"], 2),
        "start_to_ready_s": round(ready, 2),
        "first_command_answer_s": round(first_answer, 2),
        "start_to_first_answer_s": round(ready + first_answer, 2),
    }


if __name__ == "__main__":
    print(asyncio.run(main()))
