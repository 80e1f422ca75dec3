"""The human summary in Markdown: operation, agencies, totals, one table per record kind,
and the takedown timeline. User text is escaped so a record cannot break the tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from exports import text
from exports.snapshot import RECORD_KINDS, Snapshot


def _esc(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def build(snap: Snapshot, out: BinaryIO) -> None:
    def write(lines: Iterable[str]) -> None:
        for line in lines:
            out.write(line.encode("utf-8") + b"\n")

    write([f"**{text.banner(snap)}**", "", f"# {_esc(text.title(snap))}", "",
           f"Generated {snap.generated_at}", ""])
    write(f"- {_esc(line)}" for line in text.totals(snap))
    write(["", "## Agencies", "", "| code | country | zone | name |", "|---|---|---|---|"])
    write(f"| {a['code']} | {a['country']} | {a['tz']} | {_esc(a['name'] or '')} |"
          for a in snap.agencies)
    for kind in RECORD_KINDS:
        write(["", f"## {text.TITLES[kind]} ({snap.counts[kind]})", ""])
        if not snap.counts[kind]:
            write(["None."])
            continue
        cols = text.COLUMNS[kind]
        write(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)])
        write("| " + " | ".join(_esc(c) for c in text.cells(kind, r)) + " |"
              for r in snap.rows(kind))
    write(["", "## Takedown timeline", ""])
    write(f"- {_esc(line)}" for line in text.timeline(snap))
    if not snap.counts["takedowns"]:
        write(["None."])
    write(["", f"**{text.banner(snap)}**"])
