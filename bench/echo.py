"""The baseline the benchmarks hold opsroom to: bare nio bots answering every text with an
encrypted notice, as a plain Matrix bot would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, MatrixRoom, RoomMessageText

from bot.dev_homeserver import LocalSynapse


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
        await self.begin_syncing()

    async def begin_syncing(self) -> None:
        """After login: the first full sync (its texts echoed), then sync and join."""
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


class ResumableEcho(EchoBot):
    """The echo bot as a restarted process is: its session (same device and keys) and sync
    token are kept in `store`, so a restart makes no new device and echoes no history;
    `start` after `stop` is such a restart. It answers texts that start with `prefix` (in
    rooms it shares with opsroom: not the commands), each in a task of its own. nio runs
    callbacks one after another, so a plain echo bot answers twenty rooms one by one; this
    is the bare bot at its best, sending to many rooms at once, the baseline "rooms in
    parallel" is held to."""

    def __init__(self, base_url: str, user_id: str, password: str, store: Path, *,
                 prefix: str = "") -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.base_url, self.user_id, self.password = base_url, user_id, password
        self.store, self.prefix = store, prefix
        self.session = store / "session.json"
        self.client: AsyncClient
        self.task: asyncio.Task | None = None
        self.replying: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.client = AsyncClient(self.base_url, self.user_id, store_path=str(self.store),
                                  config=AsyncClientConfig(encryption_enabled=True,
                                                           store_sync_tokens=True))
        if self.session.exists():
            s = json.loads(self.session.read_text())
            self.client.restore_login(s["user_id"], s["device_id"], s["access_token"])
        else:
            resp = await self.client.login(self.password)
            if not isinstance(resp, LoginResponse):
                raise RuntimeError(f"echo login failed: {resp}")
            self.session.write_text(json.dumps({"user_id": resp.user_id,
                                                "device_id": resp.device_id,
                                                "access_token": resp.access_token}))
        await self.begin_syncing()

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if not event.body.startswith(self.prefix):
            return
        task = asyncio.create_task(super()._on_text(room, event))
        self.replying.add(task)
        task.add_done_callback(self.replying.discard)

    async def stop(self) -> None:
        for task in list(self.replying):
            task.cancel()
        await asyncio.gather(*self.replying, return_exceptions=True)
        await super().stop()
