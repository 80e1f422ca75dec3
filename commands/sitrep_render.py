"""A situation report as leads read it on a phone: header, what changed, the lead's
assessment, then one short section per record kind. Pure: data in, text and HTML out."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands import witness
from commands.core import i18n, timeparse
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg
from commands.core.reply import Bold, Part, ReplyBuilder, fill
from commands.core.types import Reply
from storage.codec import from_db_time
from storage.tx import Row

# The counters compared between two sitreps (storage.sitreps.counters) whose names are
# words; the others are keywords typed by members (a seizure's type and status, a
# currency, a tally's kind) and are shown as typed.
COUNTER_NAMES = {
    "phase": N_("phase"),
    "H-hour": N_("H-hour"),
    "tasks open": N_("tasks open"),
    "tasks done": N_("tasks done"),
    "tasks overdue": N_("tasks overdue"),
    "arrests": N_("arrests"),
    "seized items": N_("seized items"),
    "preservation/MLA open": N_("preservation/MLA open"),
}


def _hhour_line(op: Row, now_iso: str) -> str:
    if not op["hhour"]:
        return tr("H-hour not set")
    hhour, now = from_db_time(op["hhour"]), from_db_time(now_iso)
    assert hhour is not None and now is not None
    delta = hhour - now
    if delta > timedelta(0):
        return tr("H-hour {when} · T-{left}").format(
            when=dtg(op["hhour"]), left=timeparse.format_offset(delta)[1:])
    return tr("H-hour {when} · H+{since}").format(
        when=dtg(op["hhour"]), since=timeparse.format_offset(-delta)[1:])


# Babel's Arabic patterns hold RIGHT-TO-LEFT MARKs (`25‏/11‏/2026`): in a reply they would
# be shown as `<U+200F>` (commands.core.visible), and the bot places its own marks.


def local_line(op: Row, now_iso: str) -> str:
    """The sitrep's time, and H-hour's, as the reader's locale writes them on the
    operation's clock: the DTGs above stay the reference, this is for reading at a glance."""
    zone = ZoneInfo(op["tz"])
    now = from_db_time(now_iso)
    assert now is not None
    hhour = from_db_time(op["hhour"])
    if hhour is None:
        return tr("Local time ({zone}): {now}").format(zone=op["tz"],
                                                      now=i18n.local_time(now, zone))
    return tr("Local time ({zone}): {now} · H-hour {hhour}").format(
        zone=op["tz"], now=i18n.local_time(now, zone), hhour=i18n.local_time(hhour, zone))


def _counter_name(key: str) -> str:
    if key in COUNTER_NAMES:
        return tr(COUNTER_NAMES[key])
    if key.startswith("takedowns "):
        return tr("takedowns {status}").format(status=key.removeprefix("takedowns "))
    return key


def changes(previous: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    if previous is None:
        return []
    out = []
    for key in sorted(set(previous) | set(current)):
        before, after = previous.get(key, "0"), current.get(key, "0")
        if before != after:
            if key == "H-hour":  # "—" when not set (cleared, or never)
                before, after = (dtg(v) if v != "—" else "—" for v in (before, after))
            out.append(tr("{name}: {before} → {after}").format(
                name=_counter_name(key), before=before, after=after))
    return out


def render(data: dict[str, Any], number: int, *, late_slot: str | None = None,
           final: bool = False) -> Reply:
    op, now = data["op"], data["now"]
    report = ReplyBuilder()
    title = tr("FINAL REPORT") if final else tr("SITREP #{n}").format(n=number)
    report.heading(" · ".join([title, f"{op['name']} ({op['code']})", f"TLP:{op['tlp']}"]))
    report.line(tr("{when} · phase {phase} · {hhour}").format(
        when=dtg(now), phase=op["phase"], hhour=_hhour_line(op, now)))
    report.line(local_line(op, now))
    if late_slot:
        report.line(Bold(tr("LATE (slot {slot}): the bot was down at the scheduled time")
                         .format(slot=dtg(late_slot))))

    previous = data["previous"]
    prev_counters = json.loads(previous["snapshot"]) if previous else None
    diff = changes(prev_counters, data["counters"])
    if previous is None:
        report.line(*fill(tr("{label} first sitrep"), label=Bold(tr("Changes:"))))
    else:
        since = Bold(tr("Changes since #{n}:").format(n=previous["number"]))
        if diff:
            report.line(since, " ", "; ".join(diff))
        else:
            report.line(*fill(tr("{label} NO CHANGE"), label=since))
    if data["note"]:
        report.line(*_field(tr("Assessment / next steps:"), data["note"]))
    if data.get("held_left_out"):
        report.line(trn("{n} record under a legal hold is counted but not named here",
                        "{n} records under a legal hold are counted but not named here",
                        data["held_left_out"]).format(n=data["held_left_out"]))

    tasks = data["tasks_by_agency"]
    if tasks:
        report.line(*_field(tr("Tasks:"), " · ".join(
            _agency_tasks(t) for t in tasks)))
    else:
        report.line(*fill(tr("{label} none"), label=Bold(tr("Tasks:"))))

    countries = ", ".join(f"{c['country']} {i18n.number(c['n'])}"
                          for c in data["arrests_by_country"])
    arrests = tr("{n} ({since} since last)").format(
        n=i18n.number(data["arrests_total"]), since=f"{data['arrests_since']:+d}")
    report.line(*_field(tr("Arrests:"), arrests + (f" · {countries}" if countries else "")))

    by_type: dict[str, list[str]] = {}
    for s in data["seizures_by_type_status"]:
        by_type.setdefault(s["type"], []).append(f"{i18n.number(s['n'])} {s['status']}")
    seized = tr("{n} ({since} since last)").format(
        n=i18n.number(data["seizures_total"]), since=f"{data['seizures_since']:+d}")
    report.line(*_field(tr("Seized infrastructure:"), seized + "".join(f" · {t}: {', '.join(v)}"
                                              for t, v in by_type.items())))

    takedowns = data["takedowns_by_status"]
    planned = takedowns.get("planned", 0) + takedowns.get("go", 0)
    report.line(*fill(tr("{label} {planned} planned · {done} executed · {failed} failed · "
                         "{aborted} aborted"), label=Bold(tr("Takedowns:")),
                      planned=i18n.number(planned),
                      done=i18n.number(takedowns.get("done", 0)),
                      failed=i18n.number(takedowns.get("failed", 0)),
                      aborted=i18n.number(takedowns.get("aborted", 0))))
    for executed in data["executed"][:10]:
        offset = (" " + tr("({offset} vs plan)").format(
            offset=timeparse.format_offset(timedelta(seconds=executed["offset_s"])))
                  if executed["offset_s"] is not None else "")
        report.line(f"   K-{executed['seq']} {executed['agency']} "
                    f"{dtg(executed['executed_at'])}{offset}")
    if len(data["executed"]) > 10:
        more = len(data["executed"]) - 10
        report.line("   " + trn("… {n} more executed", "… {n} more executed", more).format(
            n=i18n.number(more)))
    if data["spread"]:
        first, last = data["spread"]
        first_at, last_at = from_db_time(first), from_db_time(last)
        assert first_at is not None and last_at is not None
        span = last_at - first_at
        report.line("   " + tr("Spread: {first} → {last} ({span})").format(
            first=dtg(first), last=dtg(last), span=timeparse.format_offset(span)[1:]))

    if data["assets"]:
        report.line(*_field(tr("Assets:"), " · ".join(
            f"{total} {cur} {action}" for (action, cur), total in data["assets"])))
    if data["tallies"]:
        report.line(*_field(tr("Tallies:"), " · ".join(
            f"{t['kind']} {i18n.number(t['total'])}" for t in data["tallies"])))

    expiring = data["preservations_expiring"]
    preservations = tr("{n} open").format(n=i18n.number(data["preservations_open"]))
    if expiring:
        preservations += " · " + tr("expiring ≤7d: {requests}").format(requests=", ".join(
            f"P-{p['seq']} {p['provider']} {dtg(p['expires_at'])}" for p in expiring))
    report.line(*_field(tr("Preservation/MLA:"), preservations))

    rollcall = data["rollcall"]
    if rollcall["seq"] is None:
        report.line(*fill(tr("{label} no roll call yet"), label=Bold(tr("Go/no-go:"))))
    else:
        answered: dict[bool | None, list[str]] = {True: [], False: [], None: []}
        for agency in rollcall["agencies"]:
            # A NO-GO is only actionable with its reason, so the lead sees it here.
            reason = (f" ({agency['reason']})" if agency["ready"] is False and agency["reason"]
                      else "")
            answered[agency["ready"]].append(agency["code"] + reason)
        report.line(*_field(tr("Go/no-go:"),
                            rollcall_state(rollcall["seq"], rollcall["open"], answered)))
    head = data.get("audit_head")
    witness.head_line(report, head)
    witness.consult_line(report, data.get("consult_head"))
    reply = report.build()
    reply.extra_content = witness.head_content(head, data.get("consult_head"))
    return reply


def _field(label: str, value: str) -> tuple[Part, ...]:
    """A section's line: its label in bold, then what it holds."""
    return Bold(label), " ", value


def _agency_tasks(t: Row) -> str:
    if t["overdue"]:
        return tr("{agency} {open} open/{done} done/{overdue} OVERDUE").format(
            agency=t["agency"], open=t["open"] or 0, done=t["done"] or 0, overdue=t["overdue"])
    return tr("{agency} {open} open/{done} done").format(
        agency=t["agency"], open=t["open"] or 0, done=t["done"] or 0)


def rollcall_state(seq: int, is_open: bool, answered: dict[bool | None, list[str]]) -> str:
    """`R-n (open) ALL GO`, or the count of GO and who said NO-GO or has not answered; the
    board's picture words it the same way (exports/board.py). `open`/`closed`, GO and
    NO-GO are keywords, as typed."""
    state = "open" if is_open else "closed"
    if not answered[False] and not answered[None]:
        return f"R-{seq} ({state}) ALL GO"
    return tr("R-{seq} ({state}) GO {go} · NO-GO {nogo} · waiting {waiting}").format(
        seq=seq, state=state, go=len(answered[True]), nogo=", ".join(answered[False]) or 0,
        waiting=", ".join(answered[None]) or 0)
