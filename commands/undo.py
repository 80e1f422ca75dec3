"""/undo: revert the sender's own last change in this room, from the audit before-images.

The undo is itself audited (its entries carry `undoes` = the reverted event id), so the
log still tells the whole story. A change that someone else has since built on (the row
no longer matches what the change left) is refused rather than silently overwritten.

Undoing needs the role the change needed, checked now, not when the change was made: a
lead who has since been demoted can no longer revert what only a lead could do. A change
needed a lead when its command is declared lead-only, when the command used a lead's power
(kept in `lead_changes`: /hhour TIME, a lead changing an officer's record), when it changed
the operation, its sitrep schedule or a roll call, or when it lowered a TLP. Undoing a
raise lowers the TLP back, so that needs a lead as well.
"""

from __future__ import annotations

import json
from typing import Any

from commands import deconflict, trust
from commands.core import spec, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.records import PREFIX, ROW_NOUN, label
from commands.core.reply import Bold, Code, ReplyBuilder, fill
from commands.core.spec import NoArgs, command
from commands.core.types import CommandError, Reply
from storage import changes
from storage import records as stored_records
from storage.audit import canonical, image

NO_UNDO_TABLES = {"operations"}
# What only a lead changes (SPEC: the operation's settings, H-hour, sitrep schedule; roll
# calls are opened and closed by a lead, answered by anyone).
LEAD_TABLES = {"operations": N_("the operation's settings"), "sitrep_schedules":
               N_("the sitrep schedule"), "rollcalls": N_("a roll call")}


def _name(table: str, row: dict[str, Any]) -> str:
    if table in PREFIX and "seq" in row:
        return label(table, row["seq"])
    noun = tr(ROW_NOUN[table]) if table in ROW_NOUN else table.rstrip("s")
    return f"{noun} {row.get('code') or row.get('user_id') or row['id']}"


async def _why_lead_needed(ctx: Context, event_id: str, entries: list[dict[str, Any]]
                           ) -> str | None:
    """Why undoing this change needs a lead (see the module's docstring), or None."""
    used = await changes.lead_power_used(ctx.tx, event_id)
    if used:
        return tr("it needed a lead to {what}").format(what=used)
    declared = spec.declared(entries[0]["command"])
    if declared is not None and declared.role is spec.Role.LEAD:
        return tr("{command} is lead-only").format(command=f"/{declared.name}")
    for entry in entries:
        if entry["tbl"] in LEAD_TABLES:
            return tr("it changed {what}").format(what=tr(LEAD_TABLES[entry["tbl"]]))
        if entry["action"] != "update":
            continue
        before, after = json.loads(entry["before"]), json.loads(entry["after"])
        old, new = before.get("tlp"), after.get("tlp")
        if old is None or new is None or old == new:
            continue
        name = _name(entry["tbl"], after)
        if validate.tlp_rank(new) < validate.tlp_rank(old):
            return tr("it lowered the TLP of {record} from {old} to {new}").format(
                record=name, old=old, new=new)
        return tr("undoing it would lower the TLP of {record} from {new} back to {old}"
                  ).format(record=name, old=old, new=new)
    return None


async def _refuse_if_erased(ctx: Context, entries: list[dict[str, Any]]) -> None:
    """An erasure destroyed keys, which nothing brings back; and a change to an erased
    record would put back values, or a record, that were erased."""
    if any(e["tbl"] == "erasures" for e in entries):
        raise CommandError(tr("an erasure cannot be undone: the keys of the data it erased "
                              "are destroyed; nothing was changed"), show_usage=False)
    for entry in entries:
        current = await ctx.tx.get(entry["tbl"], entry["row_id"])
        if current is not None and current.get("erased_by") is not None:
            raise CommandError(tr("{record} was erased since your last change ({command}); "
                                  "undo refused so no erased data comes back").format(
                record=_name(entry["tbl"], current), command=entry["command"][:60]),
                show_usage=False)


async def _refuse_if_used(ctx: Context, table: str, row: dict[str, Any], command: str
                          ) -> None:
    """A record someone has since built on (a seized item named on a request, a request a
    follow-the-hop request follows) stays: removing it would leave theirs pointing at
    nothing. Rows of the same command were reverted before (newest first), so they no
    longer count."""
    users = await stored_records.referrers(ctx.tx, table, row["id"])
    if not users:
        return
    names: list[str] = []
    for other, used_by in users:
        if other in PREFIX and "seq" in used_by:
            names.append(label(other, used_by["seq"]))
        elif other == "partner_assignments":
            link = await ctx.tx.get("partner_links", used_by["link_id"])
            names.append(tr("its assignment to the partner {partner}").format(
                partner=link["name"] if link else used_by["link_id"]))
        else:  # a row without a number (an item named on a request): the record it ties
            names.extend(await _tied(ctx, used_by, but=table))
    raise CommandError(
        tr("{record} is used by {others} since your last change ({command}); undo refused "
           "so nothing is left pointing at a removed record").format(
            record=_name(table, row), others=", ".join(dict.fromkeys(names)),
            command=command[:60]), show_usage=False)


async def _tied(ctx: Context, row: dict[str, Any], *, but: str | None = None) -> list[str]:
    """The numbered records a row without a number of its own ties together (S-2 and P-1
    for an item named on a request), by its `…_id` columns: its id alone means nothing to
    a member."""
    labels: list[str] = []
    for column, value in row.items():
        table = column.removesuffix("_id") + "s"
        if column.endswith("_id") and table in PREFIX and table != but and value:
            linked = await ctx.tx.get(table, value)
            if linked is not None:
                labels.append(label(table, linked["seq"]))
    return labels


async def _describe(ctx: Context, entry: dict[str, Any], row: dict[str, Any]) -> str:
    done = {"insert": tr("{record} removed"), "update": tr("{record} restored"),
            "delete": tr("{record} re-created")}[entry["action"]]
    table = entry["tbl"]
    named = table in PREFIX or row.get("code") or row.get("user_id")
    tied = [] if named or table not in ROW_NOUN else await _tied(ctx, row)
    if tied:
        return done.format(record=f"{tr(ROW_NOUN[table])} ({', '.join(tied)})")
    return done.format(record=_name(table, row))


@command("undo", summary=N_("revert your own last change in this room (needs the role the change "
                         "needed)"))
async def undo(ctx: Context, args: NoArgs) -> Reply:
    event_id = await changes.last_undoable(ctx.tx, ctx.msg.room_id, ctx.sender)
    if event_id is None:
        raise CommandError(tr("you have no change in this room to undo"), show_usage=False)
    entries = await changes.of_event(ctx.tx, ctx.msg.room_id, event_id)
    if any(e["tbl"] in NO_UNDO_TABLES and e["action"] == "insert" for e in entries):
        raise CommandError(tr("creating the operation cannot be undone; a lead can close it "
                              "with /op phase closed"), show_usage=False)
    if any(e["tbl"] == "deconfliction_sides" for e in entries):
        raise CommandError(tr(deconflict.NO_UNDO), show_usage=False)
    await _refuse_if_erased(ctx, entries)
    reason = await _why_lead_needed(ctx, event_id, entries)
    if reason:
        ctx.require_lead(tr("undo your last change ({command})").format(
                             command=entries[0]["command"][:60]),
                         note=tr(": {reason}; nothing was changed").format(reason=reason))
    done: list[str] = []
    for entry in entries:
        table, row_id = entry["tbl"], entry["row_id"]
        current = await ctx.tx.get(table, row_id)
        expected = entry["after"]
        if (current is None) != (expected is None) or (
            current is not None and canonical(image(current)) != expected
        ):
            raise CommandError(
                tr("your last change ({command}) was changed again since; undo refused so "
                   "nobody's later update is lost").format(command=entry["command"][:60]),
                show_usage=False)
        before = json.loads(entry["before"]) if entry["before"] else None
        if entry["action"] == "insert":
            assert current is not None
            await _refuse_if_used(ctx, table, current, entry["command"])
            await ctx.tx.delete(table, row_id, undoes=event_id)
            done.append(await _describe(ctx, entry, current))
        elif entry["action"] == "update":
            assert before is not None
            restored = {column: value for column, value in before.items() if column != "id"}
            await ctx.tx.update(table, row_id, restored, undoes=event_id)
            done.append(await _describe(ctx, entry, before))
        else:
            assert before is not None
            await ctx.tx.insert(table, before, undoes=event_id)
            done.append(await _describe(ctx, entry, before))
    command_text = entries[0]["command"]
    r = ReplyBuilder().line(*fill(tr("Undone: {command}"), command=Code(command_text[:120])))
    r.line(Bold("; ".join(done)))
    reply = await deconflict.after_undo(ctx, entries, r.build())
    # An undone /trust puts the identity back to "changed": the runtime must act on it, and
    # the rooms told of the confirmation are told of its undoing.
    posts = list(reply.posts)
    for e in entries:
        if e["tbl"] == "identities" and e["before"] and e["after"]:
            posts += await trust.undone(ctx, json.loads(e["before"]), json.loads(e["after"]))
    reply.trust_changed = tuple(json.loads(e["after"])["user_id"] for e in entries
                                if e["tbl"] == "identities" and e["after"])
    reply.posts = tuple(posts)
    return reply
