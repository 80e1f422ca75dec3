"""Retention periods per operation and data-subject category, legal holds, and what is due
for erasure (Directive 2016/680 arts. 5 and 16(3); CJEU C-118/22: no keeping without review).

A period runs from the operation's closure (`operations.closed_at`). It is written like
"3y", "18m" or "30d" and added on the calendar (a year after 29 February is 28 February),
so a due date reads the way a lead wrote it. Each change of a period is a row of its own
(`retention_policies`): the latest is in force, the earlier ones are the history a
reviewer asks for (who lengthened it, when, why). A hold restricts instead of erasing: a
record under any active hold is never due, whatever its period says.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.codec import from_db_time
from storage.personal import CATEGORIES, PERSONAL, default_category
from storage.tx import Row, Tx

# Review periods when neither the configuration nor a lead set another.
DEFAULT_PERIODS: Mapping[str, str] = {"suspect": "3y", "victim": "1y", "witness": "1y",
                                      "other": "5y"}
MAX_YEARS = 100
_PERIOD_RE = re.compile(r"^\+?(\d{1,4})([ymd])$")
SET, EXTEND = "set", "extend"


class PeriodError(ValueError):
    pass


def parse_period(text: str) -> str:
    """The period in its stored spelling ("3y"); a leading + (as in `extend … +1y`) is
    allowed. Raises PeriodError on anything else, or on zero or more than 100 years."""
    found = _PERIOD_RE.match(text.strip().lower())
    if not found:
        raise PeriodError(text)
    amount, unit = int(found[1]), found[2]
    limit = {"y": MAX_YEARS, "m": MAX_YEARS * 12, "d": MAX_YEARS * 366}[unit]
    if not 0 < amount <= limit:
        raise PeriodError(text)
    return f"{amount}{unit}"


def add_period(at: datetime, period: str) -> datetime:
    amount, unit = int(period[:-1]), period[-1]
    if unit == "d":
        return at + timedelta(days=amount)
    months = amount * 12 if unit == "y" else amount
    year, month = divmod(at.month - 1 + months, 12)
    year += at.year
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def combined(first: str, second: str) -> str:
    """`second` added to `first` (an extension), in the smaller unit both are exact in."""
    units = {"y": 12, "m": 1}
    if first[-1] in units and second[-1] in units:
        months = int(first[:-1]) * units[first[-1]] + int(second[:-1]) * units[second[-1]]
        return f"{months // 12}y" if months % 12 == 0 else f"{months}m"
    return f"{_days(first) + _days(second)}d"


def _days(period: str) -> int:
    """Days a period covers from a fixed start (for adding periods of mixed units)."""
    start = datetime(2001, 1, 1)
    return (add_period(start, period) - start).days


def longer(new: str, old: str) -> bool:
    """Whether `new` keeps data longer than `old` from the same closure (a leap year
    aside, the start makes no difference; 2001 keeps "12m" and "1y" equal)."""
    start = datetime(2001, 1, 1)
    return add_period(start, new) > add_period(start, old)


# -- periods -------------------------------------------------------------------------------

async def history(tx: Tx, op_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM retention_policies WHERE op_id=? ORDER BY id",
                        (op_id,))


async def periods(tx: Tx, op_id: int, defaults: Mapping[str, str]) -> dict[str, str]:
    """The period in force per category: the operation's latest, else the default."""
    out = {c: defaults.get(c, DEFAULT_PERIODS[c]) for c in CATEGORIES}
    for row in await history(tx, op_id):
        out[row["category"]] = row["period"]
    return out


async def set_period(tx: Tx, op_id: int, category: str, period: str, kind: str,
                     reason: str | None, by: str, at: str) -> Row:
    return await tx.insert("retention_policies", {
        "op_id": op_id, "category": category, "period": period, "kind": kind,
        "reason": reason, "created_by": by, "created_at": at})


def due_date(op: Row, period: str) -> datetime | None:
    """When data of that period fall due; None while the operation is open."""
    closed = from_db_time(op["closed_at"])
    return add_period(closed, period) if closed is not None else None


async def closed_operations(tx: Tx) -> list[Row]:
    return await tx.all("SELECT * FROM operations WHERE closed_at IS NOT NULL ORDER BY id")


# -- the records of an operation ----------------------------------------------------------

@dataclass(frozen=True)
class Kept:
    """A personal record still readable (not erased): its table, row, key and number
    (None for rows without one, such as a sitrep note)."""

    tbl: str
    row_id: int
    subject_key: int | None
    seq: int | None
    category: str


async def kept(tx: Tx, op_id: int, category: str | None = None) -> list[Kept]:
    """Every not yet erased record of the operation that holds personal fields, of one
    category or all, in table then number order."""
    out: list[Kept] = []
    for tbl in sorted(PERSONAL):
        alias = "r"
        if tbl == "rollcall_answers":  # answers belong to a roll call, the call to the op
            source = ("rollcall_answers r JOIN rollcalls c ON c.id = r.rollcall_id "
                      "WHERE c.op_id=?")
            seq = "NULL"
        else:
            source = f"{tbl} r WHERE r.op_id=?"
            seq = "NULL" if tbl in ("sitrep_notes", "partner_reports") else f"{alias}.seq"
        sql = (f"SELECT r.id, r.subject_key, r.subject_category, {seq} AS seq FROM {source} "
               "AND r.erased_by IS NULL")
        params: list[object] = [op_id]
        if category is not None:
            sql += " AND COALESCE(r.subject_category, ?) = ?"
            params += [_fallback(tbl), category]
        rows = await tx.all(sql + " ORDER BY r.id", params)
        out += [Kept(tbl, r["id"], r["subject_key"], r["seq"],
                     r["subject_category"] or _fallback(tbl)) for r in rows]
    return out


def _fallback(tbl: str) -> str:
    """Rows recorded before categories existed are of their table's default category."""
    return default_category(tbl)


# -- holds ---------------------------------------------------------------------------------

async def holds(tx: Tx, op_id: int, *, active_only: bool = False) -> list[Row]:
    sql = "SELECT * FROM holds WHERE op_id=?"
    if active_only:
        sql += " AND released_at IS NULL"
    return await tx.all(sql + " ORDER BY seq", (op_id,))


async def hold_by_seq(tx: Tx, op_id: int, seq: int) -> Row | None:
    return await tx.one("SELECT * FROM holds WHERE op_id=? AND seq=?", (op_id, seq))


async def add_hold(tx: Tx, op_id: int, ref: str, *, category: str | None,
                   records: list[tuple[str, int, int]] | None, by: str, at: str) -> Row:
    """A new hold H-n. Scope: `records` (table, row id, number) when given, else
    `category`, else the whole operation."""
    seq = await tx.next_seq(op_id, "H")
    return await tx.insert("holds", {
        "op_id": op_id, "seq": seq, "ref": ref, "category": category,
        "records": json.dumps([list(r) for r in records]) if records else None,
        "created_by": by, "created_at": at})


async def release_hold(tx: Tx, hold: Row, reason: str | None, by: str, at: str) -> Row:
    _, after = await tx.update("holds", hold["id"], {
        "released_by": by, "released_at": at, "release_reason": reason})
    return after


def hold_records(hold: Row) -> list[tuple[str, int]]:
    return [(str(t), int(i)) for t, i, _seq in json.loads(hold["records"] or "[]")]


def hold_numbers(hold: Row) -> list[tuple[str, int]]:
    """(table, record number) of a hold on records, to name them as users do."""
    return [(str(t), int(seq)) for t, _i, seq in json.loads(hold["records"] or "[]")]


async def held(tx: Tx, op_id: int) -> set[tuple[str, int]]:
    """(table, row id) of every record of the operation under at least one active hold.
    One query per hold scope, none when nothing is held (the common case)."""
    active = await holds(tx, op_id, active_only=True)
    out: set[tuple[str, int]] = set()
    whole: list[Kept] | None = None
    for hold in active:
        if hold["records"]:
            out.update(hold_records(hold))
            continue
        if whole is None:
            whole = await _all_records(tx, op_id)
        out.update((k.tbl, k.row_id) for k in whole
                   if hold["category"] is None or k.category == hold["category"])
    return out


async def _all_records(tx: Tx, op_id: int) -> list[Kept]:
    """Erased ones too: a hold restricts what a list shows, and an erased record's
    skeleton is still shown."""
    out: list[Kept] = []
    for tbl in sorted(PERSONAL):
        if tbl == "rollcall_answers":
            sql = ("SELECT r.id, r.subject_key, r.subject_category FROM rollcall_answers r "
                   "JOIN rollcalls c ON c.id = r.rollcall_id WHERE c.op_id=?")
        else:
            sql = f"SELECT id, subject_key, subject_category FROM {tbl} WHERE op_id=?"
        for r in await tx.all(sql, (op_id,)):
            out.append(Kept(tbl, r["id"], r["subject_key"], None,
                            r["subject_category"] or _fallback(tbl)))
    return out


def without_held(rows: list[Row], tbl: str, held_rows: set[tuple[str, int]]
                 ) -> tuple[list[Row], int]:
    """The rows not held, and how many were left out (a list says so, never silently)."""
    kept_rows = [r for r in rows if (tbl, r["id"]) not in held_rows]
    return kept_rows, len(rows) - len(kept_rows)


# -- what is due ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DueScope:
    op_id: int
    room_id: str
    category: str
    records: list[tuple[str, int, int | None]]  # (table, row id, subject_key)


async def due_for_erasure(tx: Tx, now: datetime, defaults: Mapping[str, str]
                          ) -> list[DueScope]:
    """Per closed operation and category whose due date has passed, its records not yet
    erased and under no active hold. A scope with nothing left to erase is not returned,
    so a run that finished is not started again."""
    out: list[DueScope] = []
    for op in await closed_operations(tx):
        in_force = await periods(tx, op["id"], defaults)
        held_rows: set[tuple[str, int]] | None = None
        for category in CATEGORIES:
            due = due_date(op, in_force[category])
            if due is None or due > now:
                continue
            if held_rows is None:
                held_rows = await held(tx, op["id"])
            records = [(k.tbl, k.row_id, k.subject_key)
                       for k in await kept(tx, op["id"], category)
                       if (k.tbl, k.row_id) not in held_rows]
            if records:
                out.append(DueScope(op["id"], op["room_id"], category, records))
    return out
