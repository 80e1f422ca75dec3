"""Real encrypted Matrix clients for the integration tests.

nio gotchas these helpers take care of:
- a client must know the other members' devices before sending an encrypted message:
  `joined_members` + `keys_query`, then `room_send(..., ignore_unverified_devices=True)`
  (nio knows nothing of cross-signing, so every device counts as unverified to it);
- after each sync the client must upload/query/claim keys and flush to-device messages,
  or room keys never reach the other side (nio's `sync_forever` does this; a hand-written
  sync loop must too: bot.crypto.key_exchange, shared with the bot);
- decrypted events arrive as ordinary event classes (RoomMessageNotice, ReactionEvent …)
  with the decrypted payload in `.source`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    RoomCreateResponse,
    RoomMessagesResponse,
    SyncResponse,
)

from bot.config import Config, parse
from bot.crypto.cross_signing import ensure_cross_signed
from bot.crypto.key_exchange import exchange_keys
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot

# For tests and benchmarks where one client sends far more than a person types: the
# per-member rate limit off (register_bot's `sections`).
NO_RATE_LIMIT = {"limits": {"commands_per_minute": 0}}
ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class TestClient:
    """A logged-in, encrypting nio client that remembers every event it has seen."""

    __test__ = False

    def __init__(self, client: AsyncClient) -> None:
        self.nio = client
        self.events: list[tuple[str, Any]] = []

    @property
    def user_id(self) -> str:
        return self.nio.user_id

    async def sync(self, timeout_ms: int = 500, sync_filter: dict | None = None) -> None:
        resp = await self.nio.sync(timeout=timeout_ms, full_state=not self.nio.next_batch,
                                   sync_filter=sync_filter)
        if isinstance(resp, SyncResponse):
            for room_id, info in resp.rooms.join.items():
                for event in info.timeline.events:
                    self.events.append((room_id, event))
        await exchange_keys(self.nio)

    async def wait_for(self, predicate: Callable[[str, Any], bool], timeout: float = 20.0
                       ) -> Any:
        """Sync until an event matching `predicate(room_id, event)` has been seen."""
        deadline = time.monotonic() + timeout
        while True:
            for room_id, event in self.events:
                if predicate(room_id, event):
                    return event
            if time.monotonic() > deadline:
                raise TimeoutError("no matching event arrived in time")
            await self.sync()

    def seen(self, predicate: Callable[[str, Any], bool]) -> list[Any]:
        return [e for r, e in self.events if predicate(r, e)]

    async def create_room(self, invite: list[str], encrypted: bool = True) -> str:
        resp = await self.nio.room_create(invite=invite,
                                          initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(resp, RoomCreateResponse), resp
        await self.sync()
        return resp.room_id

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.sync()
            if self.has_joined(room_id, user_id):
                return
        raise TimeoutError(f"{user_id} did not join {room_id}")

    def has_joined(self, room_id: str, user_id: str) -> bool:
        """Joined, not only invited (nio lists invited users among a room's users)."""
        room = self.nio.rooms.get(room_id)
        return bool(room and user_id in room.users and user_id not in room.invited_users)

    async def send_text(self, room_id: str, body: str, html: str | None = None) -> str:
        await self.nio.joined_members(room_id)
        if self.nio.should_query_keys:
            await self.nio.keys_query()
        content = {"msgtype": "m.text", "body": body}
        if html is not None:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        resp = await self.nio.room_send(room_id, "m.room.message", content,
                                        ignore_unverified_devices=True)
        return resp.event_id

    async def history(self, room_id: str) -> list[Any]:
        """The room's whole timeline, oldest first, decrypted where the keys are known.
        A sync shows only a room's latest events when many arrived at once (its timeline
        is `limited`), so counting replies after a backlog needs this."""
        events: list[Any] = []
        token = None
        while True:
            resp = await self.nio.room_messages(room_id, start=token, limit=100)
            assert isinstance(resp, RoomMessagesResponse), resp
            events.extend(resp.chunk)
            if not resp.chunk or not resp.end:
                return events[::-1]
            token = resp.end

    def replies_to(self, event_id: str) -> list[Any]:
        return self.seen(lambda r, e: is_reply_to(e, event_id))

    def reactions_to(self, event_id: str) -> list[Any]:
        return self.seen(lambda r, e: is_reaction_to(e, event_id))

    async def command(self, room_id: str, body: str, timeout: float = 20.0,
                      html: str | None = None) -> Any:
        """Send a command and return the bot's decrypted reply to it."""
        event_id = await self.send_text(room_id, body, html)
        reply = await self.wait_for(lambda r, e: is_reply_to(e, event_id), timeout)
        return reply, event_id

    async def close(self) -> None:
        await self.nio.close()

def is_reply_to(event: Any, event_id: str) -> bool:
    """A predicate on one event, for `wait_for` (which tries it on every event seen)."""
    return _relation(event).get("m.in_reply_to", {}).get("event_id") == event_id


def is_reaction_to(event: Any, event_id: str) -> bool:
    rel = _relation(event)
    return rel.get("rel_type") == "m.annotation" and rel.get("event_id") == event_id


def _relation(event: Any) -> dict[str, Any]:
    """An event's m.relates_to, or {} (the hostile-event tests see malformed ones too)."""
    content = event.source.get("content")
    relation = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relation, dict):
        return {}
    reply = relation.get("m.in_reply_to")
    return relation if reply is None or isinstance(reply, dict) else \
        {k: v for k, v in relation.items() if k != "m.in_reply_to"}


async def make_client(synapse: LocalSynapse, localpart: str, tmp: Path, *,
                      cross_signed: bool = True, register: bool = True,
                      device: str = "", client_class: type[AsyncClient] = AsyncClient
                      ) -> TestClient:
    """A user's encrypted session; `register=False` logs in again as an existing user (a
    second device, stored apart under `device`). `client_class=GuardedClient` for a client
    that must read malformed events without failing (nio alone asserts on some)."""
    password = f"pw-{localpart}"
    if register:
        await synapse.register_user(localpart, password)
    user_id = f"@{localpart}:{synapse.server_name}"
    store = tmp / f"client-{localpart}{device}"
    store.mkdir(parents=True, exist_ok=True)
    nio = client_class(synapse.base_url, user_id, store_path=str(store),
                      config=AsyncClientConfig(store_sync_tokens=True, encryption_enabled=True))
    resp = await nio.login(password)
    assert isinstance(resp, LoginResponse), resp
    client = TestClient(nio)
    await client.sync(0)
    if cross_signed:
        # As an Element user's session is: the bot obeys only cross-signed devices.
        await ensure_cross_signed(nio, password, store / "keys")
    return client


def bot_config(synapse: LocalSynapse, user_id: str, password: str, data_dir: Path,
               sections: dict[str, dict[str, Any]] | None = None, **access: Any) -> Config:
    """`access` goes into [access]; `sections` adds other tables ({"limits": {...}})."""
    return parse({
        "matrix": {"homeserver": synapse.base_url, "user_id": user_id, "password": password},
        "storage": {"data_dir": str(data_dir)},
        "access": {"allowed_inviters": ["@*:localhost"], **access},
        **(sections or {}),
    })


@asynccontextmanager
async def running_bot(config: Config, services: list | None = None,
                      bot_class: type[Bot] = Bot, **options: Any) -> AsyncIterator[Bot]:
    bot = bot_class(config, services=services or [], **options)
    await bot.start()
    task = asyncio.create_task(bot.run())
    await asyncio.wait_for(bot.started.wait(), 30)
    try:
        yield bot
    finally:
        bot.request_stop()
        await asyncio.wait_for(task, 30)


async def register_bot(synapse: LocalSynapse, unique: str, data_dir: Path,
                       sections: dict[str, dict[str, Any]] | None = None, **access: Any
                       ) -> Config:
    password = f"pw-bot-{unique}"
    user_id = await synapse.register_user(f"opsroom-{unique}", password)
    return bot_config(synapse, user_id, password, data_dir, sections, **access)



def write_config_file(config: Config, path: Path, homeserver: str | None = None) -> Path:
    """`config` as the TOML file an administrator would write, for `opsroom run -c` and the
    other commands; `homeserver` points it elsewhere (e.g. at a closed port)."""
    path.write_text(
        f'[matrix]\nhomeserver = "{homeserver or config.matrix.homeserver}"\n'
        f'user_id = "{config.matrix.user_id}"\npassword = "{config.matrix.password}"\n\n'
        f'[storage]\ndata_dir = "{config.data_dir}"\n\n'
        '[access]\nallowed_inviters = ["@*:localhost"]\n\n'
        f'[limits]\ncommands_per_minute = {config.limits.per_minute}\n'
        f'burst = {config.limits.burst}\n')
    return path


async def start_bot_process(config_file: Path, log: Path) -> asyncio.subprocess.Process:
    """`opsroom run -c config_file` as a child process, returned once it says it runs. Its
    output goes to `log` (a pipe nobody reads would fill up and freeze the bot)."""
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "-c", str(config_file),
            stdout=out, stderr=asyncio.subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"running as" not in log.read_bytes():
        if proc.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start: {log.read_text()[-2000:]}")
        await asyncio.sleep(0.1)
    return proc
