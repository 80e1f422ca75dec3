"""/arrest: who was arrested where, by whom — as a suspect reference, never a name.

Data minimisation: the room is shared across agencies and countries, so the record holds
a case reference (e.g. FR-2026-0142) and the agency that holds the identity.
"""

from __future__ import annotations

import re
from typing import Any

from commands import args as A
from commands import deconflict, records
from commands.context import Context, Reply
from commands.records import dtg, label
from commands.reply import B, ReplyBuilder, ok
from commands.spec import Fn, command, key, pos
from storage.codec import to_db_time

_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./#-]{0,39}$")


def suspect_ref(raw: str) -> str:
    value = raw.strip()
    if " " in value:
        raise ValueError("use a suspect reference such as FR-2026-0142, not a name "
                         "(data minimisation: names stay with the arresting agency)")
    if not _REF_RE.match(value):
        raise ValueError(f"{value[:40]!r} is not a reference: up to 40 letters, digits, - _ . / #")
    return value


@command(
    "arrest", "add",
    params=[
        pos("ref", Fn(suspect_ref, "REF")),
        key("country", A.COUNTRY, required=True),
        key("agency", A.AGENCY, required=True),
        key("at", A.TIME, help="when; default now"),
        key("charge", A.text("charge", max_len=200)),
        key("role", A.text("role", max_len=100), help="e.g. administrator, money mule"),
        key("tlp", A.TLP),
    ],
    summary="record an arrest (REF is a suspect reference, not a name)",
    examples=['!arrest add FR-2026-0142 country=FR agency=FR-OFAC charge="fraud" role=admin'],
)
async def arrest_add(ctx: Context, a: dict[str, Any]) -> Reply:
    await records.require_agency(ctx, a["agency"])
    row = await records.create(ctx, "arrests", {
        "ref": a["ref"], "country": a["country"], "agency": a["agency"],
        "at": to_db_time(a["at"].at) if a["at"] else ctx.stamp,
        "charge": a["charge"], "role": a["role"], "tlp": a["tlp"],
    })
    total = await ctx.tx.scalar("SELECT COUNT(*) FROM arrests WHERE op_id=?", (row["op_id"],))
    return await deconflict.checked(ctx, "arrests", row, ok(
        B(label("arrests", row["seq"])), f" {row['ref']} arrested in {row['country']} by "
        f"{row['agency']} at {dtg(row['at'])} · arrests in total: {total}"))


@command(
    "arrest", "list",
    params=[key("country", A.COUNTRY), key("agency", A.AGENCY), key("page", A.PAGE)],
    summary="list arrests",
)
async def arrest_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    where, params = ["op_id=?"], [op["id"]]
    for col in ("country", "agency"):
        if a[col]:
            where.append(f"{col}=?")
            params.append(a[col])
    rows = await ctx.tx.all(f"SELECT * FROM arrests WHERE {' AND '.join(where)} ORDER BY seq",
                            params)
    r = ReplyBuilder().heading(f"Arrests: {len(rows)}")
    r.bullets([[B(label("arrests", x["seq"])), f" {x['ref']} · {x['country']} · {x['agency']}"
                f" · {dtg(x['at'])}", f" · {x['charge']}" if x["charge"] else ""]
               for x in rows], page=a["page"] or 1, more_hint="/arrest list")
    return r.build()
