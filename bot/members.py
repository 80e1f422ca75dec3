"""Who is joined to each room the bot is in, whole.

The sync lazy-loads members (`SYNC_FILTER`), so nio's `room.users` holds only the members
whose events the bot has seen. That is enough to send (nio fetches the whole list before
its first encrypted message in a room), not to decide: `/trust @x` must know that @x is
joined to the room it is typed in, and a changed identity must be told to every room the
bot shares with @x. So the whole list of each room is fetched once (at start and when the
bot joins), and again after a limited sync, whose left-out part may hold joins and leaves.
"""

from __future__ import annotations

import asyncio
import logging

from nio import AsyncClient, JoinedMembersError

log = logging.getLogger(__name__)

AT_ONCE = 8  # joined_members requests in flight at once (500 rooms at start)


class Members:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._fetching: dict[str, asyncio.Task[None]] = {}

    def joined(self, room_id: str) -> list[str]:
        room = self.client.rooms.get(room_id)
        if room is None:
            return []
        return [u for u in room.users if u not in room.invited_users]

    def rooms_with(self, user_id: str) -> list[str]:
        return sorted(room_id for room_id, room in self.client.rooms.items()
                      if user_id in room.users and user_id not in room.invited_users)

    def stale(self, room_id: str) -> None:
        """A limited sync left events out: the list is fetched again before it is used."""
        room = self.client.rooms.get(room_id)
        if room is not None:
            room.members_synced = False

    async def ensure_all(self) -> None:
        """Every room's whole list, fetching only those not known whole (cheap once done)."""
        wanted = [room_id for room_id, room in self.client.rooms.items()
                  if not room.members_synced]
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(room_id: str) -> None:
            async with gate:
                await self.ensure(room_id)

        await asyncio.gather(*(one(room_id) for room_id in wanted))

    async def ensure(self, room_id: str) -> None:
        """Fetch one room's list unless it is known whole; concurrent callers share one
        request. A failure is logged and leaves the partial list (tried again next time)."""
        room = self.client.rooms.get(room_id)
        if room is None or room.members_synced:
            return
        task = self._fetching.get(room_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch(room_id))
            self._fetching[room_id] = task
            task.add_done_callback(lambda _: self._fetching.pop(room_id, None))
        await asyncio.shield(task)

    async def _fetch(self, room_id: str) -> None:
        try:
            resp = await self.client.joined_members(room_id)
        except Exception as exc:  # network trouble: the next command asks again
            log.warning("could not fetch the members of %s (%s)", room_id, exc)
            return
        if isinstance(resp, JoinedMembersError):
            log.warning("could not fetch the members of %s (%s)", room_id, resp.message)
