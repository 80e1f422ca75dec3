"""Ordered, retrying delivery of replies: one worker per room (see SendQueues).

Rate-limit answers (429) are waited out for as long as the server asks, other errors
retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse

from commands.context import Attachment

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
QUIET_S = 0.3  # see SendQueues
MAX_DEFER_S = 5.0
# Errors a retry cannot fix.
FINAL_ERRORS = {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE",
                "M_UNKNOWN"}


@dataclass
class Outgoing:
    room_id: str
    content: dict[str, Any]
    event_type: str = "m.room.message"
    attachment: Attachment | None = None
    done: Callable[[], Awaitable[None]] | None = None
    # Same id, same event: the homeserver keeps a device's transaction ids (Synapse for a
    # day), so a reply re-sent after a restart or a lost response is not posted twice.
    txn_id: str | None = None


class _Room:
    """One room's outgoing events: replies in order, ✅s held back while replies flow."""

    def __init__(self) -> None:
        self.urgent: deque[Outgoing] = deque()
        self.later: deque[tuple[Outgoing, float]] = deque()  # with the time it was queued
        self.last_put = 0.0
        self.flush = False  # shutting down: nothing waits any more
        self.wake = asyncio.Event()
        self.settled = asyncio.Event()  # set whenever nothing is queued or in flight

    def next(self, now: float) -> Outgoing | None:
        if self.urgent:
            return self.urgent.popleft()
        if self.later:
            _, queued = self.later[0]
            if self.flush or now >= min(self.last_put + QUIET_S, queued + MAX_DEFER_S):
                return self.later.popleft()[0]
        return None

    def wait_for(self, now: float) -> float | None:
        """Seconds until the oldest held-back ✅ is due, or None if there is none."""
        if not self.later:
            return None
        return max(0.0, min(self.last_put + QUIET_S, self.later[0][1] + MAX_DEFER_S) - now)


class SendQueues:
    """Replies to one room arrive in the order the commands were handled, while a slow room
    must not hold up the others: a worker per room.

    The ✅ (`put_when_quiet`) gives way to replies: the homeserver writes a room's events
    one at a time, so a ✅ sent while officers fire commands back to back delays the next
    reply by a whole event (measured +25 ms at p50, bench/roundtrip.py). A ✅ waits until
    the room has had no new reply for QUIET_S; after MAX_DEFER_S it goes between two
    replies, never more than one at a time, so it neither waits long nor arrives in a
    batch that holds the next reply up."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._rooms: dict[str, _Room] = {}
        self._workers: dict[str, asyncio.Task] = {}

    def _room(self, room_id: str) -> _Room:
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _Room()
            self._workers[room_id] = asyncio.create_task(self._work(room))
        return room

    def put(self, item: Outgoing) -> None:
        room = self._room(item.room_id)
        room.last_put = asyncio.get_running_loop().time()
        room.urgent.append(item)
        room.settled.clear()
        room.wake.set()

    def put_when_quiet(self, item: Outgoing) -> None:
        room = self._room(item.room_id)
        room.later.append((item, asyncio.get_running_loop().time()))
        room.settled.clear()
        room.wake.set()

    async def drain(self) -> None:
        """Send everything queued so far, held-back ✅s included, now (on shutdown)."""
        for room in self._rooms.values():
            room.flush = True
            room.wake.set()
        await asyncio.gather(*(room.settled.wait() for room in self._rooms.values()))

    async def close(self, deadline: float | None = None) -> None:
        """Drain for at most `deadline` seconds (the homeserver may be gone); what is left
        unsent is still owed in the database (an undelivered reply, an outbox post) and
        goes out at the next start."""
        try:
            await asyncio.wait_for(self.drain(), deadline)
        except TimeoutError:
            left = sum(len(r.urgent) + len(r.later) + (not r.settled.is_set())
                       for r in self._rooms.values())
            log.warning("stopping with about %d events unsent; they are sent at the next "
                        "start", left)
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _work(self, room: _Room) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = room.next(loop.time())
            if item is None:
                if not room.urgent and not room.later:
                    room.settled.set()
                room.wake.clear()
                try:
                    await asyncio.wait_for(room.wake.wait(), room.wait_for(loop.time()))
                except TimeoutError:
                    pass
                continue
            try:
                await self._deliver(item)
                if item.done is not None:
                    await item.done()
            except Exception:
                log.exception("giving up sending to %s", item.room_id)

    async def _deliver(self, item: Outgoing) -> None:
        content = item.content
        try:
            if item.attachment is not None:
                content = await self._upload(item.room_id, item.attachment, content)
            await self._with_retries(
                lambda: self.client.room_send(item.room_id, item.event_type, content,
                                              tx_id=item.txn_id,
                                              ignore_unverified_devices=True),
                RoomSendResponse,
            )
        finally:
            if item.attachment is not None:  # sent or given up: a restart rebuilds it
                item.attachment.discard()

    async def _upload(self, room_id: str, att: Attachment, content: dict) -> dict:
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted)
        size = att.size
        with att.path.open("rb") as f:

            async def attempt() -> Any:
                f.seek(0)  # a retry starts the stream again
                return await self.client.upload(f, content_type=att.mimetype,
                                                filename=att.filename, encrypt=encrypted,
                                                filesize=size)

            resp, keys = await self._with_retries(attempt, UploadResponse)
        file_content = {
            "msgtype": "m.file",
            "body": att.filename,
            "filename": att.filename,
            "info": {"mimetype": att.mimetype, "size": size},
            **{k: v for k, v in content.items() if k in ("m.relates_to",)},
        }
        if encrypted:
            file_content["file"] = {"url": resp.content_uri, **keys}
        else:
            file_content["url"] = resp.content_uri
        return file_content

    async def _with_retries(self, call: Callable[[], Awaitable[Any]], ok_type: type) -> Any:
        delay = 0.5
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                result = await call()
            except Exception as exc:  # network errors raise instead of returning an error
                result = exc
            first = result[0] if isinstance(result, tuple) else result
            if isinstance(first, ok_type):
                return result
            code = getattr(first, "status_code", None)
            if code == "M_DUPLICATE_ANNOTATION":
                return None  # the ✅ is already there: a resend after a crash
            if code in FINAL_ERRORS:
                raise RuntimeError(f"the server refused: {first}")
            wait = delay
            if isinstance(first, ErrorResponse) and first.retry_after_ms:
                wait = first.retry_after_ms / 1000
            log.warning("send attempt %d failed (%s); retrying in %.1f s", attempt, first, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, 30)
        raise RuntimeError(f"could not send after {MAX_ATTEMPTS} attempts")
