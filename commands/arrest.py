"""/arrest: who was arrested where, by whom — as a suspect reference, never a name.

Data minimisation: the room is shared across agencies and countries, so the record holds
a case reference (e.g. FR-2026-0142) and the agency that holds the identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from commands import deconflict
from commands.core import argtypes, records
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import dtg, label
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import Fn, command, key, pos
from commands.core.timeparse import ParsedTime
from commands.core.types import Reply
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import arrests
from storage.codec import to_db_time
from storage.consultations import CONSULT

_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./#-]{0,39}$")


def suspect_ref(raw: str) -> str:
    value = raw.strip()
    if " " in value:
        raise ValueError(tr("use a suspect reference such as FR-2026-0142, not a name "
                            "(data minimisation: names stay with the arresting agency)"))
    if not _REF_RE.match(value):
        raise ValueError(tr("{value} is not a reference: up to 40 letters, digits, - _ . / #")
                         .format(value=repr(value[:40])))
    return value


@dataclass(frozen=True)
class ArrestAddArgs:
    ref: str
    country: str
    agency: str
    at: ParsedTime | None
    charge: str | None
    role: str | None
    assessment: str | None
    tlp: str | None


@command(
    "arrest", "add",
    params=[
        pos("ref", Fn(suspect_ref, "REF")),
        key("country", argtypes.COUNTRY, required=True),
        key("agency", argtypes.AGENCY, required=True),
        key("at", argtypes.TIME, help=N_("when; default now")),
        key("charge", argtypes.text(N_("charge"), max_len=200)),
        key("role", argtypes.text(N_("role"), max_len=100),
            help=N_("e.g. administrator, money mule")),
        key("assessment", argtypes.text(N_("assessment"), max_len=500),
            help=N_("an officer's assessment, kept apart from the facts (LED art. 7)")),
        key("tlp", argtypes.TLP),
    ],
    summary=N_("record an arrest (REF is a suspect reference, not a name)"),
    examples=['!arrest add FR-2026-0142 country=FR agency=FR-OFAC charge="fraud" role=admin'],
)
async def arrest_add(ctx: Context, args: ArrestAddArgs) -> Reply:
    await records.require_agency(ctx, args.agency)
    row = await records.create(ctx, "arrests", {
        "ref": args.ref, "country": args.country, "agency": args.agency,
        "at": to_db_time(args.at.at) if args.at else ctx.stamp,
        "charge": args.charge, "role": args.role, "assessment": args.assessment,
        "tlp": args.tlp,
    })
    total = await arrests.total(ctx.tx, row["op_id"])
    return await deconflict.checked(ctx, "arrests", row, ok(*fill(
        tr("{ref} {suspect} arrested in {country} by {agency} at {when} · arrests in total: "
           "{total}"),
        ref=Bold(label("arrests", row["seq"])), suspect=row["ref"], country=row["country"],
        agency=row["agency"], when=dtg(row["at"]), total=str(total))))


@dataclass(frozen=True)
class ArrestListArgs:
    country: str | None
    agency: str | None
    page: int | None
    held: str | None


@command(
    "arrest", "list",
    shows=CONSULT, params=[key("country", argtypes.COUNTRY), key("agency", argtypes.AGENCY),
            key("page", argtypes.PAGE), key("held", SHOW_HELD, help=HELD_HELP)],
    summary=N_("list arrests"),
)
async def arrest_list(ctx: Context, args: ArrestListArgs) -> Reply:
    op = ctx.require_op()
    rows, held = await unheld(ctx, "arrests", await arrests.listing(
        ctx.tx, op["id"], country=args.country, agency=args.agency), args.held)
    reply = ReplyBuilder().heading(tr("Arrests: {n}").format(n=len(rows)))
    reply.bullets([[Bold(label("arrests", arrest["seq"])),
                    f" {arrest['ref']} · {arrest['country']} · {arrest['agency']}"
                    f" · {dtg(arrest['at'])}", f" · {arrest['charge']}" if arrest["charge"] else ""]
                   for arrest in rows], page=args.page or 1, more_hint="/arrest list")
    return left_out(reply, held).build()
