"""A situation report as leads read it on a phone: header, what changed, the lead's
assessment, then one short section per record kind. Pure: data in, text and HTML out."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from commands import witness
from commands.core import timeparse
from commands.core.records import dtg
from commands.core.reply import Bold, ReplyBuilder
from commands.core.types import Reply
from storage.codec import from_db_time
from storage.tx import Row


def _hhour_line(op: Row, now_iso: str) -> str:
    if not op["hhour"]:
        return "H-hour not set"
    hhour, now = from_db_time(op["hhour"]), from_db_time(now_iso)
    assert hhour is not None and now is not None
    delta = hhour - now
    if delta > timedelta(0):
        return f"H-hour {dtg(op['hhour'])} · T-{timeparse.format_offset(delta)[1:]}"
    return f"H-hour {dtg(op['hhour'])} · H+{timeparse.format_offset(-delta)[1:]}"


def changes(previous: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    if previous is None:
        return []
    out = []
    for key in sorted(set(previous) | set(current)):
        before, after = previous.get(key, "0"), current.get(key, "0")
        if before != after:
            if key == "H-hour":
                before, after = dtg(before) if before != "—" else "—", dtg(after)
            out.append(f"{key}: {before} → {after}")
    return out


def render(data: dict[str, Any], number: int, *, late_slot: str | None = None,
           final: bool = False) -> Reply:
    op, now = data["op"], data["now"]
    report = ReplyBuilder()
    title = "FINAL REPORT" if final else f"SITREP #{number}"
    report.heading(f"{title} · {op['name']} ({op['code']}) · TLP:{op['tlp']}")
    report.line(f"{dtg(now)} · phase {op['phase']} · {_hhour_line(op, now)}")
    if late_slot:
        report.line(Bold(f"LATE (slot {dtg(late_slot)}): the bot was down at the scheduled time"))

    previous = data["previous"]
    prev_counters = json.loads(previous["snapshot"]) if previous else None
    diff = changes(prev_counters, data["counters"])
    if previous is None:
        report.line(Bold("Changes: "), "first sitrep")
    elif diff:
        report.line(Bold(f"Changes since #{previous['number']}: "), "; ".join(diff))
    else:
        report.line(Bold(f"Changes since #{previous['number']}: "), "NO CHANGE")
    if data["note"]:
        report.line(Bold("Assessment / next steps: "), data["note"])

    tasks = data["tasks_by_agency"]
    if tasks:
        report.line(Bold("Tasks: "), " · ".join(
            f"{t['agency']} {t['open'] or 0} open/{t['done'] or 0} done"
            + (f"/{t['overdue']} OVERDUE" if t["overdue"] else "") for t in tasks))
    else:
        report.line(Bold("Tasks: "), "none")

    countries = ", ".join(f"{c['country']} {c['n']}" for c in data["arrests_by_country"])
    report.line(Bold("Arrests: "),
                f"{data['arrests_total']} ({data['arrests_since']:+d} since last)"
                + (f" · {countries}" if countries else ""))

    by_type: dict[str, list[str]] = {}
    for s in data["seizures_by_type_status"]:
        by_type.setdefault(s["type"], []).append(f"{s['n']} {s['status']}")
    report.line(Bold("Seized infrastructure: "), f"{data['seizures_total']} "
                f"({data['seizures_since']:+d} since last)"
                + "".join(f" · {t}: {', '.join(v)}" for t, v in by_type.items()))

    takedowns = data["takedowns_by_status"]
    planned = takedowns.get("planned", 0) + takedowns.get("go", 0)
    report.line(Bold("Takedowns: "), f"{planned} planned · {takedowns.get('done', 0)} executed · "
                f"{takedowns.get('failed', 0)} failed · {takedowns.get('aborted', 0)} aborted")
    for executed in data["executed"][:10]:
        offset = (f" ({timeparse.format_offset(timedelta(seconds=executed['offset_s']))} vs plan)"
                  if executed["offset_s"] is not None else "")
        report.line(f"   K-{executed['seq']} {executed['agency']} "
                    f"{dtg(executed['executed_at'])}{offset}")
    if len(data["executed"]) > 10:
        report.line(f"   … {len(data['executed']) - 10} more executed")
    if data["spread"]:
        first, last = data["spread"]
        first_at, last_at = from_db_time(first), from_db_time(last)
        assert first_at is not None and last_at is not None
        span = last_at - first_at
        report.line(f"   Spread: {dtg(first)} → {dtg(last)} "
                    f"({timeparse.format_offset(span)[1:]})")

    if data["assets"]:
        report.line(Bold("Assets: "), " · ".join(f"{total} {cur} {action}"
                                                 for (action, cur), total in data["assets"]))
    if data["tallies"]:
        report.line(Bold("Tallies: "),
                    " · ".join(f"{t['kind']} {t['total']}" for t in data["tallies"]))

    expiring = data["preservations_expiring"]
    report.line(Bold("Preservation/MLA: "), f"{data['preservations_open']} open"
                + (" · expiring ≤7d: " + ", ".join(
                    f"P-{p['seq']} {p['provider']} {dtg(p['expires_at'])}" for p in expiring)
                   if expiring else ""))

    rollcall = data["rollcall"]
    if rollcall["seq"] is None:
        report.line(Bold("Go/no-go: "), "no roll call yet")
    else:
        answered: dict[bool | None, list[str]] = {True: [], False: [], None: []}
        for agency in rollcall["agencies"]:
            # A NO-GO is only actionable with its reason, so the lead sees it here.
            reason = (f" ({agency['reason']})" if agency["ready"] is False and agency["reason"]
                      else "")
            answered[agency["ready"]].append(agency["code"] + reason)
        state = "open" if rollcall["open"] else "closed"
        verdict = ("ALL GO" if not answered[False] and not answered[None]
                   else f"GO {len(answered[True])} · NO-GO {', '.join(answered[False]) or 0}"
                        f" · waiting {', '.join(answered[None]) or 0}")
        report.line(Bold("Go/no-go: "), f"R-{rollcall['seq']} ({state}) {verdict}")
    head = data.get("audit_head")
    witness.head_line(report, head)
    reply = report.build()
    reply.extra_content = witness.head_content(head)
    return reply
