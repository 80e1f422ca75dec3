"""/trust: a lead vouches for a member whose cross-signing identity changed.

A new master key is what a reset — or a hijacked — account looks like, so the bot stops
obeying that member and sharing keys with their new devices until a lead, who can check
with the person by other means, confirms it here. `/trust` alone shows who is waiting and
which members' devices are unverified, so a lead knows whom to call.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core.context import Context
from commands.core.reply import Bold, Code, Ping, ReplyBuilder
from commands.core.spec import command, mention
from commands.core.types import CommandError, Reply
from storage import identities


@dataclass(frozen=True)
class TrustArgs:
    user: str | None


@command(
    "trust",
    params=[mention("user")],
    summary="lead: confirm a member whose identity changed; alone: list unconfirmed "
            "identities and unverified devices",
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
    pin = await identities.confirm(ctx.tx, user, ctx.sender)
    if pin is None:
        raise CommandError(f"{user} has no changed identity to confirm", show_usage=False)
    reply = ReplyBuilder().line(
        "✅ ", Ping(user), "'s new identity is confirmed (master key ",
        Code(pin.master_key[:12] + "…"), "); their cross-signed devices are obeyed again and "
        "get the room keys.").build()
    reply.trust_changed = (user,)
    return reply


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
