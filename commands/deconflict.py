"""Deconfliction (hit/no-hit): two operations on the same server, wallet or suspect learn
that they overlap and, if both leads agree, whom to call; nothing else.

When a seizure or an arrest is recorded (`checked`, called by the record's handler) its
values are compared in normal form (`commands.match_keys`) with those every other
operation of this bot holds, closed ones excepted (their record is final and nobody there
can answer). On a hit the recording room is told in the command's reply and the other
room by a post kept in the outbox until it is in the room, both in the command's
transaction: neither is lost nor sent twice. Each room learns its own record's number
only, and of a RED record not even that ("your RED record"): the notice is about a record
whose very mention is restricted, so it stays out of messages the room did not ask for.

`/deconflict share D-n` by a lead in each room, in either order, introduces them: each
room gets the other lead's Matrix ID and the other operation's code. The first agreement
is told to the other room (it shares nothing, and without it the other lead would not
know there is something to answer). An agreement cannot be undone: the other room may
already have acted on it.

/undo of a record takes its values out of the index, so nothing new hits it; its hits
stay in both lists (the other room was told, and a retraction would tell it more). Every
side of a hit is audited in its own room only (storage.deconfliction), by "(deconfliction)",
so no room's log or export shows the other operation's data.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass

from commands import match_keys
from commands.core import argtypes
from commands.core.context import Context
from commands.core.records import dtg, label
from commands.core.reply import Bold, Part, Ping, ReplyBuilder, appended, notice_content, ok
from commands.core.spec import PageArgs, Role, command, key, pos
from commands.core.types import CommandError, Reply
from storage import deconfliction as store
from storage import outbox
from storage.database import Database
from storage.tx import Actor, Row, Tx

SYSTEM = "(deconfliction)"  # who the hits' audit entries name: no member of either room
RED = "RED"
OFF = ("deconfliction is off on this bot (config [deconfliction] enabled = false): "
       "operations are not compared and nobody is introduced")
NO_UNDO = ("agreeing to a deconfliction introduction cannot be undone: the other operation "
           "may already have been told")
BACKFILL_BATCH = 5000


def _share_hint(n: int | str) -> str:
    return (f"A lead here can agree to be introduced to its lead with /deconflict share "
            f"D-{n} (both leads must agree; nothing else is shared).")


def _yours(tbl: str, seq: int, tlp: str | None) -> str:
    """How a room is told which of its records is concerned: a RED one is not named."""
    return "RED record" if tlp == RED else label(tbl, seq)


@dataclasses.dataclass(frozen=True)
class _Hit:
    n: int
    line: list[Part]
    post_id: int  # the other room's notice, in the outbox


# -- the hook the record paths call ------------------------------------------------------

async def checked(ctx: Context, table: str, row: Row, reply: Reply) -> Reply:
    """`reply` with the hits of this recorded or changed seizure or arrest. Call it after
    every change of a record's value (creation, an edit), so the index follows it."""
    return _told(reply, await _match(ctx, table, row))


async def after_undo(ctx: Context, entries: Iterable[Row], reply: Reply) -> Reply:
    """After /undo: a removed record leaves the index (its hits stay, and the reply says
    so); one whose value came back is looked up again."""
    hits: list[_Hit] = []
    kept: list[int] = []
    for entry in entries:
        tbl, row_id = entry["tbl"], entry["row_id"]
        if tbl not in store.INDEXED_TABLES:
            continue
        row = await ctx.tx.get(tbl, row_id)
        if row is None:
            await store.unindex(ctx.tx, tbl, row_id)
            gone = json.loads(entry["after"] or entry["before"])
            kept += await store.hits_of(ctx.tx, gone["op_id"], tbl, gone["seq"])
        else:
            hits += await _match(ctx, tbl, row)
    reply = _told(reply, hits)
    if kept:
        note = ReplyBuilder().line(
            f"Deconfliction {'hit' if len(kept) == 1 else 'hits'} "
            f"{', '.join(f'D-{n}' for n in kept)} {'stays' if len(kept) == 1 else 'stay'}: "
            "the other operation has been told.").build()
        reply = appended(reply, note)
    return reply


async def _match(ctx: Context, table: str, row: Row) -> list[_Hit]:
    op = ctx.require_op()
    secret = await store.secret(ctx.tx)
    kinds = {store.digest(secret, kind, value): kind
             for kind, value in match_keys.of_record(table, row)}
    before = await store.indexed(ctx.tx, table, row["id"])
    await store.reindex(ctx.tx, op["id"], table, row["id"], kinds)
    new = [k for k in kinds if k not in before]
    if not ctx.settings.deconfliction or not new:
        return []
    hits: list[_Hit] = []
    seen: set[tuple[str, int]] = set()
    for holder in await store.holders(ctx.tx, new, op["id"]):
        if (holder.tbl, holder.row_id) in seen or await store.already_hit(
                ctx.tx, row, table, holder):
            continue
        seen.add((holder.tbl, holder.row_id))
        hits.append(await _hit(ctx, table, row, holder, kinds[holder.key]))
    return hits


def _system(room_id: str, n: int, at: str) -> Actor:
    return Actor(room_id=room_id, sender=SYSTEM, event_id=f"deconfliction:D-{n}",
                 command=f"(deconfliction hit D-{n})", at=at)


async def _hit(ctx: Context, table: str, row: Row, holder: store.Holder, kind: str) -> _Hit:
    op = ctx.require_op()
    n = await store.new_hit(ctx.tx, ctx.stamp)
    await store.add_side(store.as_room(ctx.tx, _system(ctx.msg.room_id, n, ctx.stamp)), {
        "hit": n, "op_id": op["id"], "tbl": table, "seq": row["seq"], "kind": kind,
        "tlp": row["tlp"], "created_at": ctx.stamp})
    await store.add_side(store.as_room(ctx.tx, _system(holder.room_id, n, ctx.stamp)), {
        "hit": n, "op_id": holder.op_id, "tbl": holder.tbl, "seq": holder.seq, "kind": kind,
        "tlp": holder.tlp, "created_at": ctx.stamp})
    notice = (ReplyBuilder()
              .line(f"⚠️ deconfliction hit D-{n} on your "
                    f"{_yours(holder.tbl, holder.seq, holder.tlp)}")
              .line("Another operation served by this bot holds the same value. "
                    + _share_hint(n)).build())
    post_id = await _post(ctx, holder.room_id, notice)
    subject = "a RED record" if row["tlp"] == RED else label(table, row["seq"])
    return _Hit(n, [f"⚠️ deconfliction hit D-{n}: {subject} is also held by another "
                    "operation; its lead has been told"], post_id)


async def _post(ctx: Context, room_id: str, notice: Reply) -> int:
    """The notice to another operation's room, written to the outbox; its id."""
    post = await outbox.add_post(ctx.tx, room_id, notice_content(notice.text, notice.html),
                                 ctx.now)
    return post.id


def _told(reply: Reply, hits: list[_Hit]) -> Reply:
    if not hits:
        return reply
    r = ReplyBuilder()
    for hit in hits:
        r.line(*hit.line)
    r.line(_share_hint(hits[0].n if len(hits) == 1 else "n"))
    extra = r.build()
    told = appended(reply, extra)
    return dataclasses.replace(told, posts=(*reply.posts, *(h.post_id for h in hits)))


# -- commands ------------------------------------------------------------------------------

@command(
    "deconflict", "list",
    params=[key("page", argtypes.PAGE)],
    summary="hits where another operation holds the same indicator or suspect ref",
)
async def deconflict_list(ctx: Context, args: PageArgs) -> Reply:
    op = ctx.require_op()
    rows = await store.sides_of(ctx.tx, op["id"])
    r = ReplyBuilder().heading(f"Deconfliction hits: {len(rows)}")
    if not ctx.settings.deconfliction:
        r.line("(deconfliction is off on this bot: no new hits are looked for)")
    r.bullets([_list_line(x) for x in rows], page=args.page or 1, more_hint="/deconflict list")
    return r.build()


def _list_line(side: Row) -> list[Part]:
    n = side["hit"]
    red = RED in (side["tlp"], side["record_tlp"])
    record = _yours(side["tbl"], side["seq"], RED if red else None)
    undone = " (undone)" if side["record_tlp"] is None else ""
    line: list[Part] = [Bold(f"D-{n}"), f" · your {record}{undone} ({side['kind']}) · "]
    if side["introduced_at"]:
        line += [f"introduced {dtg(side['introduced_at'])}: operation {side['peer_code']}, "
                 "lead ", Ping(side["peer_lead"])]
    elif side["shared_by"]:
        line.append(f"{side['shared_by']} agreed; waiting for the other operation's lead")
    elif side["peer_shared"]:
        line.append(f"the other operation's lead agreed: /deconflict share D-{n} to be "
                    "introduced")
    else:
        line.append(f"/deconflict share D-{n} to be introduced (both leads must agree)")
    return line


@dataclass(frozen=True)
class DeconflictShareArgs:
    hit: int


@command(
    "deconflict", "share",
    params=[pos("hit", argtypes.ref("D"))],
    role=Role.LEAD,
    summary="agree to be introduced to the other operation's lead (both leads must agree)",
    examples=["!deconflict share D-3"],
)
async def deconflict_share(ctx: Context, args: DeconflictShareArgs) -> Reply:
    if not ctx.settings.deconfliction:
        raise CommandError(OFF, show_usage=False)
    op = ctx.require_op()
    n = args.hit
    mine = await store.side(ctx.tx, op["id"], n)
    theirs = await store.other_side(ctx.tx, n, op["id"])
    if mine is None or theirs is None:
        raise CommandError(f"there is no deconfliction hit D-{n} in this operation "
                           "(see /deconflict list)", show_usage=False)
    if mine["introduced_at"]:
        raise CommandError(f"D-{n} is already introduced (nothing changed): the other "
                           f"operation is {theirs['code']}, its lead {theirs['shared_by']}",
                           show_usage=False)
    if mine["shared_by"]:
        raise CommandError(f"{mine['shared_by']} already agreed to D-{n} for this operation "
                           f"at {dtg(mine['shared_at'])}; the other operation's lead has been "
                           "asked, and you are introduced once they agree", show_usage=False)
    agreed = {"shared_by": ctx.sender, "shared_at": ctx.stamp}
    if theirs["shared_by"] is None:
        await store.update_side(ctx.tx, mine, agreed)
        asked = (ReplyBuilder()
                 .line(f"⚠️ deconfliction hit D-{n}: the other operation's lead agrees to be "
                       "introduced.")
                 .line(f"A lead here: /deconflict share D-{n} to be introduced (nothing is "
                       "shared until you do).").build())
        post_id = await _post(ctx, theirs["room_id"], asked)
        reply = ok(Bold(f"D-{n}"), ": your agreement is recorded. The other operation's lead has "
                   "been asked; each of you gets the other's Matrix ID and operation code "
                   "once they agree too.")
        return dataclasses.replace(reply, posts=(post_id,))
    await store.update_side(ctx.tx, mine, {**agreed, "introduced_at": ctx.stamp})
    await store.update_side(store.as_room(ctx.tx, _system(theirs["room_id"], n, ctx.stamp)),
                            theirs, {"introduced_at": ctx.stamp})
    told = (ReplyBuilder()
            .line(f"🤝 deconfliction hit D-{n}: introduced. The other operation is "
                  f"{op['code']}; its lead is ", Ping(ctx.sender), ".").build())
    post_id = await _post(ctx, theirs["room_id"], told)
    reply = ok(f"🤝 D-{n}: introduced. The other operation is {theirs['code']}; its lead is ",
               Ping(theirs["shared_by"]), ".")
    return dataclasses.replace(reply, posts=(post_id,))


# -- records from before the index existed -------------------------------------------------

async def index_existing(db: Database) -> int:
    """Index the seizures and arrests recorded before the deconfliction migration, once
    (at start), in batches so the bot's first commands do not wait for all of them."""
    total = 0
    while (done := await db.write(_index_batch)) is not None:
        total += done
    return total


async def _index_batch(tx: Tx) -> int | None:
    pending = await store.backfill_pending(tx)
    if not pending:
        return None
    tbl, upto = pending[0]["tbl"], pending[0]["upto"]
    rows = await store.records_below(tx, tbl, upto, BACKFILL_BATCH)
    secret = await store.secret(tx)
    for row in rows:
        keys = {store.digest(secret, k, v) for k, v in match_keys.of_record(tbl, row)}
        await store.reindex(tx, row["op_id"], tbl, row["id"], keys)
    more = len(rows) == BACKFILL_BATCH
    await store.backfill_done_upto(tx, tbl, rows[-1]["id"] - 1 if more else None)
    return len(rows)

