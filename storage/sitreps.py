"""Situation reports posted, their schedule and the lead's note, and the numbers a sitrep
shows: aggregated in SQL (GROUP BY), never row by row, so a sitrep stays fast on an
operation with 100,000 seized items. Plain data only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from storage import audit, consultations, preservations, retention, rollcalls
from storage.codec import from_db_time, to_db_time
from storage.statements import placeholders
from storage.tx import Row, Tx


async def latest(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM sitreps WHERE op_id=? ORDER BY number DESC LIMIT 1",
                        (op_id,))


async def slot_posted(tx: Tx, op_id: int, slot: str) -> bool:
    return bool(await tx.scalar("SELECT 1 FROM sitreps WHERE op_id=? AND slot=?",
                                (op_id, slot)))


async def record(tx: Tx, op_id: int, number: int, *, slot: str | None, posted_at: str,
                 late: bool, final: bool, counters: dict[str, str]) -> None:
    """Unaudited: a sitrep is a post, not a record; its counters are what the next one
    compares against."""
    await tx.execute(
        "INSERT INTO sitreps (op_id, number, slot, posted_at, late, final, snapshot) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (op_id, number, slot, posted_at, int(late), int(final),
         json.dumps(counters, sort_keys=True)))


async def schedule(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM sitrep_schedules WHERE op_id=?", (op_id,))


async def active_schedules(tx: Tx) -> list[Row]:
    """Every open operation's schedule, with the room its sitreps go to."""
    return await tx.all("SELECT s.*, o.room_id FROM sitrep_schedules s JOIN operations o "
                        "ON o.id=s.op_id WHERE o.phase != 'closed'")


async def schedule_with_room(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT s.*, o.room_id FROM sitrep_schedules s JOIN operations o "
                        "ON o.id=s.op_id WHERE s.op_id=?", (op_id,))


async def last_slot(tx: Tx, op_id: int) -> str | None:
    """The newest scheduled slot posted (ISO UTC), None before the first."""
    slot = await tx.scalar("SELECT MAX(slot) FROM sitreps WHERE op_id=?", (op_id,))
    return str(slot) if slot is not None else None


async def note(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM sitrep_notes WHERE op_id=?", (op_id,))


async def gather(tx: Tx, op: Row, now: datetime) -> dict[str, Any]:
    """Everything a sitrep shows; `previous` is the last sitrep posted (None for the first)."""
    op_id = op["id"]
    now_iso = to_db_time(now)
    previous = await latest(tx, op_id)
    data: dict[str, Any] = {"op": op, "now": now_iso, "previous": previous}

    data["tasks_by_agency"] = await tx.all(
        "SELECT COALESCE(agency, '—') AS agency, "
        "SUM(status != 'done') AS open, SUM(status = 'done') AS done, "
        "SUM(status != 'done' AND due IS NOT NULL AND due < ?) AS overdue "
        "FROM tasks WHERE op_id=? GROUP BY COALESCE(agency, '—') ORDER BY 1", (now_iso, op_id))

    data["arrests_total"] = await tx.scalar("SELECT COUNT(*) FROM arrests WHERE op_id=?",
                                            (op_id,))
    data["arrests_by_country"] = await tx.all(
        "SELECT country, COUNT(*) AS n FROM arrests WHERE op_id=? GROUP BY country "
        "ORDER BY n DESC, country", (op_id,))

    data["seizures_by_type_status"] = await tx.all(
        "SELECT type, status, COUNT(*) AS n FROM seizures WHERE op_id=? GROUP BY type, status "
        "ORDER BY type, status", (op_id,))
    data["seizures_total"] = sum(r["n"] for r in data["seizures_by_type_status"])

    data["takedowns_by_status"] = {
        r["status"]: r["n"] for r in await tx.all(
            "SELECT status, COUNT(*) AS n FROM takedowns WHERE op_id=? GROUP BY status",
            (op_id,))}
    # Counts include records under a legal hold (numbers name nobody); what a sitrep names
    # (executed takedowns, the assessment note) leaves it while held, and is counted.
    held_rows = await retention.held(tx, op_id)
    executed, held_out = retention.without_held(await tx.all(
        "SELECT id, seq, target, agency, planned_at, executed_at FROM takedowns "
        "WHERE op_id=? AND status='done' ORDER BY executed_at, seq", (op_id,)), "takedowns",
        held_rows)
    data["executed"] = [
        {**r, "offset_s": _offset(r["planned_at"], r["executed_at"])} for r in executed]
    data["spread"] = ((executed[0]["executed_at"], executed[-1]["executed_at"])
                      if executed else None)

    assets: dict[tuple[str, str], Decimal] = {}
    for asset in await tx.all("SELECT action, currency, amount FROM assets WHERE op_id=?",
                              (op_id,)):
        key = (asset["action"], asset["currency"])
        assets[key] = assets.get(key, Decimal(0)) + Decimal(asset["amount"])
    data["assets"] = sorted(assets.items())

    data["tallies"] = await tx.all(
        "SELECT kind, SUM(delta) AS total FROM tallies WHERE op_id=? GROUP BY kind "
        "HAVING SUM(delta) != 0 ORDER BY kind", (op_id,))

    marks = placeholders(preservations.OPEN)
    data["preservations_open"] = await tx.scalar(
        f"SELECT COUNT(*) FROM preservations WHERE op_id=? AND status IN ({marks})",
        (op_id, *preservations.OPEN))
    running_out = placeholders(preservations.RUNNING_OUT)
    data["preservations_expiring"] = await tx.all(
        f"SELECT seq, provider, country, expires_at FROM preservations WHERE op_id=? "
        f"AND status IN ({running_out}) AND expires_at <= ? ORDER BY expires_at",
        (op_id, *preservations.RUNNING_OUT, to_db_time(now + timedelta(days=7))))
    data["rollcall"] = await rollcalls.rollcall_state(tx, op_id)
    assessment = await note(tx, op_id)
    if assessment is not None and ("sitrep_notes", assessment["id"]) in held_rows:
        held_out, assessment = held_out + 1, None
    data["note"] = assessment["note"] if assessment else None
    data["held_left_out"] = held_out
    data["counters"] = counters(data)
    # "Since last" from the previous sitrep's counters, not timestamps: exact even when a
    # record and a sitrep share a second.
    before = json.loads(previous["snapshot"]) if previous else {}
    data["arrests_since"] = data["arrests_total"] - int(before.get("arrests", 0))
    data["seizures_since"] = data["seizures_total"] - int(before.get("seized items", 0))
    # Read in the same transaction: the head the sitrep witnesses is the state it reports.
    data["audit_head"] = await audit.head(tx, op["room_id"])
    data["consult_head"] = await consultations.head(tx, op["room_id"])
    return data


def _offset(planned: str | None, executed: str | None) -> int | None:
    planned_at, executed_at = from_db_time(planned), from_db_time(executed)
    return (int((executed_at - planned_at).total_seconds()) if planned_at and executed_at
            else None)


def counters(data: dict[str, Any]) -> dict[str, str]:
    """The flat numbers compared between two sitreps to say what changed."""
    out: dict[str, str] = {
        "phase": data["op"]["phase"],
        "H-hour": data["op"]["hhour"] or "—",
        "tasks open": str(sum(r["open"] or 0 for r in data["tasks_by_agency"])),
        "tasks done": str(sum(r["done"] or 0 for r in data["tasks_by_agency"])),
        "tasks overdue": str(sum(r["overdue"] or 0 for r in data["tasks_by_agency"])),
        "arrests": str(data["arrests_total"]),
        "seized items": str(data["seizures_total"]),
        "preservation/MLA open": str(data["preservations_open"]),
    }
    for status, n in sorted(data["takedowns_by_status"].items()):
        out[f"takedowns {status}"] = str(n)
    for r in data["seizures_by_type_status"]:
        out[f"{r['type']} {r['status']}"] = str(r["n"])
    for (action, currency), total in data["assets"]:
        out[f"{currency} {action}"] = str(total)
    for r in data["tallies"]:
        out[r["kind"]] = str(r["total"])
    return out
