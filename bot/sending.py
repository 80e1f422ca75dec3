"""Ordered, retrying delivery of replies: one queue per room.

Replies to one room must arrive in the order the commands were handled, while a slow room
must not hold up the others; a queue and a worker per room give both. Rate-limit answers
(429) are waited out for as long as the server asks, other errors retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse

from commands.context import Attachment

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
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


class SendQueues:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._queues: dict[str, asyncio.Queue[Outgoing]] = {}
        self._workers: dict[str, asyncio.Task] = {}

    def put(self, item: Outgoing) -> None:
        queue = self._queues.get(item.room_id)
        if queue is None:
            queue = self._queues[item.room_id] = asyncio.Queue()
            self._workers[item.room_id] = asyncio.create_task(self._work(queue))
        queue.put_nowait(item)

    async def drain(self) -> None:
        """Wait until everything queued so far has been sent (used on shutdown)."""
        await asyncio.gather(*(q.join() for q in self._queues.values()))

    async def close(self) -> None:
        await self.drain()
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _work(self, queue: asyncio.Queue[Outgoing]) -> None:
        while True:
            item = await queue.get()
            try:
                await self._deliver(item)
                if item.done is not None:
                    await item.done()
            except Exception:
                log.exception("giving up sending to %s", item.room_id)
            finally:
                queue.task_done()

    async def _deliver(self, item: Outgoing) -> None:
        content = item.content
        try:
            if item.attachment is not None:
                content = await self._upload(item.room_id, item.attachment, content)
            await self._with_retries(
                lambda: self.client.room_send(item.room_id, item.event_type, content,
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
