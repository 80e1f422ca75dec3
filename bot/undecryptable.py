"""Commands the bot cannot decrypt yet: kept in the database until their room key arrives
or `runtime.undecryptable_timeout` passes, then handled or answered with a notice.

Kept in the database (storage.intake) because a key often arrives minutes late, and a
restart in between must neither lose the command nor forget to answer it. After a
restart the keys are asked for again and get the full timeout to arrive.

Bounded per sender and room (HELD_PER_SENDER): garbage ciphertext costs the sender
nothing to make, and each held event is a stored copy (up to 64 KB) and a key request.
Past the bound an event is not kept; the caller answers it at once. Every answer, at
once or after the wait, goes through the caller's per-member notice limit
(bot.notice_limit), so a flood gets one summary, not a notice each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nio import AsyncClient, MegolmEvent
from nio.exceptions import EncryptionError

from bot.event_shape import problem
from storage.errors import storage_failure
from storage.intake import IntakeStore
from storage.outbox import Post

log = logging.getLogger(__name__)

# (room_id, decrypted event, release): the runtime handles the event, then calls release.
Decrypted = Callable[[str, Any, Callable[[], Awaitable[None]]], None]
# (room_id, sender, event_id) → the notice's content, or None when the sender is over the
# notice limit and was told so already. Awaited: the notice is in the sender's language,
# which the runtime reads from the database.
Notice = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]

HELD_PER_SENDER = 20  # undecryptable events kept per sender and room


class Undecryptables:
    def __init__(self, client: AsyncClient, store: IntakeStore, timeout: float,
                 now: Callable[[], datetime]) -> None:
        self.client = client
        self.store = store
        self.timeout = timeout
        self.now = now
        self._held: dict[str, tuple[str, MegolmEvent, float]] = {}  # id → room, event, deadline
        self._requested: set[str | None] = set()  # megolm sessions asked for in this run

    @property
    def waiting(self) -> bool:
        return bool(self._held)

    @property
    def count(self) -> int:
        return len(self._held)

    async def load(self) -> None:
        """Take over what a previous run was still waiting for; the wait starts again."""
        started = time.time()
        for held in await self.store.held():
            event = MegolmEvent.from_dict(held.event)
            if not isinstance(event, MegolmEvent) or problem(event) is not None:
                log.warning("dropping held event %s: not a well-formed megolm event",
                            held.event_id)
                await self.store.release(held.event_id)
                continue
            event.room_id = held.room_id
            deadline = max(held.first_seen.timestamp(), started) + self.timeout
            self._held[held.event_id] = (held.room_id, event, deadline)

    def _held_from(self, room_id: str, sender: str) -> int:
        return sum(1 for room, event, _ in self._held.values()
                   if room == room_id and event.sender == sender)

    async def hold(self, room_id: str, event: MegolmEvent) -> bool:
        """Keep `event` until its key comes; False when its sender already has
        HELD_PER_SENDER waiting in the room (it is not kept: answer it now)."""
        if event.event_id not in self._held and \
                self._held_from(room_id, event.sender) >= HELD_PER_SENDER:
            log.warning("not keeping undecryptable %s in %s: %s has %d waiting already",
                        event.event_id, room_id, event.sender, HELD_PER_SENDER)
            return False
        event.room_id = room_id
        try:
            await self.store.hold(room_id, event.event_id, event.source, self.now())
        except Exception as exc:  # a full disk: held in memory only, until a restart
            if storage_failure(exc) is None:
                raise
            log.error("could not keep undecryptable %s on disk (%s)", event.event_id, exc)
        if event.event_id not in self._held:
            self._held[event.event_id] = (room_id, event, time.time() + self.timeout)
        await self._request_keys(event)
        return True

    async def retry(self, decrypted: Decrypted, notice: Notice,
                    send: Callable[[Post], None]) -> None:
        """After each sync (a key may have come with it): hand over what decrypts now,
        give up on what waited too long."""
        for event_id, (room_id, event, deadline) in list(self._held.items()):
            try:
                clear = self.client.decrypt_event(event)
            except EncryptionError:
                clear = None
            if clear is not None and not isinstance(clear, MegolmEvent):
                del self._held[event_id]
                clear.room_id = room_id

                async def release(event_id: str = event_id) -> None:
                    await self.store.release(event_id)

                decrypted(room_id, clear, release)
            elif time.time() >= deadline:
                del self._held[event_id]
                content = await notice(room_id, event.sender, event_id)
                if content is None:
                    await self.store.release(event_id)
                    continue
                post = await self.store.give_up(event_id, room_id, content, self.now())
                if post is not None:
                    send(post)
            else:
                await self._request_keys(event)
        self._requested &= {event.session_id for _, event, _ in self._held.values()}

    async def _request_keys(self, event: MegolmEvent) -> None:
        """Once per session and run. nio remembers requests across restarts and refuses to
        repeat them, but the sender may not have answered the last run's, so a new run
        sends its own."""
        if event.session_id in self._requested:
            return
        self._requested.add(event.session_id)
        c = self.client
        try:
            if event.session_id in c.outgoing_key_requests:
                assert c.device_id is not None  # logged in before any event arrives
                await c.to_device(event.as_key_request(c.user_id, c.device_id))
            else:
                await c.request_room_key(event)
        except Exception as exc:  # a lost request is not worth failing the room over
            log.info("room key request for %s not sent: %s", event.session_id, exc)
