"""The bot's nio client, with each event's handling contained to that event.

nio takes a sync response apart and decrypts its timeline inside `client.sync()`, and
around the decryption it catches only EncryptionError: a malformed `m.room.encrypted`
event (an empty `sender_key` or `session_id`, which any room member can send with a plain
client-API PUT) trips an `assert` there, `sync()` raises, and the bot fetches the same
batch again forever, in every room. Here any failure of one event's handling leaves that
event as it came (still encrypted), so the batch goes on and the runtime judges the event
by its shape (bot.event_shape) like any other.

Its Olm machine is `IndexedOlm`, so that decrypted events say their megolm message index
(bot.crypto.replay).
"""

from __future__ import annotations

import logging
from typing import Any

from nio import AsyncClient, MegolmEvent
from nio.exceptions import EncryptionError

from bot.crypto.replay import IndexedOlm

log = logging.getLogger(__name__)


class GuardedClient(AsyncClient):
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

    def decrypt_event(self, event: MegolmEvent) -> Any:
        """Every failure is an EncryptionError, the one kind callers expect."""
        try:
            return super().decrypt_event(event)
        except EncryptionError:
            raise
        except Exception as exc:
            raise EncryptionError(f"malformed encrypted event: {type(exc).__name__}") from exc
