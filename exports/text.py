"""Shared wording of the human-readable formats (md, pdf): titles, totals, record lines."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from commands import PREFIX, dtg, validate
from exports.snapshot import Snapshot

TITLES = {
    "tasks": "Tasks", "arrests": "Arrests", "seizures": "Seized infrastructure",
    "takedowns": "Takedowns", "assets": "Assets", "tallies": "Tallies",
    "preservations": "Preservation / MLA requests",
}
COLUMNS = {
    "tasks": ("id", "status", "text", "assignee", "agency", "due", "priority"),
    "arrests": ("id", "ref", "country", "agency", "at", "charge", "role"),
    "seizures": ("id", "type", "value", "status", "country", "provider"),
    "takedowns": ("id", "target", "agency", "status", "planned", "executed", "note"),
    "assets": ("id", "action", "amount", "currency", "country", "agency", "note"),
    "tallies": ("id", "kind", "delta", "country", "note"),
    "preservations": ("id", "kind", "provider", "country", "ref", "sent", "expires", "status"),
}


def title(snap: Snapshot) -> str:
    return f"{snap.op['name']} ({snap.op['code']})"


def banner(snap: Snapshot) -> str:
    return f"TLP:{snap.tlp} — records at or below TLP:{snap.tlp} only"


def cells(kind: str, row: dict) -> list[str]:
    """One record as the human formats show it: indicators defanged, times as DTG."""
    ident = f"{PREFIX[kind]}-{row['seq']}"
    value = {
        "tasks": lambda: [row["status"], row["text"], row["assignee"], row["agency"],
                          dtg(row["due"]), row["priority"]],
        "arrests": lambda: [row["ref"], row["country"], row["agency"], dtg(row["at"]),
                            row["charge"], row["role"]],
        "seizures": lambda: [row["type"], validate.shown(row["type"], row["value"]),
                             row["status"], row["country"], row["provider"]],
        "takedowns": lambda: [row["target"], row["agency"], row["status"],
                              dtg(row["planned_at"]), dtg(row["executed_at"]), row["note"]],
        "assets": lambda: [row["action"], row["amount"], row["currency"], row["country"],
                           row["agency"], row["note"]],
        "tallies": lambda: [row["kind"], f"{row['delta']:+d}", row["country"], row["note"]],
        "preservations": lambda: [row["kind"], row["provider"], row["country"], row["ref"],
                                  dtg(row["sent_at"]), dtg(row["expires_at"]), row["status"]],
    }[kind]()
    return [ident, *("" if v is None else str(v) for v in value)]


def totals(snap: Snapshot) -> list[str]:
    n = snap.counts
    done = snap.count("takedowns", status="done")
    assets: dict[tuple[str, str], Decimal] = {}
    for a in snap.rows("assets"):
        assets[(a["action"], a["currency"])] = (
            assets.get((a["action"], a["currency"]), Decimal(0)) + Decimal(a["amount"]))
    tallies: dict[str, int] = {}
    for t in snap.rows("tallies"):
        tallies[t["kind"]] = tallies.get(t["kind"], 0) + t["delta"]
    lines = [
        f"Phase: {snap.op['phase']} · H-hour: {dtg(snap.op['hhour'])}",
        f"Agencies: {len(snap.agencies)} · Tasks: {n['tasks']} · "
        f"Arrests: {n['arrests']} · Seized items: {n['seizures']} · "
        f"Takedowns: {n['takedowns']} ({done} executed) · "
        f"Preservation/MLA: {n['preservations']}",
    ]
    if assets:
        lines.append("Assets: " + ", ".join(f"{v} {c} {a}" for (a, c), v in sorted(assets.items())))
    if tallies:
        lines.append("Tallies: " + ", ".join(f"{k} {v}" for k, v in sorted(tallies.items())))
    return lines


def timeline(snap: Snapshot, limit: int | None = None) -> Iterator[str]:
    """Takedowns in order of execution (then plan): the action day at a glance."""
    for t in snap.rows("takedowns", order="execution", limit=limit):
        yield (f"{dtg(t['executed_at'] or t['planned_at'])} K-{t['seq']} {t['agency']} "
               f"{t['status']}: {t['target']}")
