"""Deconfliction (hit/no-hit): two operations on the same server, wallet or suspect learn
that they overlap and, if both leads agree, whom to call; nothing else.

When a seizure or an arrest is recorded (`checked`, called by the record's handler) its
values are compared in normal form (`commands.match_keys`) with those every other
operation of this bot holds, closed ones excepted (their record is final and nobody there
can answer). Anyone able to make an operation can record a value and undo it, so the
lookup is built not to be an oracle or a megaphone:

- a hit is held for a grace period (GRACE, `[deconfliction] grace_minutes`) and becomes a
  hit with a number and a notice in both rooms (`release_due`, run by the scheduler) only
  if the value is still held then: an /undo before that withdraws it, and the other room
  is never told nor its log written. Held hits are in the database, so a restart sends
  them when due; the notices go through the outbox in the transaction that makes the hit;
- each operation has a cap (HITS_PER_HOUR hits found, LOOKUPS_PER_HOUR lookups, over the
  last hour): beyond it a record is indexed but not looked up, and the room is told why;
  the cap depends only on what the room was already told, never on the value looked up;
- an operation that already has a hit (or a held one) with the other record is not told
  again when the same value is recorded again;
- RED and AMBER+STRICT records are matched only when their operation's lead opted in
  (`/deconflict red on`), both ways: they are neither found nor looked up;
- hits are numbered per pair of operations (D-<pair tag>-<n>), so a number counts only
  what both rooms already know.

Each room learns its own record's number only, and of a RED record not even that ("your
RED record"): the notice is about a record whose very mention is restricted, so it stays
out of messages the room did not ask for.

`/deconflict share D-n` by a lead in each room, in either order, introduces them: each
room gets the other lead's Matrix ID and the other operation's code. The first agreement
is told to the other room (it shares nothing, and without it the other lead would not
know there is something to answer). An agreement cannot be undone: the other room may
already have acted on it.

/undo of a record takes its values out of the index, so nothing new hits it; its held
hits are withdrawn, its hits stay in both lists (the other room was told, and a retraction
would tell it more). Every side of a hit is audited in its own room only
(storage.deconfliction), by "(deconfliction)", so no room's log or export shows the other
operation's data.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands import match_keys
from commands.core import argtypes, validate
from commands.core.context import Context
from commands.core.i18n import N_, speaking, tr, trn
from commands.core.records import dtg, label
from commands.core.reply import Bold, Part, Ping, ReplyBuilder, appended, fill, notice_content, ok
from commands.core.spec import Choice, Fn, PageArgs, Role, command, key, pos
from commands.core.types import CommandError, Reply
from storage import deconfliction as store
from storage import languages, outbox
from storage.codec import from_db_time, to_db_time
from storage.consultations import CONSULT, DISCLOSE
from storage.database import Database
from storage.outbox import Post
from storage.tx import Actor, Row, Tx

SYSTEM = "(deconfliction)"  # who the hits' audit entries name: no member of either room
RED = "RED"
# Shown with tr() where they are raised (NO_UNDO by /undo).
OFF = N_("deconfliction is off on this bot (config [deconfliction] enabled = false): "
         "operations are not compared and nobody is introduced")
NO_UNDO = N_("agreeing to a deconfliction introduction cannot be undone: the other "
             "operation may already have been told")
BACKFILL_BATCH = 5000
# The cap, per operation over the last WINDOW (see the README's threat model).
WINDOW = timedelta(hours=1)
HITS_PER_HOUR = 10
LOOKUPS_PER_HOUR = 300
TAG_LETTERS = "ACEFHJKLMNPRTUVWXY"  # no D, and none read as a digit (B, G, I, O, Q, S, Z)
_LABEL = re.compile(r"#?(?:D-?)?(?:([A-Za-z]{2,4})-?)?(\d{1,9})", re.IGNORECASE)


def hit_label(raw: str) -> str:
    """A hit's label as typed (`D-KX-3`, `dkx3`; `D-12` for one numbered before pairs)."""
    m = _LABEL.fullmatch(raw.strip())
    if m is None:
        validate.record_ref(raw, "D")  # its message says what was typed instead
        raise ValueError(_not_a_hit(raw))
    tag, n = m.group(1), int(m.group(2))
    if n < 1:
        raise ValueError(_not_a_hit(raw))
    return f"D-{tag.upper()}-{n}" if tag else f"D-{n}"


def _not_a_hit(raw: str) -> str:
    return tr("{typed} is not a deconfliction hit id like D-KX-3").format(typed=repr(raw[:40]))


HIT = Fn(hit_label, "D-XX-N", fixed=True)


def _share_hint(hit: str) -> str:
    return tr("A lead here can agree to be introduced to its lead with /deconflict share "
              "{hit} (both leads must agree; nothing else is shared).").format(hit=hit)


def _yours(tbl: str, seq: int, tlp: str | None) -> str:
    """How a room is told which of its records is concerned: a RED one is not named."""
    return tr("RED record") if tlp == RED else label(tbl, seq)


# -- the hook the record paths call ------------------------------------------------------

async def checked(ctx: Context, table: str, row: Row, reply: Reply) -> Reply:
    """`reply` with the hits of this recorded or changed seizure or arrest. Call it after
    every change of a record's value (creation, an edit), so the index follows it."""
    return _told(reply, await _match(ctx, table, row))


async def after_undo(ctx: Context, entries: Iterable[Row], reply: Reply) -> Reply:
    """After /undo: a removed record leaves the index (its held hits are withdrawn, its
    hits stay, and the reply says so); one whose value came back is looked up again."""
    lines: list[list[Part]] = []
    kept: list[str] = []
    removed = False
    for entry in entries:
        tbl, row_id = entry["tbl"], entry["row_id"]
        if tbl not in store.INDEXED_TABLES:
            continue
        row = await ctx.tx.get(tbl, row_id)
        if row is None:
            await store.unindex(ctx.tx, tbl, row_id)
            removed = True
            gone = json.loads(entry["after"] or entry["before"])
            kept += await store.hits_of(ctx.tx, gone["op_id"], tbl, gone["seq"])
        else:
            lines += await _match(ctx, tbl, row)
    if removed and await store.withdraw_unheld(ctx.tx, ctx.require_op()["id"]):
        lines.append([tr("Deconfliction hit withdrawn: it was undone within its grace "
                         "period, so the other operation is not told.")])
    if kept:
        lines.append([trn("Deconfliction hit {hits} stays: the other operation has been told.",
                          "Deconfliction hits {hits} stay: the other operation has been told.",
                          len(kept)).format(hits=", ".join(kept))])
    return _told(reply, lines)


def _restricted(tlp: str) -> bool:
    return tlp in store.RESTRICTED


async def _match(ctx: Context, table: str, row: Row) -> list[list[Part]]:
    """Index the record's values and look up those that are new in it: the reply's lines."""
    op = ctx.require_op()
    secret = await store.secret(ctx.tx)
    kinds = {store.digest(secret, kind, value): kind
             for kind, value in match_keys.of_record(table, row)}
    before = await store.indexed(ctx.tx, table, row["id"])
    await store.reindex(ctx.tx, op["id"], table, row["id"], kinds)
    if not ctx.settings.deconfliction:
        return []  # (nothing is held either: release_due drops what was)
    await store.withdraw_unheld(ctx.tx, op["id"])  # a value this change took away
    new = [k for k in kinds if k not in before]
    if not new:
        return []
    red = row["tlp"] == RED  # named in no deconfliction line, even in its own room
    name = tr("the record") if red else label(table, row["seq"])
    subject = tr("a RED record") if red else name
    if _restricted(row["tlp"]) and not op["deconflict_red"]:
        return [[tr("(deconfliction: {subject} is not compared with other operations: this "
                    "operation's RED and AMBER+STRICT records are compared only once a lead "
                    "opts them in with /deconflict red on)").format(subject=subject)]]
    since = to_db_time(ctx.now - WINDOW)
    resume = _resume(await store.lookups_since(ctx.tx, op["id"], since))
    if resume is not None:
        return [["⏸ " + tr(
            "deconfliction: {subject} was not compared with other operations and nobody was "
            "told: this operation has used its deconfliction for the hour (at most {hits} "
            "hits and {lookups} lookups an hour, against using it to probe other "
            "operations). Lookups resume at {when}. {record} is in the index: an operation "
            "that records the same value later still finds it.").format(
                subject=subject, hits=HITS_PER_HOUR, lookups=LOOKUPS_PER_HOUR,
                when=dtg(to_db_time(resume)),
                record=tr("The record") if red else name)]]
    due = ctx.now + ctx.settings.deconfliction_grace
    held: list[store.Holder] = []
    known: list[str] = []  # labels of the hits there are; "" for one still held
    others: set[int] = set()
    for holder in await store.holders(ctx.tx, new, op["id"]):
        if holder.op_id in others:  # one hit per other operation and value
            continue
        others.add(holder.op_id)
        already = await store.linked(ctx.tx, op["id"], holder)
        if already is not None:
            known.append(already)
            continue
        await store.hold(ctx.tx, {
            "op_id": op["id"], "key": holder.key, "kind": kinds[holder.key],
            "holder_op": holder.op_id, "holder_tbl": holder.tbl, "holder_seq": holder.seq,
            "due_at": to_db_time(due), "created_at": ctx.stamp})
        held.append(holder)
    await store.count_lookup(ctx.tx, op["id"], ctx.stamp, len(held), since)
    lines: list[list[Part]] = []
    if held:
        lines.append(["⚠️ " + _held(len(held), due <= ctx.now).format(
            subject=subject, n=len(held), when=dtg(to_db_time(due)), record=name)])
    if known:
        where = sorted({k or tr("a hit still in its grace period") for k in known})
        lines.append([tr("(deconfliction: {subject} is also in {hits}: that operation is not "
                         "told again)").format(subject=subject, hits=", ".join(where))])
    return lines


def _held(n: int, now: bool) -> str:
    """The line of a hit held for its grace period, told to the room that recorded it."""
    if n == 1 and now:
        return tr("deconfliction hit: {subject} is also held by another operation; its lead "
                  "is being told. The hit's number follows with that notice.")
    if n == 1:
        return tr("deconfliction hit: {subject} is also held by another operation; its lead "
                  "is told at {when} if {record} still holds the value; /undo before then "
                  "withdraws the hit. The hit's number follows with that notice.")
    if now:
        return trn("deconfliction hit: {subject} is also held by {n} other operations; each "
                   "lead is being told. The hit's number follows with that notice.",
                   "deconfliction hit: {subject} is also held by {n} other operations; each "
                   "lead is being told. The hit's number follows with that notice.", n)
    return trn("deconfliction hit: {subject} is also held by {n} other operations; each lead "
               "is told at {when} if {record} still holds the value; /undo before then "
               "withdraws the hit. The hit's number follows with that notice.",
               "deconfliction hit: {subject} is also held by {n} other operations; each lead "
               "is told at {when} if {record} still holds the value; /undo before then "
               "withdraws the hit. The hit's number follows with that notice.", n)


def _resume(past: list[Row]) -> datetime | None:
    """When an operation that made the lookups `past` (oldest first, within WINDOW) may
    look up again; None: now."""
    lookups, hits = len(past), sum(r["hits"] for r in past)
    if lookups < LOOKUPS_PER_HOUR and hits < HITS_PER_HOUR:
        return None
    for entry in past:  # each leaves the window in turn
        lookups, hits = lookups - 1, hits - entry["hits"]
        if lookups < LOOKUPS_PER_HOUR and hits < HITS_PER_HOUR:
            at = from_db_time(entry["at"])
            assert at is not None
            return at + WINDOW
    raise AssertionError("unreachable: the window empties")


def _told(reply: Reply, lines: list[list[Part]]) -> Reply:
    if not lines:
        return reply
    r = ReplyBuilder()
    for line in lines:
        r.line(*line)
    return appended(reply, r.build())


# -- held hits whose grace period passed (run by the scheduler) ---------------------------

def _system(room_id: str, hit: str, at: str) -> Actor:
    return Actor(room_id=room_id, sender=SYSTEM, event_id=f"deconfliction:{hit}",
                 command=f"(deconfliction hit {hit})", at=at)


async def anything_due(tx: Tx, now: datetime) -> bool:
    """Whether `release_due` has work: read first, so the scheduler's turn each second
    commits nothing when nothing is due."""
    return await store.any_held_due(tx, to_db_time(now))


async def release_due(tx: Tx, now: datetime, enabled: bool = True,
                      language: str | None = None) -> list[Post]:
    """Make the held hits whose grace period has passed into hits, with a notice to each
    room (through the outbox, in this transaction), where both records still hold the
    value and may still be matched; drop the others. Deconfliction turned off: all are
    dropped, nobody is told. Each notice is in its room's language (`/op lang`), else in
    `language` (the bot's default, `[defaults] language`)."""
    stamp = to_db_time(now)
    posts: list[Post] = []
    for held in await store.held_due(tx, stamp):
        await store.release(tx, held["id"])
        if not enabled:
            continue
        mine = await store.holder(tx, held["key"], held["op_id"])
        theirs = await store.holder(tx, held["key"], held["holder_op"], held["holder_tbl"],
                                    held["holder_seq"])
        if mine is None or theirs is None or await store.linked(tx, mine.op_id, theirs) \
                is not None:
            continue
        hit = await _pair_label(tx, mine.op_id, theirs.op_id)
        hit_id = await store.new_hit(tx, stamp)
        for side in (mine, theirs):
            await store.add_side(store.as_room(tx, _system(side.room_id, hit, stamp)), {
                "hit": hit_id, "label": hit, "op_id": side.op_id, "tbl": side.tbl,
                "seq": side.seq, "kind": held["kind"], "tlp": side.tlp, "created_at": stamp})
        posts.append(await _post(tx, theirs.room_id, now, language, _theirs_told(hit, theirs)))
        posts.append(await _post(tx, mine.room_id, now, language, _mine_told(hit, mine)))
    return posts


def _theirs_told(hit: str, side: store.Holder) -> Callable[[], Reply]:
    """The notice of a new hit to the room whose record was already there."""
    return lambda: (ReplyBuilder()
                    .line("⚠️ ", tr("deconfliction hit {hit} on your {record}").format(
                        hit=hit, record=_yours(side.tbl, side.seq, side.tlp)))
                    .line(tr("Another operation served by this bot holds the same value."),
                          " ", _share_hint(hit)).build())


def _mine_told(hit: str, side: store.Holder) -> Callable[[], Reply]:
    """The notice of a new hit to the room whose record made it, once its grace passed."""
    return lambda: (ReplyBuilder()
                    .line("⚠️ ", tr("deconfliction hit {hit}: your {record} is also held by "
                                    "another operation, whose lead has now been told.").format(
                        hit=hit, record=_yours(side.tbl, side.seq, side.tlp)))
                    .line(_share_hint(hit)).build())


async def _pair_label(tx: Tx, op_x: int, op_y: int) -> str:
    """The next label of the pair's hits, D-<tag>-<n>: n counts this pair's hits only, and
    the tag, random and unlike those of either operation's other pairs, tells a room's
    hits with different operations apart without counting anything."""
    tag = await store.pair_tag(tx, op_x, op_y)
    if tag is None:
        taken = await store.tags_near(tx, op_x, op_y)
        tag = _new_tag(taken)
        await store.add_pair(tx, op_x, op_y, tag)
    return f"D-{tag}-{await store.next_in_pair(tx, op_x, op_y)}"


def _new_tag(taken: set[str]) -> str:
    for size in (2, 3):
        free = sorted({"".join(t) for t in itertools.product(TAG_LETTERS, repeat=size)}
                      - taken)
        if free:
            return secrets.choice(free)
    while (tag := "".join(secrets.choice(TAG_LETTERS) for _ in range(4))) in taken:
        pass
    return tag


async def _post(tx: Tx, room_id: str, now: datetime, default: str | None,
                make: Callable[[], Reply]) -> Post:
    """A notice to an operation's room, written to the outbox in this transaction, in that
    room's language (`default` when it has none), whoever's command made it."""
    lang = await languages.of_room(tx, room_id) or default
    with speaking(lang) as spoken:
        notice = make()
        content = notice_content(notice.text, notice.html, lang=spoken)
    return await outbox.add_post(tx, room_id, content, now)


# -- commands ------------------------------------------------------------------------------

@command(
    "deconflict", "list",
    shows=CONSULT, params=[key("page", argtypes.PAGE)],
    summary=N_("hits where another operation holds the same indicator or suspect ref"),
)
async def deconflict_list(ctx: Context, args: PageArgs) -> Reply:
    op = ctx.require_op()
    rows = await store.sides_of(ctx.tx, op["id"])
    r = ReplyBuilder().heading(tr("Deconfliction hits: {n}").format(n=len(rows)))
    if not ctx.settings.deconfliction:
        r.line(tr("(deconfliction is off on this bot: no new hits are looked for)"))
    r.bullets([_list_line(x) for x in rows], page=args.page or 1, more_hint="/deconflict list")
    return r.build()


def _list_line(side: Row) -> list[Part]:
    n = side["label"]
    red = RED in (side["tlp"], side["record_tlp"])
    record = _yours(side["tbl"], side["seq"], RED if red else None)
    yours = (tr("{hit} · your {record} (undone) ({kind})") if side["record_tlp"] is None
             else tr("{hit} · your {record} ({kind})"))
    line: list[Part] = [*fill(yours, hit=Bold(n), record=record, kind=side["kind"]), " · "]
    if side["introduced_at"]:
        line += fill(tr("introduced {when}: operation {code}, lead {lead}"),
                     when=dtg(side["introduced_at"]), code=side["peer_code"],
                     lead=Ping(side["peer_lead"]))
    elif side["shared_by"]:
        line.append(tr("{user} agreed; waiting for the other operation's lead").format(
            user=side["shared_by"]))
    elif side["peer_shared"]:
        line.append(tr("the other operation's lead agreed: /deconflict share {hit} to be "
                       "introduced").format(hit=n))
    else:
        line.append(tr("/deconflict share {hit} to be introduced (both leads must agree)")
                    .format(hit=n))
    return line


@dataclass(frozen=True)
class DeconflictShareArgs:
    hit: str


@command(
    "deconflict", "share",
    shows=DISCLOSE, params=[pos("hit", HIT)],
    role=Role.LEAD,
    summary=N_("agree to be introduced to the other operation's lead (both leads must "
               "agree)"),
    examples=["!deconflict share D-KX-1"],
)
async def deconflict_share(ctx: Context, args: DeconflictShareArgs) -> Reply:
    if not ctx.settings.deconfliction:
        raise CommandError(tr(OFF), show_usage=False)
    op = ctx.require_op()
    hit = args.hit
    mine = await store.side(ctx.tx, op["id"], hit)
    theirs = None if mine is None else await store.other_side(ctx.tx, mine["hit"], op["id"])
    if mine is None or theirs is None:
        raise CommandError(tr("there is no deconfliction hit {hit} in this operation (see "
                              "/deconflict list)").format(hit=hit), show_usage=False)
    if mine["introduced_at"]:
        raise CommandError(tr("{hit} is already introduced (nothing changed): the other "
                              "operation is {code}, its lead {lead}").format(
                                  hit=hit, code=theirs["code"], lead=theirs["shared_by"]),
                           show_usage=False)
    if mine["shared_by"]:
        raise CommandError(tr("{user} already agreed to {hit} for this operation at {when}; "
                              "the other operation's lead has been asked, and you are "
                              "introduced once they agree").format(
                                  user=mine["shared_by"], hit=hit,
                                  when=dtg(mine["shared_at"])), show_usage=False)
    agreed = {"shared_by": ctx.sender, "shared_at": ctx.stamp}
    if theirs["shared_by"] is None:
        await store.update_side(ctx.tx, mine, agreed)
        post = await _post(ctx.tx, theirs["room_id"], ctx.now, ctx.settings.language,
                           lambda: _asked(hit))
        reply = ok(*fill(tr("{hit}: your agreement is recorded. The other operation's lead "
                            "has been asked; each of you gets the other's Matrix ID and "
                            "operation code once they agree too."), hit=Bold(hit)))
        return dataclasses.replace(reply, posts=(post.id,))
    await store.update_side(ctx.tx, mine, {**agreed, "introduced_at": ctx.stamp})
    await store.update_side(store.as_room(ctx.tx, _system(theirs["room_id"], hit, ctx.stamp)),
                            theirs, {"introduced_at": ctx.stamp})
    code, lead = op["code"], ctx.sender
    post = await _post(ctx.tx, theirs["room_id"], ctx.now, ctx.settings.language,
                       lambda: _introduced(hit, code, lead))
    reply = ok("🤝 ", *fill(tr("{hit}: introduced. The other operation is {code}; its lead is "
                              "{lead}."), hit=hit, code=theirs["code"],
                           lead=Ping(theirs["shared_by"])))
    return dataclasses.replace(reply, posts=(post.id,))


def _asked(hit: str) -> Reply:
    """The other room's notice that this room's lead agrees to be introduced."""
    return (ReplyBuilder()
            .line("⚠️ ", tr("deconfliction hit {hit}: the other operation's lead agrees to be "
                            "introduced.").format(hit=hit))
            .line(tr("A lead here: /deconflict share {hit} to be introduced (nothing is "
                     "shared until you do).").format(hit=hit)).build())


def _introduced(hit: str, code: str, lead: str) -> Reply:
    """The other room's notice that both leads agreed: who to call, and for which operation."""
    return ReplyBuilder().line("🤝 ", *fill(
        tr("deconfliction hit {hit}: introduced. The other operation is {code}; its lead is "
           "{lead}."), hit=hit, code=code, lead=Ping(lead))).build()


@dataclass(frozen=True)
class DeconflictRedArgs:
    state: str


@command(
    "deconflict", "red",
    params=[pos("state", Choice(("on", "off")))],
    role=Role.LEAD,
    summary=N_("compare this operation's RED and AMBER+STRICT records with other operations "
               "too (off by default)"),
    examples=["!deconflict red on"],
)
async def deconflict_red(ctx: Context, args: DeconflictRedArgs) -> Reply:
    """Off by default: a RED record's very existence is not to be told outside its
    operation without its lead's decision, and a hit (either way) tells it."""
    op = ctx.require_op()
    on = args.state == "on"
    if bool(op["deconflict_red"]) == on:
        raise CommandError(tr("RED and AMBER+STRICT records are already {state} for "
                              "deconfliction in this operation (nothing changed)").format(
                                  state=args.state), show_usage=False)
    _, ctx.op = await ctx.tx.update("operations", op["id"],
                                    {"deconflict_red": int(on), "updated_at": ctx.stamp})
    if on:
        return ok(*fill(tr("Deconfliction: this operation's RED and AMBER+STRICT records "
                           "are now {compared} with other operations, both ways, from their "
                           "next lookup on: another operation recording the same value "
                           "learns that an operation holds it (never which, nor which "
                           "record)."), compared=Bold(tr("compared"))))
    return ok(*fill(tr("Deconfliction: this operation's RED and AMBER+STRICT records are "
                       "{no_longer_compared} with other operations; hits already made stay."),
                    no_longer_compared=Bold(tr("no longer compared"))))


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

