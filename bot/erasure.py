"""Finishing erasures: keys destroyed, files scrubbed, the KEK rotated, the room told.

An erasure's first step commits with the command or the scheduler's decision
(storage.erasures.begin); its records are then marked a batch per transaction, so other
rooms' commands are not held up behind 100,000 records; the rest cannot share a transaction:
the key store is another file, and VACUUM runs outside any transaction. So each step is
idempotent and recorded as the erasure's state, and `finish_all` runs at start-up and on
every scheduler tick: an erasure a crash cut short is finished, one that is done is never
applied again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from commands import (
    ERASURE_APPROVER_POLICY,
    ERASURE_REASON_POLICY,
    Reply,
    erased_labels,
    erasure_announcement,
    i18n,
    speaking,
)
from storage import erasures, languages, retention
from storage.audit import Actor
from storage.codec import to_db_time
from storage.consultations import events_showing
from storage.database import Database
from storage.erasures import DONE, KEYS_DESTROYED, STARTED, Target
from storage.tx import Row, Tx

log = logging.getLogger(__name__)
BOT = "@opsroom"

# Posting a reply in a room, and redacting the bot's own events there (bot.redaction).
Post = Callable[[str, Reply], Awaitable[None]]
Redact = Callable[[str, Sequence[str]], Awaitable[int]]


def _actor(room_id: str, what: str, now: datetime) -> Actor:
    return Actor(room_id=room_id, sender=BOT, event_id=f"opsroom:{what}",
                 command=what, at=to_db_time(now))


async def erase_due(db: Database, now: datetime,
                    defaults: Mapping[str, str] = retention.DEFAULT_PERIODS) -> int:
    """The retention policy's scopes whose period has run, each begun as an erasure with
    nobody acting; how many were begun."""
    scopes = await db.read(lambda tx: retention.due_for_erasure(tx, now, defaults))
    for scope in scopes:
        targets = [Target(tbl, row_id, key) for tbl, row_id, key in scope.records]
        what = f"erase {scope.category} ({ERASURE_REASON_POLICY}) {to_db_time(now)}"

        async def begin(tx: Tx, targets: list[Target] = targets, category: str = scope.category,
                        op_id: int = scope.op_id) -> Row:
            return await erasures.begin(
                tx, op_id, scope=category, reason=ERASURE_REASON_POLICY,
                approver=ERASURE_APPROVER_POLICY, targets=targets, purge=False,
                at=to_db_time(now))

        await db.write(begin, _actor(scope.room_id, what, now))
    return len(scopes)


async def finish_all(db: Database, now: datetime, post: Post | None = None,
                     redact: Redact | None = None) -> list[int]:
    """Every erasure not done is taken to the end; those not told yet are told (when a
    `post` is given). The ids finished or told."""
    touched: list[int] = []
    for row in await db.read(erasures.unfinished):
        row = await finish(db, row["id"], now)
        if post is not None and row["announced_at"] is None:
            await announce(db, row, now, post, redact)
        touched.append(int(row["id"]))
    return touched


async def finish(db: Database, erasure_id: int, now: datetime) -> Row:
    row = await _get(db, erasure_id)
    room_id = row["room_id"]
    if row["state"] == STARTED:
        # one actor for every batch: its own entries are told apart from the records' ones
        marking = Actor(room_id=room_id, sender=BOT, event_id=f"opsroom:erasure:{erasure_id}",
                        command=f"erasure E-{row['seq']}: marking", at=to_db_time(now))
        while await db.write(lambda tx: erasures.mark_batch(tx, erasure_id), marking):
            pass  # a batch per transaction: commands of every room go in between
        await db.write(lambda tx: erasures.close_marking(tx, erasure_id), marking)
        key_ids = await db.read(lambda tx: erasures.key_ids(tx, erasure_id))
        async with db.exclusive():
            await asyncio.to_thread(db.keys.destroy, key_ids)
        await db.write(lambda tx: erasures.advance(tx, erasure_id, KEYS_DESTROYED,
                                                   to_db_time(now)),
                       _actor(room_id, f"erasure E-{row['seq']}: keys destroyed", now))
        row = await _get(db, erasure_id)
    if row["state"] == KEYS_DESTROYED:
        async with db.exclusive():
            await db.compact()
            await asyncio.to_thread(db.keys.scrub)
            await asyncio.to_thread(db.keys.rotate)
        await db.write(lambda tx: erasures.advance(tx, erasure_id, DONE, to_db_time(now)),
                       _actor(room_id, f"erasure E-{row['seq']}: done", now))
        row = await _get(db, erasure_id)
    return row


async def announce(db: Database, row: Row, now: datetime, post: Post,
                   redact: Redact | None) -> None:
    """The summary in the room's language, then the bot's earlier messages naming the
    erased records redacted (best effort: a failure is logged, the erasure stands)."""
    room_id = row["room_id"]

    async def facts(tx: Tx) -> tuple[str | None, list[str], list[str]]:
        return (await languages.of_room(tx, room_id),
                await erasures.past_recipients(tx, room_id),
                await events_showing(tx, room_id, erased_labels(row)))

    lang, recipients, events = await db.read(facts)
    with speaking(lang or i18n.SOURCE):
        reply = erasure_announcement(row, recipients)
    await db.write(lambda tx: erasures.announced(tx, row["id"], to_db_time(now)),
                   _actor(room_id, f"erasure E-{row['seq']}: announced", now))
    await post(room_id, reply)
    if redact is not None and events:
        try:
            done = await redact(room_id, events)
            log.info("E-%s: redacted %d of the bot's %d messages showing its records",
                     row["seq"], done, len(events))
        except Exception:
            log.exception("E-%s: redacting the bot's earlier messages failed", row["seq"])


async def _get(db: Database, erasure_id: int) -> Row:
    row = await db.read(lambda tx: erasures.get(tx, erasure_id))
    assert row is not None
    return row
