"""The human summary in Markdown: operation, agencies, totals, one table per record kind,
and the takedown timeline. User text is escaped so a record cannot break the tables.
Headings and sentences are in the language in force (exports.build sets it around the
build); record values, keywords and TLP labels are as recorded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from commands import tr
from exports import text
from exports.snapshot import RECORD_KINDS, Snapshot


def _esc(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def build(snap: Snapshot, out: BinaryIO) -> None:
    def write(lines: Iterable[str]) -> None:
        for line in lines:
            out.write(line.encode("utf-8") + b"\n")

    def header(cols: list[str]) -> list[str]:
        return ["| " + " | ".join(_esc(c) for c in cols) + " |", "|" + "---|" * len(cols)]

    none = tr("None.")
    write([f"**{text.banner(snap)}**", "", f"# {_esc(text.title(snap))}", "",
           tr("Generated {when}").format(when=snap.generated_at), ""])
    write(f"- {_esc(line)}" for line in text.totals(snap))
    write(["", f"## {tr('Agencies')}", "", *header([tr(c) for c in text.AGENCY_COLUMNS])])
    write(f"| {a['code']} | {a['country']} | {a['tz']} | {_esc(a['name'] or '')} |"
          for a in snap.agencies)
    for kind in RECORD_KINDS:
        write(["", f"## {_esc(text.heading(kind, snap))}", ""])
        if not snap.counts[kind]:
            write([none])
            continue
        write(header(text.columns(kind)))
        write("| " + " | ".join(_esc(c) for c in text.cells(kind, r)) + " |"
              for r in snap.rows(kind))
    write(["", f"## {tr('Takedown timeline')}", ""])
    write(f"- {_esc(line)}" for line in text.timeline(snap))
    if not snap.counts["takedowns"]:
        write([none])
    write(["", f"**{text.banner(snap)}**"])
