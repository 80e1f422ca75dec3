"""/trust: a lead vouches for a member whose cross-signing identity changed.

A new master key is what a reset — or a hijacked — account looks like, so the bot stops
obeying that member and sharing keys with their new devices until a lead, who can check
with the person by other means, confirms it here. `/trust` alone shows who is waiting and
which members' devices are unverified, so a lead knows whom to call.

The pin is one per user, so one lead's confirmation holds in every operation (the bot
cannot share one room's keys with a device and refuse it another's). That makes who may
confirm the point: a lead of a room where @x is joined now and that was told of the
change when it was seen — not a room the changed account joined afterwards, which its new
holder may have made. Every other room the bot shares with @x, or that was told, gets a
notice (kept in the outbox until it is in the room) and an audit entry naming who
confirmed and from which operation, so its own lead can object.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core.context import Context
from commands.core.i18n import N_
from commands.core.reply import Bold, Code, Ping, ReplyBuilder, notice_content
from commands.core.spec import command, mention
from commands.core.types import CommandError, Reply
from storage import identities, outbox
from storage.tx import Row

SYSTEM = "(identity)"  # who the other rooms' audit entries name: no member of theirs


@dataclass(frozen=True)
class TrustArgs:
    user: str | None


@command(
    "trust",
    params=[mention("user")],
    summary=N_("lead: confirm a member whose identity changed; alone: list unconfirmed "
            "identities and unverified devices"),
    needs_op=False,
    examples=["/trust", "/trust @anna:police.example"],
)
async def trust(ctx: Context, args: TrustArgs) -> Reply:
    if not ctx.settings.require_cross_signed:
        raise CommandError("device verification is switched off in this bot's configuration "
                           "(access.require_cross_signed = false): every device is obeyed",
                           show_usage=False)
    if args.user is None:
        return await _listing(ctx)
    ctx.require_lead("confirm a member's new identity")
    user = args.user
    change = await identities.pending_change(ctx.tx, user)
    if change is None:
        raise CommandError(f"{user} has no changed identity to confirm", show_usage=False)
    if user not in ctx.room_members():
        raise CommandError(f"{user} is not a member of this room: only a lead of a room they "
                           "are in can confirm their new identity", show_usage=False)
    if ctx.msg.room_id not in change.rooms:
        raise CommandError(f"{user} was not a member of this room when their identity "
                           "changed, so this room cannot confirm it: a lead of a room that "
                           "was told of the change does, after checking with them",
                           show_usage=False)
    confirmed = await identities.confirm(ctx.tx, user, ctx.sender)
    assert confirmed is not None
    key = Code((change.pin.new_master_key or "")[:12] + "…")
    reply = ReplyBuilder().line(
        "✅ ", Ping(user), "'s new identity is confirmed (master key ", key, "); their "
        "cross-signed devices are obeyed again and get the room keys.").build()
    posts = await announce(ctx, user, change.rooms, *confirmed, ReplyBuilder().line(
        "🔐 ", Ping(user), "'s new identity (master key ", key, ") was confirmed by ",
        Ping(ctx.sender), f" in {_where(ctx)}: their cross-signed devices are obeyed here "
        "again and get this room's keys. A lead here who did not expect it checks with ",
        Ping(user), " by other means.").build(), "confirmed")
    reply.trust_changed = (user,)
    reply.posts = posts
    return reply


async def announce(ctx: Context, user: str, told: frozenset[str], before: Row, after: Row,
                   notice: Reply, what: str) -> tuple[int, ...]:
    """Every other room that shares @x or was told of the change: an audit entry of the
    identity's change in its own chain, and the notice through the outbox; the post ids."""
    here = ctx.msg.room_id
    rooms = sorted((set(told) | set(ctx.shared_rooms(user))) - {here})
    await identities.audit_in_rooms(
        ctx.tx, rooms, SYSTEM, ctx.stamp,
        f"(identity of {user} {what} by {ctx.sender} in {_where(ctx)})", after["id"],
        before, after)
    posts = [await outbox.add_post(ctx.tx, room_id, notice_content(notice.text, notice.html),
                                   ctx.now) for room_id in rooms]
    return tuple(post.id for post in posts)


async def undone(ctx: Context, changed: Row, confirmed: Row) -> tuple[int, ...]:
    """An /undo of /trust: the identity is changed again; the other rooms are told so."""
    user = confirmed["user_id"]
    change = await identities.pending_change(ctx.tx, user)
    notice = ReplyBuilder().line(
        "↩️ ", Ping(ctx.sender), f" in {_where(ctx)} undid the confirmation of ", Ping(user),
        "'s new identity: their commands are ignored here again until a lead confirms with ",
        Code(f"/trust {user}"), ".").build()
    return await announce(ctx, user, change.rooms if change else frozenset(), confirmed,
                          changed, notice, "confirmation undone")


def _where(ctx: Context) -> str:
    return f"operation {ctx.op['code']}" if ctx.op else f"room {ctx.msg.room_id}"


async def _listing(ctx: Context) -> Reply:
    members = ctx.room_members()
    changed = await identities.changed_identities(ctx.tx, members)
    unverified = await identities.untrusted_devices(ctx.tx, members)
    reply = ReplyBuilder()
    if not changed and not unverified:
        return reply.line("✅ every member's identity is confirmed and every device verified"
                          ).build()
    if changed:
        reply.heading(f"Identity changed, waiting for a lead's /trust: {len(changed)}")
        reply.bullets([[Ping(pin.user_id), " new master key ",
                        Code((pin.new_master_key or "")[:12] + "…")] for pin in changed])
    if unverified:
        reply.heading(f"Members with unverified devices: {len(unverified)}")
        reply.bullets([[Ping(user), " ", Bold(", ".join(devices))]
                       for user, devices in sorted(unverified.items())])
        reply.line("They verify a device from another of their sessions (Element: Settings → "
                   "Sessions); it is then obeyed without anyone's /trust.")
    return reply.build()
