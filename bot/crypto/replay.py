"""Megolm replay protection that survives a restart.

A homeserver chooses event ids, and the bot's at-most-once key for commands is the event
id. nio refuses a second event with the same (sender key, session, message index) only
while its in-memory cache remembers the first, so after a restart the admin of the bot's
or the sender's homeserver could re-serve a lead's old ciphertext under a new event id
and `!undo`, `!op phase closed` or `!hhour` would run again, correctly signed.

So each decrypted event carries its message index (`megolm_index`, set by `IndexedOlm`,
as nio's decrypted events do not say it), and before a command is obeyed its index is
written down with its event id (`storage.replays`). The same index under another event id
is a replay: refused, logged and answered once per session and room; nothing is recorded.
Indices are kept for commands only (the only events acted on), and kept for good: a
replay is as dangerous a year later. Commands handled before this check existed have no
index on record and stay unprotected. On a full disk the index cannot be written, but
neither can the command: only reads are answered then, and a recorded replay is still
refused.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nio import MegolmEvent
from nio.crypto import Olm
from nio.exceptions import EncryptionError

from bot.crypto.device_trust import Refusal
from commands import tr
from storage import replays
from storage.codec import to_db_time
from storage.database import Database
from storage.errors import storage_failure

log = logging.getLogger(__name__)

REPLAYED = "replayed"
UNINDEXED = "unindexed"


def replay_text(first_event_id: str) -> str:
    return tr("⚠️ this message is the encrypted text of an earlier command (first seen as "
              "{event}) sent again under a new event id: a replay by a homeserver, not by "
              "its sender. Nothing was recorded; tell the bot's administrator.").format(
        event=first_event_id)


def unindexed_text() -> str:
    return tr("⚠️ I could not check this message against replays of earlier commands, "
              "so nothing was recorded. Please send the command again.")


class IndexedOlm(Olm):
    """nio's Olm machine, noting on each decrypted room event its megolm message index.
    `message_index_ok` is the one place nio hands the index out, during the decryption
    that `decrypt_megolm_event` returns; every decryption path (sync, backfill, a held
    undecryptable) goes through the latter."""

    _last_index: tuple[str, int] | None = None

    def message_index_ok(self, message_index: int, event: MegolmEvent) -> bool:
        self._last_index = (event.event_id, message_index)
        return super().message_index_ok(message_index, event)

    def decrypt_megolm_event(self, event: MegolmEvent, room_id: str | None = None) -> Any:
        """Every failure is an EncryptionError, the one kind nio's callers catch: nio
        asserts on an empty sender_key or session_id, which any room member can send, and
        an assert escaping here failed a whole sync or history page (bot.client)."""
        self._last_index = None
        try:
            clear = super().decrypt_megolm_event(event, room_id)
        except EncryptionError:
            raise
        except Exception as exc:
            raise EncryptionError(f"malformed encrypted event: {type(exc).__name__}") from exc
        noted, self._last_index = self._last_index, None
        if noted is not None and noted[0] == event.event_id and getattr(clear, "decrypted",
                                                                        False):
            clear.megolm_index = noted[1]
        return clear


class Replays:
    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self.now = now

    async def refusal(self, room_id: str, event: Any) -> Refusal | None:
        """None when this decrypted command is the first event with its ciphertext."""
        index = getattr(event, "megolm_index", None)
        sender_key = getattr(event, "sender_key", None)
        session_id = getattr(event, "session_id", None)
        if not isinstance(index, int) or not sender_key or not session_id:
            log.warning("%s in %s came decrypted without a message index; refused",
                        event.event_id, room_id)
            return Refusal(UNINDEXED, "-", unindexed_text, once=False)
        at = to_db_time(self.now())

        async def note(tx: Any) -> str:
            return await replays.first_event(tx, sender_key, session_id, index,
                                             event.event_id, room_id, at)

        try:
            first = await self.db.write(note)
        except Exception as exc:
            if storage_failure(exc) is None:
                raise
            # A full disk records nothing (the command's own write fails the same way): only
            # a read can be answered (the dispatcher says so), and a known replay is still
            # refused from what is on record.
            async with self.db.snapshot() as tx:  # a read that needs no commit
                recorded = await replays.recorded_event(tx, sender_key, session_id, index)
            if recorded is None:
                return None
            first = recorded
        if first == event.event_id:
            return None
        log.warning("replay refused in %s: %s carries the ciphertext of %s (session %s, "
                    "index %d, sender %s)", room_id, event.event_id, first, session_id, index,
                    event.sender)
        return Refusal(REPLAYED, session_id, functools.partial(replay_text, first))
