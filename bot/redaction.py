"""Which of the bot's own messages showed which record, and taking them back.

Erasing a data subject's values from the database leaves them in the room: every reply,
sitrep or notice the bot posted that named the record still shows them. So, once a message
is in the room and has its event id, the record handles in its text (T-3, A-1 …) are kept
against that id (`storage.consultations.record_shown`); the erasure run asks which events
showed the erased records (`events_showing`) and redacts them with `redact_own`.

Redaction is best effort: the homeserver removes the content it serves, but members'
clients may already hold a copy, which only they can delete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from nio import AsyncClient, RoomRedactResponse

from commands import record_handles
from storage import consultations
from storage.database import Database

log = logging.getLogger(__name__)
REASON = "personal data erased"


async def record_sent(db: Database, room_id: str, event_id: str, content: dict[str, Any]
                      ) -> None:
    """After a message of the bot's reached the room: the records its text named."""
    text = content.get("body")
    found = record_handles(text) if isinstance(text, str) else set()
    if found:
        await db.write(lambda tx: consultations.record_shown(tx, room_id, event_id, found))


async def redact_own(client: AsyncClient, room_id: str, event_ids: Iterable[str],
                     reason: str = REASON) -> int:
    """Redact the bot's own events `event_ids` in `room_id`; how many the homeserver
    accepted. One that fails is logged and skipped: the others still go."""
    done = 0
    for event_id in event_ids:
        try:
            resp = await client.room_redact(room_id, event_id, reason=reason)
        except Exception as exc:  # a network error raises instead of answering
            resp = exc
        if isinstance(resp, RoomRedactResponse):
            done += 1
        else:
            log.warning("could not redact %s in %s: %s", event_id, room_id, resp)
    return done
