"""The audit heads the bot posted, read back from a room's history (/messages).

This is the `WitnessSource` /audit verify and `opsroom audit verify` compare the database
against (commands/witness.py). The bot's messages are megolm-encrypted; beside every
outbound session nio stores the matching inbound session in its crypto store, so the bot
decrypts what it sent itself, also after a restart. Only events encrypted by this very
device, with its keys, for this room count: a plaintext event injected under the bot's
name (by whoever controls its homeserver account) is no witness.

Bounded, because a member waits for the answer (and the bot's sync loop with them): pages
of `page_size` of the bot's own events (the homeserver filters by sender), newest first,
up to `max_pages`, and `timeout` seconds in all. It stops earlier at the room's first
event; otherwise the result says older history was not read. bench/witness.py measures
the cost per event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import vodozemac
from aiohttp import ClientError
from nio import AsyncClient, AsyncClientConfig
from nio.api import Api

from bot.config import Config
from commands import (
    CONSULT_WITNESS_KEY,
    WITNESS_KEY,
    RoomHeads,
    WitnessedHead,
    WitnessUnavailable,
    parse_head,
    tr,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 500
MAX_PAGES = 40  # 20,000 of the bot's own events: replies, reactions and posts
TIMEOUT_S = 60.0


class RoomHistory:
    def __init__(self, client: AsyncClient, *, accept_plaintext: bool = False,
                 page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES,
                 timeout: float = TIMEOUT_S) -> None:
        # accept_plaintext: rooms without encryption (require_encryption = false) hold
        # the bot's posts in plaintext, the only witness they have.
        self.client = client
        self.accept_plaintext = accept_plaintext
        self.page_size = page_size
        self.max_pages = max_pages
        self.timeout = timeout

    async def heads(self, room_id: str) -> RoomHeads:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._read(room_id)
        except TimeoutError:
            raise WitnessUnavailable(
                tr("the homeserver did not return the room's history in time")) from None
        except (ClientError, OSError) as exc:
            raise WitnessUnavailable(
                tr("the homeserver {server} could not be reached: {error}").format(
                    server=self.client.homeserver, error=exc or type(exc).__name__)
            ) from None

    async def _read(self, room_id: str) -> RoomHeads:
        own = self.client.user_id
        only_own = {"senders": [own], "types": ["m.room.encrypted", "m.room.message"]}
        heads: list[WitnessedHead] = []
        consults: list[WitnessedHead] = []
        token: str | None = None
        undecrypted = 0
        for _ in range(self.max_pages):
            page = await self._page(room_id, token, only_own)
            for event in page.get("chunk", []):
                if event.get("sender") != own:
                    continue
                content = self._own_content(room_id, event)
                if content is None:
                    undecrypted += event.get("type") == "m.room.encrypted"
                    continue
                at = datetime.fromtimestamp(event["origin_server_ts"] / 1000, UTC)
                for key, found in ((WITNESS_KEY, heads), (CONSULT_WITNESS_KEY, consults)):
                    head = parse_head(content, key)
                    if head is not None:
                        found.append(WitnessedHead(head.n, head.hash, event["event_id"], at))
            if not page.get("chunk") or not page.get("end"):
                break  # the room's first event
            token = page["end"]
        else:
            log.warning("read %d pages of %s and stopped: older heads were not compared",
                        self.max_pages, room_id)
            return RoomHeads(heads, complete=False, consults=consults)
        if undecrypted:
            log.info("%d of the bot's own events in %s could not be decrypted (sent by "
                     "another device, or before the crypto store was lost)", undecrypted,
                     room_id)
        return RoomHeads(heads, consults=consults)

    async def _page(self, room_id: str, token: str | None, only_own: dict[str, Any]
                    ) -> dict[str, Any]:
        """One page of /messages as JSON. Not through nio's room_messages: nio validates
        every event against JSON schemas several times over (0.7 ms an event: 15 s for
        20,000), and the bot decrypts only its own events, which it can do directly."""
        method, path = Api.room_messages(self.client.access_token, room_id, start=token,
                                         limit=self.page_size, message_filter=only_own)
        while True:
            resp = await self.client.send(method, path)
            body = await resp.json(content_type=None)
            if resp.status == 200 and isinstance(body, dict):
                return body
            error = body if isinstance(body, dict) else {}
            if resp.status == 429:  # rate-limited: wait as told, within the overall timeout
                await asyncio.sleep(error.get("retry_after_ms", 1000) / 1000)
                continue
            raise WitnessUnavailable(
                tr("the homeserver did not return the room's history ({status})").format(
                    status=f"{resp.status} {error.get('errcode', '')}: "
                           f"{error.get('error', '')}"))

    def _own_content(self, room_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """The content of an event only this device can have written: megolm-encrypted by
        this device, with this device's keys, for this room (what nio calls `verified`),
        or plaintext where plaintext rooms are allowed."""
        content = event.get("content") or {}
        if event.get("type") == "m.room.message":
            return content if self.accept_plaintext else None
        olm = self.client.olm
        if olm is None or content.get("algorithm") != "m.megolm.v1.aes-sha2":
            return None
        keys = olm.account.identity_keys
        if (content.get("device_id") != self.client.device_id
                or content.get("sender_key") != keys["curve25519"]):
            return None
        session = olm.inbound_group_store.get(room_id, keys["curve25519"],
                                              content.get("session_id", ""))
        if session is None or session.ed25519 != keys["ed25519"]:
            return None
        try:
            plaintext, _index = session.decrypt(content.get("ciphertext", ""))
            payload = json.loads(plaintext)
        except (vodozemac.MegolmDecryptionException, vodozemac.DecodeException, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("room_id") != room_id:
            return None  # replayed from another room
        inner = payload.get("content")
        return inner if isinstance(inner, dict) else None


@asynccontextmanager
async def stored_session(config: Config, *, timeout: float = TIMEOUT_S
                         ) -> AsyncIterator[RoomHistory]:
    """The room history as `opsroom audit verify` reads it, outside the bot: the bot's
    stored session (data_dir/session.json) and a private copy of its crypto store.

    A copy, so the command is safe while the bot runs: two processes writing one nio
    store could lose keys, and nothing here may change the bot's. The copy holds secret
    keys: it lives in a 0700 directory inside data_dir and is deleted afterwards."""
    data_dir = config.data_dir
    session_file = data_dir / "session.json"
    if not session_file.exists():
        raise WitnessUnavailable(f"no bot session in {data_dir} (the bot has not run with "
                                 "this data_dir)")
    session = json.loads(session_file.read_text())
    user_id, device_id = session["user_id"], session["device_id"]
    store = data_dir / "crypto" / f"{user_id}_{device_id}.db"
    if not store.exists():
        raise WitnessUnavailable(f"no crypto store for device {device_id} in {store.parent}")
    try:
        scratch = Path(tempfile.mkdtemp(prefix=".audit-verify-", dir=data_dir))
    except OSError as exc:
        raise WitnessUnavailable(f"cannot copy the crypto store: {exc}") from None
    client: AsyncClient | None = None
    try:
        try:
            _copy_store(store, scratch / store.name)
        except (OSError, sqlite3.Error) as exc:
            raise WitnessUnavailable(f"cannot copy the crypto store {store}: {exc}") from None
        cfg = AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True,
                                max_timeouts=2, request_timeout=min(timeout, 20))
        client = AsyncClient(config.matrix.homeserver, user_id, device_id=device_id,
                             store_path=str(scratch), config=cfg)
        client.restore_login(user_id, device_id, session["access_token"])
        yield RoomHistory(client, accept_plaintext=not config.settings.require_encryption,
                          timeout=timeout)
    finally:
        if client is not None:
            await client.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_store(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup API) even while the bot writes to the store."""
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
