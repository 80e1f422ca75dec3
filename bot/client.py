"""The bot's nio client, with each event's handling contained to that event.

nio takes a sync response apart and decrypts its timeline inside `client.sync()`, and
around the decryption it catches only EncryptionError: a malformed `m.room.encrypted`
event (an empty `sender_key` or `session_id`, which any room member can send with a plain
client-API PUT) trips an `assert` there, `sync()` raises, and the bot fetches the same
batch again forever, in every room. Here any failure of one event's handling leaves that
event as it came (still encrypted), so the batch goes on and the runtime judges the event
by its shape (bot.event_shape) like any other.

One step earlier, nio cannot take in a response holding an event whose `origin_server_ts`
is not a number (null, a string): making it a `BadEvent` raises TypeError, and the whole
sync (or history page) fails every time it is fetched. `parse_body` marks such a time as
out of range first, so nio's schema check refuses that event alone.

Its Olm machine is `IndexedOlm` (bot.crypto.replay), so that decrypted events say their
megolm message index, and so that a malformed encrypted event fails its decryption with
the EncryptionError every nio caller catches: in a sync, a history page (backfill) and a
held event's retry alike.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient

from bot.crypto.replay import IndexedOlm

log = logging.getLogger(__name__)


def checked_times(value: Any) -> Any:
    """`value` (a parsed response body) with every event's non-integer `origin_server_ts`
    set to -1, which nio's event schemas refuse (minimum 0) and can still make a BadEvent
    of; everything else as it came."""
    if isinstance(value, dict):
        ts = value.get("origin_server_ts", 0)
        if not isinstance(ts, int) or isinstance(ts, bool):
            log.warning("event %r has origin_server_ts %r; treated as malformed",
                        value.get("event_id"), ts)
            value["origin_server_ts"] = -1
        for item in value.values():
            checked_times(item)
    elif isinstance(value, list):
        for item in value:
            checked_times(item)
    return value


class GuardedClient(AsyncClient):
    async def parse_body(self, transport_response: ClientResponse) -> dict[Any, Any]:
        return checked_times(await super().parse_body(transport_response))

    def load_store(self) -> None:
        super().load_store()
        if self.olm is not None and not isinstance(self.olm, IndexedOlm):
            # nio builds the machine itself here; the subclass only adds two overrides.
            self.olm.__class__ = IndexedOlm

    def _handle_timeline_event(self, event: Any, room_id: str, room: Any,
                               encrypted_rooms: set[str]) -> Any:
        try:
            return super()._handle_timeline_event(event, room_id, room, encrypted_rooms)
        except Exception as exc:
            log.warning("event %s in %s could not be taken in by nio (%s: %s); left as it "
                        "came", getattr(event, "event_id", "?"), room_id,
                        type(exc).__name__, exc)
            return None

    def _handle_decrypt_to_device(self, to_device_event: Any) -> Any:
        try:
            return super()._handle_decrypt_to_device(to_device_event)
        except Exception as exc:
            log.warning("to-device event from %s could not be decrypted (%s: %s); ignored",
                        getattr(to_device_event, "sender", "?"), type(exc).__name__, exc)
            return None
