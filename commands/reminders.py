"""Which reminders are due at a moment, and their text: T-minus H-hour, overdue tasks,
expiring preservation/MLA requests, the deadlines a request form (F-n) set running.

Each reminder has a key that includes the time it is about (the H-hour, the due time,
the expiry), recorded in `reminders_sent` in the same transaction that decides it: moving
H-hour or a due time makes a new reminder; a restart never repeats one. When several
reminders of one kind passed while the bot was down, only the latest is posted (late),
and an H-hour reminder is only posted late while H-hour is still ahead.

A form's deadlines (storage/request_deadlines.py) remind ahead and when due, while their
request is open; a form's preservation period is its request's expiry, reminded as such
(and not at all once the request is `confirmed`: the data are then kept until produced).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands.core import i18n, timeparse
from commands.core.i18n import N_, tr
from commands.core.records import dtg, label
from commands.core.reply import Bold, Ping, ReplyBuilder, fill
from commands.core.types import Reply
from commands.forms.deadlines import FORM_SHORT
from commands.forms.rules import VALIDATION_DUE
from storage import reminders, request_deadlines
from storage.codec import from_db_time, to_db_time
from storage.tx import Row, Tx

GRACE = timedelta(minutes=2)
T_MINUS = (("H-24h", timedelta(hours=24)), ("H-1h", timedelta(hours=1)),
           ("H-15m", timedelta(minutes=15)), ("H", timedelta(0)))
PRESERVE_BEFORE = (("7d", timedelta(days=7)), ("1d", timedelta(days=1)))
DAY = timedelta(days=1)
SHORT_AHEAD = timedelta(hours=2)
_AHEAD = {"production": N_("{head}: production due {when} ({local}, in {left})"),
          "validation": N_("{head}: validation due {when} ({local}, in {left})"),
          "preservation": N_("{head}: preservation ends {when} ({local}, in {left})")}
_NOW = {"production": N_("{head}: production due now, {when} ({local})"),
        "validation": N_("{head}: validation due now, {when} ({local})"),
        "preservation": N_("{head}: preservation ends now, {when} ({local})")}


@dataclass
class Due:
    key: str
    reply: Reply | None  # None: skipped (recorded so it is never considered again)
    late: bool = False


async def owed_moments(tx: Tx, op_id: int, keys: dict[str, tuple[str, datetime]],
                       now: datetime) -> list[tuple[str, datetime, bool]]:
    """Of reminders `keys` (key: (name, moment)), those not yet claimed whose moment has
    passed, oldest first, as (key, moment, post?): only the most recent is posted, the
    older ones are skipped (claimed without a post)."""
    unsent = await reminders.unsent(tx, op_id, list(keys))
    passed = sorted(((k, keys[k][1]) for k in unsent if keys[k][1] <= now), key=lambda p: p[1])
    return [(k, m, i == len(passed) - 1) for i, (k, m) in enumerate(passed)]


async def due(tx: Tx, op: Row, now: datetime) -> list[Due]:
    out: list[Due] = []
    if op["phase"] == "closed":
        return out
    out.extend(await t_minus(tx, op, now, lambda label, hhour, late: _t_minus(
        op, label, hhour, now, late)))
    now_iso = to_db_time(now)
    for task in await reminders.overdue_tasks(tx, op["id"], now_iso):
        key = f"task-overdue:{task['id']}:{task['due']}"
        if await reminders.unsent(tx, op["id"], [key]):
            out.append(Due(key, _overdue(op, task)))
    for req in await reminders.open_preservations(tx, op["id"], now_iso):
        expires = from_db_time(req["expires_at"])
        assert expires is not None
        keys = {f"preserve:{req['id']}:{label}:{req['expires_at']}": (label, expires - before)
                for label, before in PRESERVE_BEFORE}
        for key, _moment, post in await owed_moments(tx, op["id"], keys, now):
            out.append(Due(key, _expiring(op, req, expires - now) if post else None))
    until = to_db_time(now + DAY)  # the longest a deadline reminds ahead
    for deadline in await request_deadlines.open_due(tx, op["id"], until):
        keys = {f"form-deadline:{deadline['form_id']}:{deadline['kind']}:{moment}:"
                f"{deadline['due_at']}": (moment, at)
                for moment, at in _deadline_moments(deadline).items()}
        for key, at, post in await owed_moments(tx, op["id"], keys, now):
            late = now - at > GRACE
            reply = _deadline(op, deadline, keys[key][0], now, late) if post else None
            out.append(Due(key, reply, late and post))
    return out


async def t_minus(tx: Tx, op: Row, now: datetime,
                  make: Callable[[str, datetime, bool], Reply], prefix: str = "",
                  since: datetime | None = None) -> list[Due]:
    """The T-minus reminders of the operation's H-hour due now, made by `make(label,
    hhour, late)`; a partner room's are keyed apart (`prefix`) in the same table, so each
    room gets each one once. A moment at or before `since` (before the reader had anything
    to be reminded of) is skipped rather than posted late."""
    hhour = from_db_time(op["hhour"])
    if hhour is None:
        return []
    out: list[Due] = []
    keys = {f"{prefix}hhour:{label}:{op['hhour']}": (label, hhour - offset)
            for label, offset in T_MINUS}
    for key, moment, post in await owed_moments(tx, op["id"], keys, now):
        label = keys[key][0]
        late = now - moment > GRACE
        if post and (not late or hhour > now) and (since is None or moment > since):
            out.append(Due(key, make(label, hhour, late), late))
        else:
            out.append(Due(key, None))
    return out


def _deadline_moments(deadline: Row) -> dict[str, datetime]:
    """When a form's deadline reminds: a day ahead when a day or more was allowed, two
    hours ahead of a shorter one (an 8-hour emergency production), and when due."""
    due_at, sent = from_db_time(deadline["due_at"]), from_db_time(deadline["sent_at"])
    assert due_at is not None and sent is not None
    ahead = DAY if due_at - sent >= DAY else SHORT_AHEAD
    return {"ahead": due_at - ahead, "due": due_at}


async def record(tx: Tx, op_id: int, item: Due, now: datetime) -> bool:
    """Claim the reminder; False if another run already did (so it is sent once)."""
    return await reminders.claim(tx, op_id, item.key, to_db_time(now), late=item.late,
                                 skipped=item.reply is None)


def _local(op: Row, iso: str) -> str:
    """A moment as the reader's locale writes it on the operation's clock, beside its DTG."""
    at = from_db_time(iso)
    assert at is not None
    return i18n.local_time(at, ZoneInfo(op["tz"]))


def _t_minus(op: Row, label: str, hhour: datetime, now: datetime, late: bool) -> Reply:
    r = ReplyBuilder()
    if label == "H":
        r.heading(tr("⏱ H-HOUR NOW · {op} · {when}").format(op=op["code"],
                                                           when=dtg(op["hhour"])))
    else:
        left = timeparse.format_offset(hhour - now)[1:]
        r.heading(tr("⏱ {label} · {op} · H-hour {when} (in {left})").format(
            label=label, op=op["code"], when=dtg(op["hhour"]), left=left))
    r.line(tr("Local time ({zone}): H-hour {when}").format(
        zone=op["tz"], when=_local(op, op["hhour"])))
    if late:
        r.line(tr("(late: the bot was down at the reminder time)"))
    return r.build()


def _overdue(op: Row, task: Row) -> Reply:
    r = ReplyBuilder()
    due = tr("due {when}, {local}").format(when=dtg(task["due"]), local=_local(op, task["due"]))
    if task["assignee"]:
        r.line(*fill(tr("{overdue} ({due}): {text} → {assignee}"),
                     overdue=Bold(tr("⏰ T-{seq} is overdue").format(seq=task["seq"])),
                     due=due, text=task["text"], assignee=Ping(task["assignee"])))
    else:
        r.line(*fill(tr("{overdue} ({due}): {text}"),
                     overdue=Bold(tr("⏰ T-{seq} is overdue").format(seq=task["seq"])),
                     due=due, text=task["text"]))
    return r.build()


def _expiring(op: Row, req: Row, left: timedelta) -> Reply:
    return ReplyBuilder().line(*fill(
        tr("{request} expires {when} ({local}, in {left}). Extend it or mark it fulfilled: "
           "/preserve status P-{seq} extended expires=+90d"),
        request=Bold(tr("⌛ P-{seq} {kind} request to {provider} ({country})").format(
            seq=req["seq"], kind=req["kind"], provider=req["provider"],
            country=req["country"])),
        when=dtg(req["expires_at"]), local=_local(op, req["expires_at"]),
        left=timeparse.format_offset(left)[1:], seq=str(req["seq"]))).build()


def _deadline(op: Row, deadline: Row, moment: str, now: datetime, late: bool) -> Reply:
    kind, due_at = deadline["kind"], deadline["due_at"]
    head = Bold(tr("⏰ {form} ({name}) for {request} {provider}").format(
        form=label("forms", deadline["form_seq"]), name=FORM_SHORT.get(deadline["form"],
                                                                      deadline["form"]),
        request=label("preservations", deadline["request_seq"]),
        provider=deadline["provider"]))
    due = from_db_time(due_at)
    assert due is not None
    when, local = dtg(due_at), _local(op, due_at)
    if moment == "ahead":
        text = fill(tr(_AHEAD[kind]), head=head, when=when, local=local,
                    left=timeparse.format_offset(due - now)[1:])
    else:
        text = fill(tr(_NOW[kind]), head=head, when=when, local=local)
    r = ReplyBuilder().line(*text)
    if kind == "validation":
        r.line(tr(VALIDATION_DUE))
    if late:
        r.line(tr("(late: the bot was down at the reminder time)"))
    return r.build()
