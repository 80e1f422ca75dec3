"""Room facts the role checks need, including what nio does not know.

Since room version 12 (MSC4289) the room's creators have unlimited power and are not
listed in `m.room.power_levels`; nio reads only the power-levels event, so without this
the lead who created the room would count as an officer.
"""

from __future__ import annotations

from nio import AsyncClient, MatrixRoom, RoomGetStateResponse

CREATOR_LEVEL = 2**53  # "infinite" for every comparison with a configured level


def creators_are_privileged(room_version: str) -> bool:
    return (room_version.isdigit() and int(room_version) >= 12) or room_version.startswith(
        "org.matrix.hydra")


class PowerLevels:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._creators: dict[str, frozenset[str]] = {}

    def forget(self, room_id: str) -> None:
        """The bot left the room: nothing is kept for it (see Bot._forget_room)."""
        self._creators.pop(room_id, None)

    async def _creators_of(self, room_id: str) -> frozenset[str]:
        if room_id not in self._creators:
            resp = await self.client.room_get_state(room_id)
            creators: set[str] = set()
            if isinstance(resp, RoomGetStateResponse):
                for event in resp.events:
                    if event.get("type") == "m.room.create":
                        creators.add(event["sender"])
                        creators.update(event.get("content", {}).get("additional_creators", []))
            else:
                return frozenset()  # not cached: ask again next time
            self._creators[room_id] = frozenset(creators)
        return self._creators[room_id]

    async def level(self, room: MatrixRoom, user_id: str) -> int:
        if creators_are_privileged(room.room_version) and user_id in await self._creators_of(
                room.room_id):
            return CREATOR_LEVEL
        return room.power_levels.get_user_level(user_id)
