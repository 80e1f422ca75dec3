"""/partner in the operation room, and what partners answer in theirs (!done, !failed, !ack,
!question).

A partner room (a hosting provider's, a registrar's, a bank's) is fed from one operation,
at the link's TLP (GREEN unless the lead says otherwise, never above AMBER: TLP:AMBER+STRICT
and RED do not leave the organisations they name), with only what a lead assigned to that
partner. The partner reads the operation under the alias the lead gave, or none: its name
and code are the police's. What partners report is recorded on the operation's takedown
with the partner as actor, posted in the operation room, and audited in both rooms' chains
(the partner room's through its own entry, `partner_reports`).

Everything posted to a partner room is made from `partner_view`, which reads the records
through `storage.partners.assigned` only: one gate for the posts, the sitrep and the export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from commands.core import argtypes, i18n, records, validate
from commands.core.context import Context
from commands.core.i18n import N_, speaking, tr
from commands.core.records import dtg, label
from commands.core.reply import Bold, ReplyBuilder, fill, notice_content, ok
from commands.core.spec import Fn, NoArgs, Role, Where, command, key, pos, rest
from commands.core.types import CommandError, Reply
from storage import audit, languages, operations, outbox, partners
from storage.codec import from_db_time
from storage.consultations import CONSULT
from storage.outbox import Post
from storage.tx import Row, Tx

PARTNER_LEVELS = ("CLEAR", "GREEN", "AMBER")
KIND_OF = {"S": "seizures", "K": "takedowns"}
# Room ids: `!opaque:server`, or `!opaque` alone since room version 12 (MSC4291).
_ROOM = re.compile(r"^![A-Za-z0-9._~=/+-]{1,255}(?::[^\s]{1,255})?$")
_REF = re.compile(r"^([SsKk])-?(\d{1,9})$")


def _room(raw: str) -> str:
    value = raw.strip()
    if not _ROOM.match(value):
        raise ValueError(tr("{value} is not a room id (!… as the room's settings show it)").format(
            value=repr(value[:60])))
    return value


def _partner_tlp(raw: str) -> str:
    level = validate.tlp(raw)
    if level not in PARTNER_LEVELS:
        raise ValueError(tr("a partner room is fed at CLEAR, GREEN or AMBER at most: "
                            "{level} does not leave the police").format(level=level))
    return level


class Assignment(NamedTuple):
    refs: tuple[tuple[str, int], ...]  # (table, seq)
    partner: str


def _assignment(raw: str) -> Assignment:
    """`S-4 K-2 Example Hosting`: the record numbers first, the partner's name after."""
    words = raw.split()
    refs: list[tuple[str, int]] = []
    while words and (m := _REF.match(words[0].rstrip(","))):
        refs.append((KIND_OF[m.group(1).upper()], int(m.group(2))))
        words.pop(0)
    if not refs:
        raise ValueError(tr("name seized items or takedowns first (S-4 K-2), then the partner"))
    name = " ".join(words).strip()
    if not name:
        raise ValueError(tr("name the partner after the records, as linked: "
                            '/partner assign S-4 K-2 "Example Hosting"'))
    return Assignment(tuple(refs), name)


@contextmanager
def _audited_in(ctx: Context, room_id: str) -> Iterator[None]:
    """Record changes made inside are audited in `room_id`'s chain (the operation's, for
    what a partner reports from their room), by the same member and event."""
    saved = ctx.tx.actor
    assert saved is not None
    ctx.tx.actor = replace(saved, room_id=room_id)
    try:
        yield
    finally:
        ctx.tx.actor = saved


def shown_name(link: Row, op: Row) -> str:
    """What the partner reads as the operation's name: the lead's alias, else nothing of
    the police's own name or code."""
    return link["alias"] or tr("the joint operation")


def _zone(link: Row) -> ZoneInfo:
    return ZoneInfo(link["tz"])


def on_their_clock(link: Row, iso: str | None) -> str:
    """A stored time as its DTG and the partner's wall clock (the link's zone)."""
    at = from_db_time(iso)
    if at is None:
        return "—"
    tz = _zone(link)
    return f"{dtg(iso)} ({i18n.local_time(at, tz)} {at.astimezone(tz).tzname()})"


def takedown_line(link: Row, takedown: Row) -> list[Any]:
    """One of the partner's takedowns as every partner post shows it (a row of
    `storage.partners.assigned`). Its target copies its seized item's value, shown only
    where that item is theirs."""
    target = takedown["target"] if takedown["seizure_shown"] else tr(
        "{ref} (withheld)").format(ref=label("seizures", takedown["seizure_seq"]))
    return [Bold(label("takedowns", takedown["seq"])), " ", *fill(
        tr("{target}: planned {planned} [{status}]"), target=target,
        planned=on_their_clock(link, takedown["planned_at"]), status=takedown["status"])]


async def partner_view(tx: Tx, link: Row, op: Row, heading: str) -> Reply:
    """What the partner of `link` reads of the operation: H-hour and their assigned items
    and takedowns at or below the link's TLP, times on their clock. Nothing else."""
    levels = validate.levels_up_to(link["tlp"])
    reply = ReplyBuilder().heading(heading)
    reply.line(tr("H-hour: {when}").format(when=on_their_clock(link, op["hhour"])))
    items = await partners.assigned(tx, link, "seizures", levels)
    takedowns = await partners.assigned(tx, link, "takedowns", levels)
    rows: list[list[Any]] = []
    for item in items:
        rows.append([Bold(label("seizures", item["seq"])), f" {item['type']} ",
                     validate.shown(item["type"], item["value"]), f" [{item['status']}]"])
    rows += [takedown_line(link, takedown) for takedown in takedowns]
    if rows:
        reply.bullets(rows)
    else:
        reply.line(tr("Nothing is assigned to you yet."))
    reply.line(tr("Answer here: !done K-N \"note\" · !failed K-N \"reason\" · !ack · "
                  "!question \"…\""))
    return reply.build()


async def room_language(tx: Tx, room_id: str, default: str) -> str:
    """What a post to `room_id` is written in: the room's own language, else the bot's."""
    return await languages.of_room(tx, room_id) or default


async def post_made(tx: Tx, room_id: str, made: Reply, now: datetime, lang: str) -> Post:
    """`made` (written in `lang`) into the outbox for `room_id`, in the caller's
    transaction, so it is sent once even across a restart."""
    return await outbox.add_post(tx, room_id, notice_content(made.text, made.html, lang=lang),
                                 now)


async def _tell(ctx: Context, room_id: str, make: Callable[[], Reply]) -> int:
    """A notice to another room, made in that room's language; its outbox id."""
    lang = await room_language(ctx.tx, room_id, ctx.settings.language)
    with speaking(lang):
        made = make()
    return (await post_made(ctx.tx, room_id, made, ctx.now, lang)).id


async def _tell_partner(ctx: Context, link: Row, op: Row, heading: str) -> int:
    lang = await room_language(ctx.tx, link["room_id"], ctx.settings.language)
    with speaking(lang):
        view = await partner_view(ctx.tx, link, op, heading)
    return (await post_made(ctx.tx, link["room_id"], view, ctx.now, lang)).id


async def _link_named(ctx: Context, name: str) -> Row:
    op = ctx.require_op()
    link = await partners.live_named(ctx.tx, op["id"], name)
    if link is None:
        known = [row["name"] for row in await partners.live_of_op(ctx.tx, op["id"])]
        raise CommandError(tr("no partner named {name} is linked to this operation (linked: "
                              "{known})").format(name=repr(name),
                                                 known=", ".join(known) or tr("none yet")),
                           show_usage=False)
    return link


@dataclass(frozen=True)
class LinkArgs:
    room: str
    name: str
    tlp: str | None
    tz: str | None
    alias: str | None


@command(
    "partner", "link",
    params=[pos("room", Fn(_room, "!ROOM")),
            key("name", argtypes.text(N_("partner name"), max_len=80), required=True),
            key("tlp", Fn(_partner_tlp, "CLEAR|GREEN|AMBER"),
                help=N_("the most the partner may read; default GREEN")),
            key("tz", argtypes.ZONE, help=N_("the partner's time zone; default the operation's")),
            key("alias", argtypes.text(N_("alias"), max_len=80),
                help=N_("what the partner reads as the operation's name; default none"))],
    role=Role.LEAD,
    summary=N_("feed a private-sector partner's room with only what you assign to them"),
    examples=['!partner link !abc:police.example name="Example Hosting" tlp=GREEN '
              'tz=Europe/Amsterdam'],
)
async def partner_link(ctx: Context, args: LinkArgs) -> Reply:
    op = ctx.require_op()
    if args.room == ctx.msg.room_id:
        raise CommandError(tr("a partner room is another room than the operation's"),
                           show_usage=False)
    if args.room not in ctx.shared_rooms(ctx.sender):
        raise CommandError(tr("the bot and you must both be in {room} (and it must be "
                              "encrypted): invite the bot there first").format(room=args.room),
                           show_usage=False)
    if await operations.for_room(ctx.tx, args.room) is not None:
        raise CommandError(tr("{room} is an operation's room, not a partner's").format(
            room=args.room), show_usage=False)
    if await partners.live_for_room(ctx.tx, args.room) is not None:
        raise CommandError(tr("{room} is already a partner room").format(room=args.room),
                           show_usage=False)
    if await partners.live_named(ctx.tx, op["id"], args.name) is not None:
        raise CommandError(tr("a partner named {name} is already linked").format(
            name=repr(args.name)), show_usage=False)
    link = await ctx.tx.insert("partner_links", {
        "op_id": op["id"], "room_id": args.room, "name": args.name,
        "tlp": args.tlp or "GREEN", "tz": args.tz or op["tz"], "alias": args.alias,
        "created_by": ctx.sender, "created_at": ctx.stamp, "updated_at": ctx.stamp})
    welcome = await _tell_partner(ctx, link, op, tr("🤝 This room is linked to {operation} "
                                                    "as {partner}").format(
        operation=shown_name(link, op), partner=link["name"]))
    reply = ok(*fill(tr("{partner} linked at TLP:{tlp}: its room receives only what you "
                        "assign to it (/partner assign S-N K-N \"{partner}\")"),
                     partner=Bold(link["name"]), tlp=link["tlp"]))
    reply.posts = (welcome,)
    return reply


@dataclass(frozen=True)
class AssignArgs:
    what: Assignment


@command(
    "partner", "assign",
    params=[rest("what", Fn(_assignment, 'S-N K-N … "partner"'))],
    role=Role.LEAD,
    summary=N_("give a partner seized items and takedowns to act on"),
    examples=['!partner assign S-4 K-2 "Example Hosting"'],
)
async def partner_assign(ctx: Context, args: AssignArgs) -> Reply:
    op = ctx.require_op()
    link = await _link_named(ctx, args.what.partner)
    rows = [(table, await records.get(ctx, table, seq)) for table, seq in args.what.refs]
    above = [label(table, row["seq"]) for table, row in rows
             if validate.tlp_rank(row["tlp"]) > validate.tlp_rank(link["tlp"])]
    if above:
        raise CommandError(tr("above the partner's TLP:{tlp}: {refs}; nothing was "
                              "assigned").format(refs=", ".join(above), tlp=link["tlp"]),
                           show_usage=False)
    added = []
    for table, row in rows:
        if await partners.assignment(ctx.tx, link["id"], table, row["id"]) is None:
            await ctx.tx.insert("partner_assignments", {
                "op_id": op["id"], "link_id": link["id"], "tbl": table, "row_id": row["id"],
                "created_by": ctx.sender, "created_at": ctx.stamp})
            added.append(label(table, row["seq"]))
    if not added:
        raise CommandError(tr("all of these are already assigned to {partner}").format(
            partner=link["name"]), show_usage=False)
    told = await _tell_partner(ctx, link, op, tr("Assigned to you: {refs}").format(
        refs=", ".join(added)))
    reply = ok(*fill(tr("{refs} assigned to {partner}; its room was told"),
                     refs=", ".join(added), partner=Bold(link["name"])))
    reply.posts = (told,)
    return reply


@dataclass(frozen=True)
class UnlinkArgs:
    partner: str


@command(
    "partner", "unlink",
    params=[rest("partner", argtypes.text(N_("partner name"), max_len=80))],
    role=Role.LEAD,
    summary=N_("stop feeding a partner room, at once"),
    examples=['!partner unlink "Example Hosting"'],
)
async def partner_unlink(ctx: Context, args: UnlinkArgs) -> Reply:
    link = await _link_named(ctx, args.partner)
    await ctx.tx.update("partner_links", link["id"], {"active": 0, "updated_at": ctx.stamp})
    await outbox.drop_for_room(ctx.tx, link["room_id"])  # owed from before: not sent now
    post = await _tell(ctx, link["room_id"], lambda: ReplyBuilder().line(tr(
        "🔌 This room is no longer linked to the operation: nothing more comes here from it, "
        "and nothing sent here is recorded.")).build())
    reply = ok(*fill(tr("{partner} unlinked: its room gets nothing more (no sitrep, no "
                        "reminder) and was told so"), partner=Bold(link["name"])))
    reply.posts = (post,)
    return reply


@command("partner", "list", summary=N_("list the partner rooms and what each was assigned"),
         shows=CONSULT)
async def partner_list(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    reply = ReplyBuilder()
    links = await partners.live_of_op(ctx.tx, op["id"])
    reply.heading(tr("Partners: {n}").format(n=len(links)))
    for link in links:
        levels = validate.levels_up_to(link["tlp"])
        refs = [label(table, row["seq"]) for table in partners.KINDS
                for row in await partners.assigned(ctx.tx, link, table, levels)]
        reply.line(*fill(tr("{partner} · TLP:{tlp} · {zone} · {assigned}"),
                         partner=Bold(link["name"]), tlp=link["tlp"], zone=link["tz"],
                         assigned=", ".join(refs) or tr("nothing assigned")))
    return reply.build()


# -- in the partner room ----------------------------------------------------------------

async def _partner_op(ctx: Context) -> tuple[Row, Row]:
    link = ctx.partner
    assert link is not None  # the dispatcher sends these commands from partner rooms only
    op = await operations.by_id(ctx.tx, link["op_id"])
    assert op is not None
    return link, op


async def _report(ctx: Context, kind: str, note: str | None,
                  takedown: Row | None) -> tuple[Row, Row, Row]:
    """The partner's report: a row in their room's chain, the same entry in the
    operation's chain, and the notice to the operation room."""
    link, op = await _partner_op(ctx)
    row = await ctx.tx.insert("partner_reports", {
        "op_id": op["id"], "link_id": link["id"],
        "takedown_id": takedown["id"] if takedown else None, "kind": kind, "note": note,
        "created_by": ctx.sender, "created_at": ctx.stamp})
    actor = ctx.tx.actor
    assert actor is not None
    await audit.append(ctx.tx, replace(actor, room_id=op["room_id"]), "insert",
                       "partner_reports", row["id"], None, row,
                       command=ctx.tx.logged_command(actor))
    return link, op, row


async def _their_takedown(ctx: Context, link: Row, seq: int) -> Row:
    """The takedown K-seq if it is the partner's (assigned, at or below the link's TLP);
    the same answer whether it does not exist or is not theirs, so nothing is learnt."""
    levels = validate.levels_up_to(link["tlp"])
    for row in await partners.assigned(ctx.tx, link, "takedowns", levels):
        if row["seq"] == seq:
            return row
    raise CommandError(tr("K-{seq} is not one of the takedowns assigned to you").format(
        seq=seq), show_usage=False)


@dataclass(frozen=True)
class ResultArgs:
    takedown: int
    note: str | None


async def _result(ctx: Context, args: ResultArgs, status: str) -> Reply:
    link, op = await _partner_op(ctx)
    row = await _their_takedown(ctx, link, args.takedown)
    if row["status"] not in ("planned", "go"):
        raise CommandError(tr("K-{seq} is already {status}").format(
            seq=row["seq"], status=row["status"]), show_usage=False)
    changes: dict[str, Any] = {"status": status, "updated_at": ctx.stamp}
    if status == "done":
        changes["executed_at"] = ctx.stamp
    partner_note = tr("{partner}: {note}").format(partner=link["name"], note=args.note or "—")
    changes["note"] = partner_note
    with _audited_in(ctx, op["room_id"]):
        _, after = await ctx.tx.update("takedowns", row["id"], changes)
    await _report(ctx, status, args.note, after)
    post = await _tell(ctx, op["room_id"], lambda: ReplyBuilder().line("🤝 ", *fill(
        tr("{partner} reports {ref} {status}: {note}"), partner=Bold(link["name"]),
        ref=label("takedowns", after["seq"]), status=status.upper(),
        note=args.note or "—")).build())
    reply = ok(*fill(tr("{ref} recorded as {status} at {when}; the operation was told"),
                     ref=Bold(label("takedowns", after["seq"])), status=status.upper(),
                     when=on_their_clock(link, ctx.stamp)))
    reply.posts = (post,)
    return reply


@command("done", params=[pos("takedown", argtypes.ref("K")),
                         rest("note", argtypes.text(N_("note")), required=False)],
         where=Where.PARTNER, needs_op=False,
         summary=N_("partner: report one of your takedowns done"),
         examples=['!done K-2 "server fra-2 offline 05:02"'])
async def partner_done(ctx: Context, args: ResultArgs) -> Reply:
    return await _result(ctx, args, "done")


@command("failed", params=[pos("takedown", argtypes.ref("K")),
                           rest("note", argtypes.text(N_("reason")), required=False)],
         where=Where.PARTNER, needs_op=False,
         summary=N_("partner: report one of your takedowns failed, with the reason"),
         examples=['!failed K-2 "customer contract blocks it"'])
async def partner_failed(ctx: Context, args: ResultArgs) -> Reply:
    return await _result(ctx, args, "failed")


@command("ack", where=Where.PARTNER, needs_op=False,
         summary=N_("partner: acknowledge what you were assigned"))
async def partner_ack(ctx: Context, args: NoArgs) -> Reply:
    link, op, _ = await _report(ctx, "ack", None, None)
    reply = ok(tr("Acknowledged; the operation was told"))
    reply.posts = (await _tell(ctx, op["room_id"], lambda: ReplyBuilder().line("🤝 ", *fill(
        tr("{partner} acknowledges its assignment"), partner=Bold(link["name"]))).build()),)
    return reply


@dataclass(frozen=True)
class QuestionArgs:
    text: str


@command("question", params=[rest("text", argtypes.text(N_("question"), max_len=1000))],
         where=Where.PARTNER, needs_op=False,
         summary=N_("partner: ask the operation a question"),
         examples=['!question "may we notify the customer after H-hour?"'])
async def partner_question(ctx: Context, args: QuestionArgs) -> Reply:
    link, op, _ = await _report(ctx, "question", args.text, None)
    reply = ok(tr("Your question was passed to the operation"))
    reply.posts = (await _tell(ctx, op["room_id"], lambda: ReplyBuilder().line("❓ ", *fill(
        tr("{partner} asks: {question}"), partner=Bold(link["name"]),
        question=args.text)).build()),)
    return reply

