"""Ordered, retrying delivery of replies: one worker per busy room (see SendQueues).

Rate-limit answers (429) are waited out for as long as the server asks without counting
as a failed attempt; other errors are retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse
from nio.exceptions import OlmUnverifiedDeviceError

from commands import Attachment

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
QUIET_S = 0.3  # see SendQueues
MAX_DEFER_S = 5.0
IDLE_S = 30.0  # a room's worker ends after this long with nothing to send
ROOM_CAP = 100  # queued events per room, and in all, before intake waits (see room_for)
TOTAL_CAP = 1000
# Errors a retry cannot fix.
FINAL_ERRORS = {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE",
                "M_UNKNOWN"}
RATE_LIMITED = "M_LIMIT_EXCEEDED"


@dataclass
class Outgoing:
    room_id: str
    content: dict[str, Any]
    event_type: str = "m.room.message"
    attachment: Attachment | None = None
    done: Callable[[], Awaitable[None]] | None = None
    # When the command this answers was sent (origin_server_ts, seconds): reply latency.
    answers_sent_at: float | None = None

    # Same id, same event: the homeserver keeps a device's transaction ids (Synapse for a
    # day), so a reply re-sent after a restart or a lost response is not posted twice.
    txn_id: str | None = None
    # Asked just before sending: False drops it (an outbox post taken back while it
    # waited, e.g. to a partner room whose link ended). Its `done` is not called.
    wanted: Callable[[], Awaitable[bool]] | None = None


class _Quiet:
    """When a reply was last queued in any room. The homeserver is one writer for all
    rooms, so a ✅ in a quiet room still delays a reply in a busy one: quiet is global."""

    def __init__(self) -> None:
        self.last_put = 0.0


class _Room:
    """One room's outgoing events: replies in order, ✅s held back while replies flow."""

    def __init__(self, quiet: _Quiet | None = None) -> None:
        self.quiet = quiet or _Quiet()
        self.urgent: deque[Outgoing] = deque()
        self.later: deque[tuple[Outgoing, float]] = deque()  # with the time it was queued
        self.in_flight = 0
        self.flush = False  # shutting down: nothing waits any more
        self.wake = asyncio.Event()
        self.settled = asyncio.Event()  # set whenever nothing is queued or in flight

    def __len__(self) -> int:
        return len(self.urgent) + len(self.later) + self.in_flight

    def next(self, now: float) -> Outgoing | None:
        if self.urgent:
            return self.urgent.popleft()
        if self.later:
            _, queued = self.later[0]
            if self.flush or now >= min(self.quiet.last_put + QUIET_S, queued + MAX_DEFER_S):
                return self.later.popleft()[0]
        return None

    def wait_for(self, now: float) -> float | None:
        """Seconds until the oldest held-back ✅ is due, or None if there is none."""
        if not self.later:
            return None
        return max(0.0, min(self.quiet.last_put + QUIET_S, self.later[0][1] + MAX_DEFER_S)
                   - now)


class SendQueues:
    """Replies to one room arrive in the order the commands were handled, while a slow room
    must not hold up the others: a worker per room, ended when the room has been idle for
    IDLE_S (made again on demand), so 10,000 rooms joined do not mean 10,000 tasks.

    The ✅ (`put_when_quiet`) gives way to replies: the homeserver writes events one at a
    time, so a ✅ sent while officers fire commands delays the next reply by a whole event
    (measured +25 ms at p50 in one room, bench/roundtrip.py), and with 20 rooms busy the
    ✅s were 180 of 580 events written. A ✅ waits until no room has had a new reply for
    QUIET_S; after MAX_DEFER_S it goes between two replies of its room, never more than
    one at a time, so it neither waits long nor arrives in a batch that holds replies up.

    Nothing put here is dropped: the caps (ROOM_CAP, TOTAL_CAP) are enforced where
    commands come in (`room_for`), before a command is handled, never by refusing a reply
    whose command is already recorded."""

    def __init__(self, client: AsyncClient, *, strict: bool = True,
                 judge: Callable[[Collection[str]], Awaitable[object]] | None = None,
                 room_cap: int = ROOM_CAP, total_cap: int = TOTAL_CAP, idle_s: float = IDLE_S,
                 on_reply_sent: Callable[[float], None] | None = None,
                 on_sent: Callable[[str, str, dict[str, Any]], Awaitable[None]] | None = None
                 ) -> None:
        self.client = client
        # strict: room keys go only to devices marked verified (see bot.crypto.device_trust);
        # a device nobody has judged yet stops the send until `judge` has looked at it.
        self.strict = strict
        self.judge = judge
        self.room_cap = room_cap
        self.total_cap = total_cap
        self.idle_s = idle_s
        self.on_reply_sent = on_reply_sent  # latency (s) from the command to its reply
        # Told (room, event id, content) of every message once it is in the room: which
        # records it showed are kept for erasure (bot.redaction). Every post goes through
        # here, so this is the one place that sees them all.
        self.on_sent = on_sent
        self._quiet = _Quiet()
        self._rooms: dict[str, _Room] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._queued = 0
        self._space = asyncio.Event()  # set when an item leaves a queue

    def _room(self, room_id: str) -> _Room:
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = _Room(self._quiet)
            self._workers[room_id] = asyncio.create_task(self._work(room_id, room))
        return room

    def depth(self) -> int:
        """Events queued or being sent, in all rooms."""
        return self._queued

    def put(self, item: Outgoing) -> None:
        room = self._room(item.room_id)
        self._quiet.last_put = asyncio.get_running_loop().time()
        room.urgent.append(item)
        self._queued += 1
        room.settled.clear()
        room.wake.set()

    def put_when_quiet(self, item: Outgoing) -> None:
        room = self._room(item.room_id)
        room.later.append((item, asyncio.get_running_loop().time()))
        self._queued += 1
        room.settled.clear()
        room.wake.set()

    async def room_for(self, room_id: str) -> None:
        """Wait until the room's queue and all queues together are below their caps: the
        caller (intake) handles the next command only then, so a homeserver that cannot
        keep up slows intake down instead of letting memory grow."""
        while self._full(room_id):
            self._space.clear()
            await self._space.wait()

    def _full(self, room_id: str) -> bool:
        room = self._rooms.get(room_id)
        return self._queued >= self.total_cap or (room is not None
                                                  and len(room) >= self.room_cap)

    async def drain(self) -> None:
        """Send everything queued so far, held-back ✅s included, now (on shutdown)."""
        for room in self._rooms.values():
            room.flush = True
            room.wake.set()
        await asyncio.gather(*(room.settled.wait() for room in list(self._rooms.values())))

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

    async def _work(self, room_id: str, room: _Room) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = room.next(loop.time())
            if item is None:
                if not room:
                    room.settled.set()
                room.wake.clear()
                wait = room.wait_for(loop.time())
                try:
                    await asyncio.wait_for(room.wake.wait(),
                                           self.idle_s if wait is None else wait)
                except TimeoutError:
                    if not room and not room.flush:
                        # Nothing since idle_s: no await between this check and the
                        # removal, so a put() now makes a new room and worker.
                        del self._rooms[room_id], self._workers[room_id]
                        return
                continue
            room.in_flight = 1
            try:
                if item.wanted is not None and not await item.wanted():
                    log.info("a post to %s was taken back before it was sent; dropped",
                             item.room_id)
                    continue
                await self._deliver(item)
            except Exception:
                log.exception("giving up sending to %s", item.room_id)
                continue
            finally:
                room.in_flight = 0
                self._queued -= 1
                self._space.set()
            if item.answers_sent_at is not None and self.on_reply_sent is not None:
                self.on_reply_sent(max(0.0, time.time() - item.answers_sent_at))
            if item.done is not None:
                try:
                    await item.done()
                except Exception:
                    log.exception("sent to %s, but could not mark it delivered (it may be "
                                  "sent again after a restart)", item.room_id)

    async def _deliver(self, item: Outgoing) -> None:
        content = item.content
        try:
            if item.attachment is not None:
                content = await self._upload(item.room_id, item.attachment, content)
            sent = await self._with_retries(lambda: self._send(item, content), RoomSendResponse)
        finally:
            if item.attachment is not None:  # sent or given up: a restart rebuilds it
                item.attachment.discard()
        if (self.on_sent is not None and item.event_type == "m.room.message"
                and isinstance(sent, RoomSendResponse)):
            try:  # what the text named, also for a file sent with it
                await self.on_sent(item.room_id, sent.event_id, item.content)
            except Exception:
                log.exception("sent to %s, but could not record which records %s showed",
                              item.room_id, sent.event_id)

    async def _send(self, item: Outgoing, content: dict[str, Any]) -> Any:
        for _ in range(MAX_ATTEMPTS):
            try:
                return await self.client.room_send(item.room_id, item.event_type, content,
                                                   tx_id=item.txn_id,
                                                   ignore_unverified_devices=not self.strict)
            except OlmUnverifiedDeviceError as exc:
                # A device nio learnt of before it was judged: judge it, then send again
                # (it gets the key only if it turns out to be cross-signed).
                if self.judge is None:
                    raise
                log.info("judging %s's device %s before sending", exc.device.user_id,
                         exc.device.id)
                await self.judge({exc.device.user_id})
                olm, device = self.client.olm, exc.device
                if olm and not (olm.is_device_verified(device)
                                or olm.is_device_blacklisted(device)):
                    self.client.blacklist_device(device)  # could not be judged: no key
        raise RuntimeError("devices kept appearing unjudged; not sent")

    async def _upload(self, room_id: str, att: Attachment, content: dict) -> dict:
        """Upload the file (encrypted in an encrypted room) and make its event: m.file, or
        m.image with its size and thumbnail, the thumbnail encrypted like the file."""
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted)
        info: dict[str, Any] = {"mimetype": att.mimetype, "size": att.size}
        file_content = {
            "msgtype": "m.image" if att.is_image else "m.file",
            "body": att.filename,
            "filename": att.filename,
            "info": info,
            **await self._store(att, encrypted),
            **{k: v for k, v in content.items() if k in ("m.relates_to",)},
        }
        if att.is_image:
            info.update(w=att.width, h=att.height)
            thumb = att.thumbnail
            if thumb is not None and thumb.is_image:
                stored = await self._store(thumb, encrypted)
                info["thumbnail_info"] = {"w": thumb.width, "h": thumb.height,
                                          "mimetype": thumb.mimetype, "size": thumb.size}
                if encrypted:
                    info["thumbnail_file"] = stored["file"]
                else:
                    info["thumbnail_url"] = stored["url"]
        return file_content

    async def _store(self, att: Attachment, encrypted: bool) -> dict[str, Any]:
        """One upload to the media repository: `{"file": {url, key, iv, hashes, v}}` when
        encrypted (the keys travel only inside the encrypted event), else `{"url": ...}`."""
        size = att.size
        with att.open() as f:

            async def attempt() -> Any:
                f.seek(0)  # a retry starts the stream again
                return await self.client.upload(f, content_type=att.mimetype,
                                                filename=att.filename, encrypt=encrypted,
                                                filesize=size)

            resp, keys = await self._with_retries(attempt, UploadResponse)
        if encrypted:
            return {"file": {"url": resp.content_uri, **keys}}
        return {"url": resp.content_uri}

    async def _with_retries(self, call: Callable[[], Awaitable[Any]], ok_type: type) -> Any:
        """A 429 is the server pacing us, not a failure: it is waited out for as long as it
        asks and does not use up one of the MAX_ATTEMPTS."""
        delay = 0.5
        failures = 0
        while True:
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
            if code == RATE_LIMITED and isinstance(first, ErrorResponse):
                wait = (first.retry_after_ms or 1000) / 1000
                log.info("rate limited by the homeserver; sending again in %.1f s", wait)
                await asyncio.sleep(wait)
                continue
            failures += 1
            if failures >= MAX_ATTEMPTS:
                raise RuntimeError(f"could not send after {MAX_ATTEMPTS} attempts: {first}")
            wait = delay
            if isinstance(first, ErrorResponse) and first.retry_after_ms:
                wait = first.retry_after_ms / 1000
            log.warning("send attempt %d failed (%s); retrying in %.1f s", failures, first,
                        wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, 30)
