"""Which reminders are due at a moment, and their text: T-minus H-hour, overdue tasks,
expiring preservation/MLA requests.

Each reminder has a key that includes the time it is about (the H-hour, the due time,
the expiry), recorded in `reminders_sent` in the same transaction that decides it: moving
H-hour or a due time makes a new reminder; a restart never repeats one. When several
reminders of one kind passed while the bot was down, only the latest is posted (late),
and an H-hour reminder is only posted late while H-hour is still ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands.core import i18n, timeparse
from commands.core.i18n import tr
from commands.core.records import dtg
from commands.core.reply import Bold, Ping, ReplyBuilder, fill
from commands.core.types import Reply
from storage import reminders
from storage.codec import from_db_time, to_db_time
from storage.tx import Row, Tx

GRACE = timedelta(minutes=2)
T_MINUS = (("H-24h", timedelta(hours=24)), ("H-1h", timedelta(hours=1)),
           ("H-15m", timedelta(minutes=15)), ("H", timedelta(0)))
PRESERVE_BEFORE = (("7d", timedelta(days=7)), ("1d", timedelta(days=1)))


@dataclass
class Due:
    key: str
    reply: Reply | None  # None: skipped (recorded so it is never considered again)
    late: bool = False


def _latest_only(passed: list[tuple[str, datetime]]) -> list[tuple[str, datetime, bool]]:
    """(key, moment, post?) — the most recent passed reminder is posted, older ones skipped."""
    passed.sort(key=lambda p: p[1])
    return [(k, m, i == len(passed) - 1) for i, (k, m) in enumerate(passed)]


async def due(tx: Tx, op: Row, now: datetime) -> list[Due]:
    out: list[Due] = []
    if op["phase"] == "closed":
        return out
    hhour = from_db_time(op["hhour"])
    if hhour is not None:
        keys = {f"hhour:{label}:{op['hhour']}": (label, hhour - offset)
                for label, offset in T_MINUS}
        unsent = await reminders.unsent(tx, op["id"], list(keys))
        passed = [(k, keys[k][1]) for k in unsent if keys[k][1] <= now]
        for key, moment, post in _latest_only(passed):
            label = keys[key][0]
            late = now - moment > GRACE
            if post and (not late or hhour > now):
                out.append(Due(key, _t_minus(op, label, hhour, now, late), late))
            else:
                out.append(Due(key, None))
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
        unsent = await reminders.unsent(tx, op["id"], list(keys))
        passed = [(k, keys[k][1]) for k in unsent if keys[k][1] <= now]
        for key, _moment, post in _latest_only(passed):
            out.append(Due(key, _expiring(op, req, expires - now) if post else None))
    return out


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
