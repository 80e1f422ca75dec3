"""What the scheduler posts to partner rooms: the partner sitrep with each of the
operation's scheduled sitreps, the T-minus reminders of H-hour for a partner that has a
takedown to carry out, and the end of a link when the bot loses a partner room.

Only live links are fed, and everything is read through `commands.partner.partner_view`
or `storage.partners.assigned` (the one gate), so a partner never reads more here than in
its room's other posts: not the operation's name (the lead's alias, or none), not a record
assigned to another partner, not one above the link's TLP, never a suspect. Posts are
written to the outbox in the transaction that decides them (a crash loses none, a restart
repeats none), in the partner room's language, times on the partner's clock.

A link that ends takes its room's unsent posts with it (`storage.outbox.drop_for_room`):
a partner room the operation no longer feeds gets nothing the bot could still re-send.
"""

from __future__ import annotations

from datetime import datetime

from commands.core import timeparse, validate
from commands.core.i18n import speaking, tr
from commands.core.reply import Bold, ReplyBuilder, fill
from commands.core.types import Reply
from commands.partner import (
    on_their_clock,
    partner_view,
    post_made,
    room_language,
    shown_name,
    takedown_line,
)
from commands.reminders import t_minus
from storage import operations, outbox, partners, reminders
from storage.audit import Actor
from storage.codec import from_db_time, to_db_time
from storage.outbox import Post
from storage.tx import Row, Tx

SYSTEM = "(partner room)"  # who the audit entry of a lost room names: no member did it


async def sitreps(tx: Tx, op: Row, now: datetime, default: str) -> list[Post]:
    """One partner update per live link, written with the operation's scheduled sitrep.
    Numbered per partner room (#1, #2 …): the operation's own count is not theirs."""
    posts = []
    for link in await partners.live_of_op(tx, op["id"]):
        number = await tx.next_seq(op["id"], f"partner-update:{link['id']}")
        lang = await room_language(tx, link["room_id"], default)
        with speaking(lang):
            view = await partner_view(tx, link, op, tr(
                "Partner update #{n} · {operation} · {when}").format(
                    n=number, operation=shown_name(link, op),
                    when=on_their_clock(link, to_db_time(now))))
        posts.append(await post_made(tx, link["room_id"], view, now, lang))
    return posts


async def reminders_due(tx: Tx, op: Row, now: datetime, default: str) -> list[Post]:
    """The T-minus reminders owed to each live partner room that has a takedown of its
    own (assigned, at or below the link's TLP); claimed in `reminders_sent` per link, so
    each room gets each one once. Moments that passed before the partner's first takedown
    was assigned are skipped: they were told of H-hour with the assignment."""
    if op["phase"] == "closed" or op["hhour"] is None:
        return []
    posts = []
    for link in await partners.live_of_op(tx, op["id"]):
        takedowns = await partners.assigned(tx, link, "takedowns",
                                            validate.levels_up_to(link["tlp"]))
        if not takedowns:
            continue
        since = from_db_time(await reminders.first_assigned(
            tx, link["id"], "takedowns", [row["id"] for row in takedowns]))
        lang = await room_language(tx, link["room_id"], default)

        def make(name: str, hhour: datetime, late: bool, link: Row = link,
                 takedowns: list[Row] = takedowns) -> Reply:
            return _t_minus(link, op, takedowns, name, hhour, now, late)

        with speaking(lang):
            due = await t_minus(tx, op, now, make, prefix=f"partner:{link['id']}:",
                                since=since)
        for item in due:
            claimed = await reminders.claim(tx, op["id"], item.key, to_db_time(now),
                                            late=item.late, skipped=item.reply is None)
            if claimed and item.reply is not None:
                posts.append(await post_made(tx, link["room_id"], item.reply, now, lang))
    return posts


def _t_minus(link: Row, op: Row, takedowns: list[Row], name: str, hhour: datetime,
             now: datetime, late: bool) -> Reply:
    """The partner's reminder: H-hour on their clock and their own takedowns only."""
    r = ReplyBuilder()
    when = on_their_clock(link, op["hhour"])
    if name == "H":
        r.heading(tr("⏱ H-HOUR NOW · {op} · {when}").format(op=shown_name(link, op),
                                                           when=when))
    else:
        r.heading(tr("⏱ {label} · {op} · H-hour {when} (in {left})").format(
            label=name, op=shown_name(link, op), when=when,
            left=timeparse.format_offset(hhour - now)[1:]))
    r.bullets([takedown_line(link, row) for row in takedowns])
    if late:
        r.line(tr("(late: the bot was down at the reminder time)"))
    return r.build()


async def room_lost(tx: Tx, room_id: str, now: datetime, default: str) -> list[Post]:
    """The bot left or was removed from `room_id`: if it was a live partner room, its link
    ends (audited in the operation's chain by no member), what was still to be sent there
    is dropped, and the operation room is told. Nothing for any other room."""
    link = await partners.live_for_room(tx, room_id)
    if link is None:
        return []
    op = await operations.by_id(tx, link["op_id"])
    assert op is not None
    stamp = to_db_time(now)
    tx.actor = Actor(room_id=op["room_id"], sender=SYSTEM, event_id=f"partner-lost:{link['id']}",
                     command=f"(the bot is no longer in partner room {room_id})", at=stamp)
    await tx.update("partner_links", link["id"], {"active": 0, "updated_at": stamp})
    await outbox.drop_for_room(tx, room_id)
    lang = await room_language(tx, op["room_id"], default)
    with speaking(lang):
        notice = ReplyBuilder().line("🔌 ", *fill(
            tr("The bot is no longer in {partner}'s room ({room}): the link ended, nothing "
               "more is sent there. To feed the partner again, invite the bot to a room and "
               "/partner link it."), partner=Bold(link["name"]), room=room_id)).build()
    return [await post_made(tx, op["room_id"], notice, now, lang)]
