"""Shared wording of the human-readable formats (md, pdf): titles, totals, record lines,
in the language in force (set around the build by exports.build)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from commands import N_, PREFIX, dtg, tr, validate
from exports.snapshot import WITHHELD_TARGET, Snapshot

# In the language of the member who asked for the export (the one in force when it is
# built): `tr()` where shown, as are the columns' headings.
TITLES = {
    "tasks": N_("Tasks"), "arrests": N_("Arrests"), "seizures": N_("Seized infrastructure"),
    "takedowns": N_("Takedowns"), "assets": N_("Assets"), "tallies": N_("Tallies"),
    "preservations": N_("Preservation / MLA requests"),
}
COLUMNS = {
    "tasks": (N_("id"), N_("status"), N_("text"), N_("assignee"), N_("agency"), N_("due"),
              N_("priority")),
    "arrests": (N_("id"), N_("ref"), N_("country"), N_("agency"), N_("at"), N_("charge"),
                N_("role")),
    "seizures": (N_("id"), N_("type"), N_("value"), N_("status"), N_("country"),
                 N_("provider")),
    "takedowns": (N_("id"), N_("target"), N_("agency"), N_("status"), N_("planned"),
                  N_("executed"), N_("note")),
    "assets": (N_("id"), N_("action"), N_("amount"), N_("currency"), N_("country"),
               N_("agency"), N_("note")),
    "tallies": (N_("id"), N_("kind"), N_("delta"), N_("country"), N_("note")),
    "preservations": (N_("id"), N_("kind"), N_("provider"), N_("country"), N_("ref"),
                      N_("sent"), N_("expires"), N_("status")),
}
AGENCY_COLUMNS = (N_("code"), N_("country"), N_("zone"), N_("name"))


def heading(kind: str, snap: Snapshot) -> str:
    """A record kind's heading with its count: "Tasks (12)"."""
    return f"{tr(TITLES[kind])} ({snap.counts[kind]})"


def columns(kind: str) -> list[str]:
    return [tr(c) for c in COLUMNS[kind]]


def title(snap: Snapshot) -> str:
    return f"{snap.op['name']} ({snap.op['code']})"


def banner(snap: Snapshot) -> str:
    return tr("TLP:{tlp} — records at or below TLP:{tlp} only").format(tlp=snap.tlp)


def target(value: str) -> str:
    """A takedown's target as shown: "S-n (withheld)" when its seized item is above the
    export's level (the snapshot writes the English, which the machine formats keep)."""
    if value.endswith(WITHHELD_TARGET):
        return tr("{ref} (withheld)").format(ref=value.removesuffix(WITHHELD_TARGET))
    return value


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
        "takedowns": lambda: [target(row["target"]), row["agency"], row["status"],
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
        tr("Phase: {phase} · H-hour: {hhour}").format(phase=snap.op["phase"],
                                                      hhour=dtg(snap.op["hhour"])),
        tr("Agencies: {agencies} · Tasks: {tasks} · Arrests: {arrests} · Seized items: "
           "{seizures} · Takedowns: {takedowns} ({done} executed) · Preservation/MLA: "
           "{preservations}").format(agencies=len(snap.agencies), tasks=n["tasks"],
                                     arrests=n["arrests"], seizures=n["seizures"],
                                     takedowns=n["takedowns"], done=done,
                                     preservations=n["preservations"]),
    ]
    if assets:
        lines.append(tr("Assets: {amounts}").format(
            amounts=", ".join(f"{v} {c} {a}" for (a, c), v in sorted(assets.items()))))
    if tallies:
        lines.append(tr("Tallies: {counts}").format(
            counts=", ".join(f"{k} {v}" for k, v in sorted(tallies.items()))))
    return lines


def timeline(snap: Snapshot, limit: int | None = None) -> Iterator[str]:
    """Takedowns in order of execution (then plan): the action day at a glance."""
    for t in snap.rows("takedowns", order="execution", limit=limit):
        yield (f"{dtg(t['executed_at'] or t['planned_at'])} K-{t['seq']} {t['agency']} "
               f"{t['status']}: {target(t['target'])}")
