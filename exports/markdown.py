"""The human summary in Markdown: operation, agencies, totals, one table per record kind,
and the takedown timeline. User text is escaped so a record cannot break the tables."""

from __future__ import annotations

from exports import text
from exports.snapshot import RECORD_KINDS, Snapshot


def _esc(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def build(snap: Snapshot) -> bytes:
    out = [f"**{text.banner(snap)}**", "", f"# {_esc(text.title(snap))}", "",
           f"Generated {snap.generated_at}", ""]
    out += [f"- {_esc(line)}" for line in text.totals(snap)]
    out += ["", "## Agencies", "", "| code | country | zone | name |", "|---|---|---|---|"]
    out += [f"| {a['code']} | {a['country']} | {a['tz']} | {_esc(a['name'] or '')} |"
            for a in snap.agencies]
    for kind in RECORD_KINDS:
        rows = snap.records[kind]
        out += ["", f"## {text.TITLES[kind]} ({len(rows)})", ""]
        if not rows:
            out.append("None.")
            continue
        cols = text.COLUMNS[kind]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(_esc(c) for c in text.cells(kind, r)) + " |" for r in rows]
    out += ["", "## Takedown timeline", ""]
    out += [f"- {_esc(line)}" for line in text.timeline(snap)] or ["None."]
    out += ["", f"**{text.banner(snap)}**", ""]
    return "\n".join(out).encode("utf-8")
