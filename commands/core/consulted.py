"""What a consultation row says about one answer that showed records (storage.consultations).

The dispatcher writes the row for every command declared with `shows=` (commands.core.spec),
so a new list or export cannot forget it; a refusal shows nothing and writes none.

The scope is the command and the NAMES of what was asked, never a personal value: a value
is written only when its argument type is closed (`ArgType.closed`: a choice from a fixed
list, a TLP level, a country or agency code, a record number, a page), any other as
`key=…`. So `/arrest list country=DE page=2` is logged as it was typed, `/provider Acme`
as `/provider name=…`.

How many records were shown is the number of distinct record handles (T-3, A-2 …) in the
reply's text, or, for a file, the number its maker reports (`Reply.shown`).

A reply whose file is made after the command committed (an export, the board, /audit
verify) is logged once the file exists, in a transaction of its own just before it is
sent: its MAC is of the file. What the row says about the command (who, device, purpose,
recipients then) is fixed when the command commits and travels in the stored reply's
`redo`, so a file made again after a restart is logged as that command, once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.core import spec
from commands.core.records import PREFIX
from commands.core.types import Incoming, Reply
from storage import consultations, forms, outbox
from storage.audit import Head
from storage.codec import to_db_time
from storage.statements import Statements
from storage.tx import Row, Tx

# How long a purpose stated with /why holds: one shift. After it the default applies
# again, so a purpose given for one task is not carried into the next day's work.
PURPOSE_HOLDS = timedelta(hours=8)
REDO_KEY = "consult"

HANDLE = re.compile(r"\b(?:" + "|".join(sorted(set(PREFIX.values()))) + r")-\d{1,10}\b")


def handles(text: str) -> set[str]:
    """The record handles a text names (T-3, A-2 …): what a message showed."""
    return set(HANDLE.findall(text))


def scope_of(cmd: spec.Command, args: Any) -> str:
    parts = ["/" + cmd.name]
    for param in cmd.params:
        value = getattr(args, param.attribute, None)
        if value is None:
            continue
        if not param.type.closed:
            parts.append(f"{param.name}=…")
            continue
        metavar = param.type.metavar
        if isinstance(value, int) and metavar.endswith("-N") and metavar[:-2] in PREFIX.values():
            shown = f"{metavar[:-2]}-{value}"
        else:
            shown = str(value)
        parts.append(f"{param.name}={shown}" if param.kind == "key" else shown)
    return " ".join(parts)


async def default_purpose(tx: Tx, op: Row | None) -> str:
    """The operation's legal basis as its request forms state it (the newest that says
    one), else the operation itself: a consultation is never logged without a reason."""
    if op is None:
        return "unstated"
    for form in await forms.others_newest_first(tx, op["id"], 0):
        basis = forms.values(form, "fields").get("legal_basis")
        if basis:
            return f"legal basis: {basis}"
    return f"operation {op['code']}"


async def purpose_of(tx: Tx, room_id: str, user_id: str, at: datetime, op: Row | None) -> str:
    stated = await consultations.purpose(tx, room_id, user_id, to_db_time(at))
    return stated["purpose"] if stated else await default_purpose(tx, op)


@dataclass(frozen=True)
class Pending:
    """A consultation as fixed when its command committed; `log` writes it with what was
    shown."""

    room_id: str
    at: str
    sender: str
    device: str | None
    event_id: str | None
    verb: str
    scope: str
    purpose: str
    recipients: str
    # The recipients' member list is stored at once (consult_members), so what travels in
    # a stored reply's `redo` is its hash, not the officers' ids.
    members_hash: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Pending:
        return cls(**json.loads(text))


async def pending(tx: Tx, msg: Incoming, cmd: spec.Command, args: Any, result: Reply,
                  op: Row | None, at: datetime,
                  members_of: Callable[[str], Collection[str]]) -> Pending:
    """Who asked, why, and who received it: the room, or for a post to other rooms (a
    deconfliction introduction) those rooms."""
    assert cmd.shows is not None
    rooms = await outbox.rooms_of(tx, result.posts) if result.posts else [msg.room_id]
    members = sorted({m for room in rooms for m in members_of(room)})
    return Pending(
        room_id=msg.room_id, at=to_db_time(at), sender=msg.sender, device=msg.device_id,
        event_id=msg.event_id, verb=cmd.shows, scope=scope_of(cmd, args),
        purpose=await purpose_of(tx, msg.room_id, msg.sender, at, op),
        recipients=",".join(rooms),
        members_hash=await consultations.members_hash(tx, members))


def shown(result: Reply) -> tuple[bytes, int]:
    """What the answer showed (the file's bytes, else its text) and how many records."""
    if result.attachment is not None:
        data = result.attachment.read()
    else:
        data = result.text.encode("utf-8")
    count = result.shown if result.shown is not None else len(handles(result.text))
    return data, count


async def log(tx: Statements, p: Pending, result: Reply) -> Head | None:
    return await _append(tx, p, *shown(result))


async def _append(tx: Statements, p: Pending, data: bytes, count: int) -> Head | None:
    return await consultations.append(tx, consultations.Consultation(
        room_id=p.room_id, at=p.at, sender=p.sender, device=p.device, event_id=p.event_id,
        verb=p.verb, scope=p.scope, records=count, members_hash=p.members_hash,
        purpose=p.purpose,
        shown=data, recipients=p.recipients))


SCHEDULED_SITREP = "scheduled sitrep"
SCHEDULED_BOARD = "scheduled board"


async def scheduled(tx: Statements, room_id: str, at: datetime, bot_user: str,
                    members: Collection[str], what: str, data: bytes, count: int) -> None:
    """A post the bot made by itself (`what`: a scheduled sitrep or board): a disclosure
    to the room that no command asked for, logged as the bot's own, with `what` as its
    purpose (the schedule a lead set is the reason)."""
    await _append(tx, Pending(room_id=room_id, at=to_db_time(at), sender=bot_user,
                              device=None, event_id=None, verb=consultations.DISCLOSE,
                              scope=what, purpose=what, recipients=room_id,
                              members_hash=await consultations.members_hash(tx, members)),
                  data, count)

