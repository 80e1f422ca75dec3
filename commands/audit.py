"""/audit verify: check this room's hash-chained audit log, and hold it against the heads
the bot posted in the room (commands/witness.py), from inside the room; and the records
against the log (storage/witness.py), which `/audit accept` lets a lead acknowledge.

Reading the room's history is slow (pages of /messages), so, like /export, the check runs
after the command's transaction: the witnessed heads are fetched first, with no
transaction open, then the chain is read from a read-only snapshot. A head in the room
was posted after its entry committed, so the snapshot taken afterwards always holds it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from commands import witness
from commands.core import validate
from commands.core.context import Context
from commands.core.i18n import N_, speaking, tr, trn
from commands.core.records import NOUN, PREFIX, ROW_NOUN, label
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import ReplyBuilder
from commands.core.spec import NoArgs, Role, command
from commands.core.types import CommandError, Reply, RoomHeads, WitnessSource, WitnessUnavailable
from storage import audit, consultations
from storage import witness as records_witness
from storage.consultations import LOG_REVIEW
from storage.database import Database
from storage.witness import Mismatch, Witnessed

ACCEPT_HINT = N_("a lead can acknowledge them with /audit accept in the operation's room; "
                 "exports then leave these records out")
ACCEPT_SENTENCE = N_("A lead can acknowledge them with /audit accept in the operation's room; "
                     "exports then leave these records out.")


@command("audit", "verify", summary=N_("check the operation's tamper-evident log"), needs_op=False,
         shows=LOG_REVIEW)
async def audit_verify(ctx: Context, args: NoArgs) -> Reply:
    assert ctx.db is not None
    placeholder = ReplyBuilder().line(tr("Checking the audit log against the room")).build()
    placeholder.redo = {"audit": "verify"}
    placeholder.after_commit = verifier(ctx.db, ctx.msg.room_id, ctx.witness)
    return placeholder


def verifier(db: Database, room_id: str, source: WitnessSource | None
             ) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /audit verify, run after the command committed — or again, from
    the stored `redo`, when the bot restarted before the reply was sent."""

    async def check() -> Reply:
        heads, unavailable = await read_witnesses(source, room_id)
        async with db.snapshot() as tx:
            result = await audit.verify_room(tx, room_id)
            head = await audit.head(tx, room_id)
            data = await records_witness.check(tx, room_id)
            consult = (await consultations.verify_room(tx, room_id),
                       await consultations.head(tx, room_id))
        checked = render(result, head, heads, unavailable, data, consult)
        checked.shown = result.entries + consult[0].entries  # the entries reviewed
        return checked

    return check


@remakes("audit")
def _verify_again(services: Services, stored: dict[str, str]) -> SlowPart:
    return verifier(services.db, services.room_id, services.witness)


async def read_witnesses(source: WitnessSource | None, room_id: str
                         ) -> tuple[RoomHeads | None, str | None]:
    """The room's witnessed heads, or why they could not be read."""
    if source is None:
        return None, tr("no access to the room's history")
    try:
        return await source.heads(room_id), None
    except WitnessUnavailable as exc:
        return None, str(exc)


def findings(result: audit.VerifyResult, heads: RoomHeads | None
             ) -> tuple[witness.WitnessCheck | None, list[str]]:
    """The chain's own breaks, then what the room's heads contradict (None: not read)."""
    if heads is None:
        return None, list(result.problems)
    check = witness.compare(result.hashes, heads.heads, complete=heads.complete)
    return check, result.problems + [witness.describe(p) for p in check.problems]


def render(result: audit.VerifyResult, head: audit.Head | None,
           heads: RoomHeads | None, unavailable: str | None, data: Witnessed,
           consult: tuple[audit.VerifyResult, audit.Head | None] | None = None) -> Reply:
    """`consult`: the consultation log's own check and head, reported and witnessed with
    the audit log's."""
    check, problems = findings(result, heads)
    problems += [describe(m) for m in data.open]
    consult_result, consult_head = consult if consult is not None else (None, None)
    if consult_result is not None:
        problems += consult_result.problems
        if heads is not None:  # its heads posted in the room, held against it the same way
            held = witness.compare(consult_result.hashes, heads.consults,
                                   complete=heads.complete)
            problems += [tr("consultation log: {problem}").format(
                problem=witness.describe(p)) for p in held.problems]
    report = ReplyBuilder()
    if problems:
        report.heading(trn("❌ audit log FAILED verification ({n} entry)",
                           "❌ audit log FAILED verification ({n} entries)",
                           result.entries).format(n=result.entries))
        report.bullets([[p] for p in problems])
        report.line(tr("Tell the operation lead and the bot administrator; keep the database "
                       "file as is."))
        if data.open:
            report.line(tr("Exports are refused until then: {hint}.").format(
                hint=tr(ACCEPT_HINT)))
        # A head that failed is stated, not posted as a witness: once the database is
        # restored it would stand in the room as a false witness.
        witness.head_line(report, head, label=tr("Database head"),
                          note=tr(" (not posted as a witness: verification failed)"))
        return report.build(ok=False)
    report.line(trn("✅ audit log intact: {n} entry", "✅ audit log intact: {n} entries",
                    result.entries).format(n=result.entries))
    if result.sealed_unreadable:
        report.line(trn("{n} entry holds erased personal data: it verifies, its values no "
                        "longer open", "{n} entries hold erased personal data: they verify, "
                        "their values no longer open", result.sealed_unreadable).format(
                            n=result.sealed_unreadable))
    if data.acknowledged:
        report.line(acknowledged_line(data))
    if check is not None:
        report.line(witness.summary(check))
    else:
        report.line(tr("⚠️ Not compared with the room's history ({why}): local chain only"
                       ).format(why=unavailable))
    if consult_result is not None:
        report.line(trn("✅ consultation log intact: {n} row", "✅ consultation log intact: "
                        "{n} rows", consult_result.entries).format(n=consult_result.entries))
    witness.head_line(report, head)
    witness.consult_line(report, consult_head)
    reply = report.build()
    reply.extra_content = witness.head_content(head, consult_head)
    return reply


# -- records changed behind the log (storage.witness) -------------------------------------

# The rows that are one of a kind in an operation, named on their own.
THE = {"operations": N_("the operation"), "sitrep_schedules": N_("the sitrep schedule"),
       "sitrep_notes": N_("the sitrep note")}


def name(m: Mismatch) -> str:
    """The record as users know it: its label where it has one (S-1, seized item)."""
    image = m.image
    if m.tbl in PREFIX and isinstance(image.get("seq"), int):
        return f"{label(m.tbl, image['seq'])} ({tr(NOUN[m.tbl])})"
    which = {"agencies": image.get("code"), "members": image.get("user_id"),
             "rollcall_answers": image.get("agency"),
             "member_languages": image.get("user_id"),
             "deconfliction_sides": f"D-{image['hit']}" if "hit" in image else None,
             }.get(m.tbl)
    if which:
        return f"{tr(ROW_NOUN[m.tbl])} {which}"
    if m.tbl in THE:
        return tr(THE[m.tbl])
    noun = NOUN.get(m.tbl) or ROW_NOUN.get(m.tbl)
    return tr("{noun} (row {row} of {table})").format(
        noun=tr(noun) if noun else m.tbl, row=m.row_id, table=m.tbl)


def describe(m: Mismatch) -> str:
    fields = ", ".join(m.fields)  # column names, as they are
    if m.kind == records_witness.CHANGED:
        said = tr("{record}: {fields} changed behind the audit log (its last entry is "
                  "#{entry})")
    elif m.kind == records_witness.INSERTED:
        said = tr("{record}: added behind the audit log (no entry records it)")
    elif m.kind == records_witness.DELETED:
        said = tr("{record}: deleted behind the audit log (entry #{entry} is its last; "
                  "no delete is recorded)")
    elif fields:
        said = tr("{record}: {fields} changed behind the audit log before entry #{entry} "
                  "changed it again")
    else:
        said = tr("{record}: added or deleted behind the audit log before entry #{entry} "
                  "recorded a change to it")
    return said.format(record=name(m), fields=fields, entry=m.entry)


def acknowledged_line(data: Witnessed) -> str:
    names = ", ".join(sorted({name(m) for m in data.acknowledged}))
    return tr("⚠️ Changed behind the audit log and acknowledged by a lead (left out of "
              "exports): {records}").format(records=names)


LISTED = 20  # mismatches an export's refusal names; a mass edit is not a wall of text


def refusal(data: Witnessed) -> str:
    """Why an export does not run (the room's reply and `opsroom export`)."""
    listed = [f"• {describe(m)}" for m in data.open[:LISTED]]
    if len(data.open) > LISTED:
        more = len(data.open) - LISTED
        listed.append(trn("… and {n} more (/audit verify lists them)",
                          "… and {n} more (/audit verify lists them)", more).format(n=more))
    return tr("export refused, nothing was exported: records were changed behind the audit "
              "log, so the export would carry what the log never recorded:\n{records}\n"
              "{hint}").format(records="\n".join(listed), hint=tr(ACCEPT_SENTENCE))


@command("audit", "accept", role=Role.LEAD,
         summary=N_("acknowledge records changed behind the audit log, so exports run again "
                 "(leaving those records out)"))
async def audit_accept(ctx: Context, args: NoArgs) -> Reply:
    """The acknowledgement is a record, so the log itself holds which mismatches a lead
    saw (by the rows' content now: a later change to them is found again). It is labelled
    with the highest TLP the mismatched rows held or hold, so no lower export carries it."""
    op = ctx.require_op()
    data = await records_witness.check(ctx.tx, ctx.msg.room_id)
    if not data.open:
        raise CommandError(
            tr("nothing to acknowledge: every record of this operation matches the audit log "
               "or was acknowledged already") if data.acknowledged else
            tr("nothing to acknowledge: every record of this operation matches the audit log"),
            show_usage=False)
    levels = {op["tlp"], *(level for level in data.levels if level in validate.TLP_LEVELS)}
    described = [describe(m) for m in data.open]
    with speaking("en"):  # the record says it in the catalogue's source language
        recorded = [describe(m) for m in data.open]
    await ctx.tx.insert(records_witness.ACKS, {
        "op_id": op["id"],
        "findings": json.dumps(sorted(m.key for m in data.open)),
        "summary": "\n".join(recorded),
        "tlp": max(levels, key=validate.tlp_rank),
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
    })
    report = ReplyBuilder().heading(trn(
        "⚠️ Acknowledged {n} change made behind the audit log (recorded in the log):",
        "⚠️ Acknowledged {n} changes made behind the audit log (recorded in the log):",
        len(described)).format(n=len(described)))
    report.bullets([[d] for d in described])
    report.line(tr("Exports run again and leave these records out; a new change behind the "
                   "log is found again."))
    return report.build()
