"""The events a sync left out: a room's timeline in a sync holds at most its limit, and
after downtime or a burst the rest must be fetched with /messages, or commands are lost.

The gap is paged FORWARDS in chunks, each handled before the next is fetched, so
thousands of missed events never sit in memory together. Where it starts:
- normally at the token the sync itself started from (`since`): the gap is exactly the
  events between that token and the timeline's `prev_batch`;
- without a token (the state file was lost), at the room's mark (storage.intake): the
  history is paged backwards to it first, keeping only the token of each page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, MessageDirection, RoomMessagesResponse, UnknownBadEvent

from storage.intake import RoomMark

PAGE = 100
# Clocks of federated servers disagree: without a token, resume a little before the mark's
# time when the mark itself is not found (anything handled twice is answered only once).
SKEW_MS = 10 * 60 * 1000


@dataclass
class Cursor:
    """Which of a room's events are still to be handled: none before `floor_ts` (ms), and
    when `skip_through` is set, none up to and including that event."""

    floor_ts: float
    skip_through: str | None = None

    @classmethod
    def nothing(cls) -> Cursor:
        return cls(float("inf"))

    @classmethod
    def after_mark(cls, mark: RoomMark, mark_in_view: bool) -> Cursor:
        return cls(mark.origin_ts - SKEW_MS, mark.event_id if mark_in_view else None)

    def admits(self, event: Any) -> bool:
        if self.skip_through is not None:
            if getattr(event, "event_id", None) == self.skip_through:
                self.skip_through = None
                self.floor_ts = float("-inf")  # past the mark, even a skewed clock is new
            return False
        return getattr(event, "server_timestamp", 0) >= self.floor_ts


class GapFetcher:
    def __init__(self, client: AsyncClient, page: int = PAGE) -> None:
        self.client = client
        self.page = page

    async def events(self, room_id: str, start: str | None, stop: str) -> AsyncIterator[Any]:
        """Every event from token `start` (None: the room's beginning) up to token `stop`,
        oldest first, a page at a time; encrypted ones are decrypted where nio has the key
        (it does so on receipt)."""
        token = start
        while True:
            resp = await self._page(room_id, token, MessageDirection.front, end=stop)
            for event in resp.chunk:
                yield event
            if not resp.chunk or not resp.end or resp.end == token:
                return
            token = resp.end

    async def start_at_mark(self, room_id: str, prev_batch: str, mark: RoomMark
                            ) -> tuple[str | None, bool]:
        """Page back from `prev_batch` to the mark; returns the token to page forwards from
        (None: the room's beginning) and whether the mark is among the events from there
        on. Stops early at an event older than the mark's time by SKEW_MS."""
        token = prev_batch
        while True:
            resp = await self._page(room_id, token, MessageDirection.back)
            for event in resp.chunk:
                if isinstance(event, UnknownBadEvent):
                    continue  # no id or time to compare (a malformed event)
                if event.event_id == mark.event_id:
                    return resp.end, True
                if event.server_timestamp < mark.origin_ts - SKEW_MS:
                    return resp.end, False
            if not resp.chunk or not resp.end:
                return None, False
            token = resp.end

    async def _page(self, room_id: str, token: str | None, direction: MessageDirection,
                    end: str | None = None) -> RoomMessagesResponse:
        resp = await self.client.room_messages(room_id, start=token, end=end,
                                               direction=direction, limit=self.page)
        if not isinstance(resp, RoomMessagesResponse):
            raise RuntimeError(f"could not fetch the history of {room_id}: {resp}")
        return resp
