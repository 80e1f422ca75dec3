"""/erase: a lead erases the personal data of a category or of named records now.

The command takes the first step of the run in its own transaction (storage.erasures.begin:
records marked, blind indexes, deconfliction keys and stored replies dropped, with `purge`
the ciphertext in the log too), so what it answers is what is durable. Destroying the keys,
vacuuming and rotating the KEK happen outside any transaction, by the runtime
(bot.erasure) a moment later, which then posts the summary and redacts the bot's earlier
messages; a crash in between is finished at the next start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import PREFIX, label
from commands.core.reply import ReplyBuilder
from commands.core.spec import Choice, Fn, Role, command, pos
from commands.core.types import CommandError, Reply
from storage import erasures, retention
from storage.personal import CATEGORIES, personal_fields
from storage.tx import Row

APPROVER_POLICY = N_("retention policy")
REASON_POLICY = N_("review period lapsed")
SHOWN_HANDLES = 20  # a summary names this many records, then "…"
_HANDLE = re.compile(r"^([A-Za-z])-?(\d{1,9})$")
_TABLE_OF = {prefix: table for table, prefix in PREFIX.items() if personal_fields(table)}


def _scope(raw: str) -> str:
    value = raw.strip()
    if value.lower() in CATEGORIES:
        return value.lower()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise ValueError(tr("name a category ({categories}) or records such as A-3,S-2").format(
            categories="|".join(CATEGORIES)))
    handles = []
    for part in parts:
        m = _HANDLE.match(part)
        if not m or m.group(1).upper() not in _TABLE_OF:
            raise ValueError(tr("{value} is neither a category ({categories}) nor a record "
                                "holding personal data ({prefixes})").format(
                value=repr(part[:40]), categories="|".join(CATEGORIES),
                prefixes=", ".join(f"{p}-N" for p in sorted(_TABLE_OF))))
        handles.append(f"{m.group(1).upper()}-{int(m.group(2))}")
    return ",".join(dict.fromkeys(handles))


SCOPE = Fn(_scope, "CATEGORY|A-3,S-2")


@dataclass(frozen=True)
class EraseArgs:
    scope: str
    reason: str
    purge: str | None


@command(
    "erase",
    role=Role.LEAD,
    params=[pos("scope", SCOPE),
            pos("reason", argtypes.text(N_("reason"), 300, N_('"reason"'))),
            pos("purge", Choice(("purge",)), required=False,
                help=N_("also replace the sealed values in the audit log by their digests"))],
    summary=N_("erase the personal data of a data-subject category or of records, now"),
    examples=['!erase A-3,S-2 "acquitted, notice of the prosecutor 2026-11-20"',
              '!erase witness "review period lapsed" purge'],
)
async def erase(ctx: Context, args: EraseArgs) -> Reply:
    op = ctx.require_op()
    # A legal hold restricts instead of erasing (LED art. 16(3)): no erasure touches a
    # record while any hold covers it.
    held = await retention.held(ctx.tx, op["id"])
    kept = 0
    if args.scope in CATEGORIES:
        every = await erasures.of_category(ctx.tx, op["id"], args.scope)
        targets = [t for t in every if (t.tbl, t.row_id) not in held]
        kept = len(every) - len(targets)
    else:
        targets = await _named(ctx, op["id"], args.scope.split(","), held)
    if not targets:
        if kept:
            raise CommandError(trn(
                "nothing to erase: the {n} record of {scope} is under a legal hold (/hold "
                "list); nothing was recorded",
                "nothing to erase: all {n} records of {scope} are under a legal hold (/hold "
                "list); nothing was recorded", kept).format(n=kept, scope=args.scope),
                show_usage=False)
        raise CommandError(tr("nothing to erase: no record of {scope} holds personal data "
                              "that is not erased yet; nothing was recorded").format(
            scope=args.scope), show_usage=False)
    row = await erasures.begin(ctx.tx, op["id"], scope=args.scope, reason=args.reason,
                               approver=ctx.sender, targets=targets,
                               purge=args.purge is not None, at=ctx.stamp)
    reply = ReplyBuilder().line(tr(
        "{ref} started: {records} ({handles}) erased as soon as their keys are destroyed; "
        "the summary follows in this room").format(
            ref=ref(row), records=records(row), handles=handles(row) or args.scope))
    if kept:
        reply.line(trn("{n} record under a legal hold is kept (/hold list)",
                       "{n} records under a legal hold are kept (/hold list)", kept
                       ).format(n=kept))
    return reply.build()


async def _named(ctx: Context, op_id: int, handles: Sequence[str],
                 held: set[tuple[str, int]]) -> list[erasures.Target]:
    found: list[erasures.Target] = []
    for handle in handles:
        prefix, number = handle.split("-")
        table = _TABLE_OF[prefix]
        row = await erasures.by_number(ctx.tx, op_id, table, int(number))
        if row is None:
            raise CommandError(tr("{ref} does not exist in this operation; nothing was "
                                  "erased").format(ref=handle), show_usage=False)
        if row["erased_by"] is not None:
            raise CommandError(tr("{ref} is erased already; nothing was erased").format(
                ref=handle), show_usage=False)
        if (table, row["id"]) in held:
            raise CommandError(tr("{ref} is under a legal hold (/hold list): it is kept until "
                                  "every hold on it is released; nothing was erased").format(
                ref=handle), show_usage=False)
        found.append(erasures.Target(table, row["id"], row["subject_key"]))
    return found


def ref(row: Row) -> str:
    return f"E-{row['seq']}"


def records(row: Row) -> str:
    n = sum(json.loads(row["counts"]).values())
    return trn("{n} record", "{n} records", n).format(n=n)


def labels(row: Row) -> list[str]:
    """The numbered records an erasure erased, as members know them (A-1, S-4 …)."""
    return [label(tbl, seq) for tbl, seq in json.loads(row["handles"])]


def handles(row: Row) -> str:
    named = labels(row)
    shown = ", ".join(named[:SHOWN_HANDLES])
    return shown + (" …" if len(named) > SHOWN_HANDLES else "")


def announcement(row: Row, recipients: Sequence[str]) -> Reply:
    """What the room is told once the keys are destroyed (in the room's language, set by
    the caller): what was erased, why, by whose decision, and what an erasure cannot reach."""
    approver = row["approver"]
    if approver == APPROVER_POLICY:
        approver = tr(APPROVER_POLICY)
    reason = tr(REASON_POLICY) if row["reason"] == REASON_POLICY else row["reason"]
    scope = row["scope"]
    if scope in CATEGORIES:
        what = tr("{records} of the category {category}").format(records=records(row),
                                                                 category=scope)
    else:
        what = records(row)
    shown = handles(row)
    reply = ReplyBuilder().line(tr(
        "{ref}: erased {what}{handles} — {reason} — {approver}; the bot's earlier messages "
        "showing them are being redacted; members' clients may still hold copies.").format(
        ref=ref(row), what=what, handles=f" ({shown})" if shown else "", reason=reason,
        approver=approver))
    if recipients:
        reply.line(tr("Records of this operation were disclosed to {recipients}: tell them of "
                      "the erasure (Directive 2016/680 art. 16(6)).").format(
            recipients=", ".join(recipients)))
    return reply.build()
