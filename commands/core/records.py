"""Looking up and labelling records the way users refer to them (T-12, A-3, S-41 …)."""

from __future__ import annotations

from typing import Any

from commands.core import timeparse, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.types import CommandError
from storage import agencies
from storage.codec import from_db_time
from storage.records import by_seq
from storage.tx import Row

PREFIX = {
    "tasks": "T",
    "arrests": "A",
    "seizures": "S",
    "takedowns": "K",
    "preservations": "P",
    "assets": "M",
    "forms": "F",
    "tallies": "Y",
    "rollcalls": "R",
}
# What a record of each table is, marked for the catalogue: show it with `tr(NOUN[table])`,
# and only on its own (in parentheses, a heading): a sentence naming a record is written
# whole per table (the article and the gender differ in each language), as `MISSING` is.
NOUN = {
    "tasks": N_("task"),
    "arrests": N_("arrest"),
    "seizures": N_("seized item"),
    "takedowns": N_("takedown"),
    "preservations": N_("preservation/MLA request"),
    "assets": N_("asset record"),
    "forms": N_("request form draft"),
    "tallies": N_("tally entry"),
    "rollcalls": N_("roll call"),
}
# What one row of a table without record numbers is called ("agency DE-BKA").
ROW_NOUN = {
    "agencies": N_("agency"),
    "identities": N_("identity"),
    "members": N_("member"),
    "member_languages": N_("language choice"),
    "preservation_items": N_("identifier named on a request"),
    "request_deadlines": N_("request deadline"),
    "partner_links": N_("partner link"),
    "partner_assignments": N_("assignment to a partner"),
    "partner_reports": N_("partner report"),
    "operations": N_("operation"),
    "rollcall_answers": N_("roll call answer"),
    "sitrep_schedules": N_("sitrep schedule"),
    "sitrep_notes": N_("sitrep note"),
    "deconfliction_sides": N_("deconfliction hit"),
    "audit_acks": N_("audit acknowledgement"),
}
MISSING = {
    "tasks": N_("there is no task {ref} in this operation"),
    "arrests": N_("there is no arrest {ref} in this operation"),
    "seizures": N_("there is no seized item {ref} in this operation"),
    "takedowns": N_("there is no takedown {ref} in this operation"),
    "preservations": N_("there is no preservation/MLA request {ref} in this operation"),
    "assets": N_("there is no asset record {ref} in this operation"),
    "forms": N_("there is no request form draft {ref} in this operation"),
    "tallies": N_("there is no tally entry {ref} in this operation"),
    "rollcalls": N_("there is no roll call {ref} in this operation"),
}


def label(table: str, seq: int) -> str:
    return f"{PREFIX[table]}-{seq}"


async def get(ctx: Context, table: str, seq: int) -> Row:
    op = ctx.require_op()
    row = await by_seq(ctx.tx, table, op["id"], seq)
    if row is None:
        raise CommandError(tr(MISSING[table]).format(ref=label(table, seq)), show_usage=False)
    return row


async def create(ctx: Context, table: str, values: dict[str, Any]) -> Row:
    """Insert a numbered record with the bookkeeping columns every record table has."""
    op = ctx.require_op()
    seq = await ctx.tx.next_seq(op["id"], PREFIX[table])
    row = {
        "op_id": op["id"],
        "seq": seq,
        **values,
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
        "updated_at": ctx.stamp,
    }
    if "tlp" not in row or row["tlp"] is None:
        row["tlp"] = op["tlp"]
    return await ctx.tx.insert(table, row)


async def change(ctx: Context, table: str, row: Row, changes: dict[str, Any]) -> Row:
    """Every command that updates a record comes here, so lowering a TLP is lead-only
    whichever command does it (raising it is anyone's right: it only protects more)."""
    new_tlp = changes.get("tlp")
    if new_tlp is not None and validate.tlp_rank(new_tlp) < validate.tlp_rank(row["tlp"]):
        ctx.require_lead(
            tr("lower the TLP of {ref} from {old} to {new}").format(
                ref=label(table, row["seq"]), old=row["tlp"], new=new_tlp),
            note=" " + tr("(anyone may raise it); nothing was changed"))
    _, after = await ctx.tx.update(table, row["id"], {**changes, "updated_at": ctx.stamp})
    return after


def dtg(iso: str | None) -> str:
    """UTC date-time group for a stored time, '—' when unset."""
    dt = from_db_time(iso)
    return timeparse.format_dtg(dt) if dt else "—"


async def agency_codes(ctx: Context) -> list[str]:
    op = ctx.require_op()
    return await agencies.codes(ctx.tx, op["id"])


async def require_agency(ctx: Context, code: str) -> Row:
    op = ctx.require_op()
    row = await agencies.get(ctx.tx, op["id"], code)
    if row is None:
        known = ", ".join(await agency_codes(ctx)) or tr("none yet")
        raise CommandError(tr(
            "agency {code} is not registered in this operation (known: {known}); "
            "a lead adds it with /agency add CODE country=CC tz=Zone"
        ).format(code=code, known=known))
    return row
