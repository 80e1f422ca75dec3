"""/lang: the language a member reads their replies in.

Anyone may choose their own (a reply is in its sender's language; what the whole room
reads is the room's, `/op lang`). The choice is a record of this operation, audited like
any other, and holds in this operation only: what one room decides never changes another.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import argtypes, i18n
from commands.core.context import Context
from commands.core.reply import Bold, ReplyBuilder, fill
from commands.core.spec import command, pos
from commands.core.types import Reply
from storage import languages


@dataclass(frozen=True)
class LangArgs:
    lang: str | None


@command(
    "lang",
    params=[pos("lang", argtypes.LANGUAGE, required=False)],
    summary=i18n.N_("show or choose the language of your replies"),
    examples=["/lang", "/lang es"],
)
async def lang(ctx: Context, args: LangArgs) -> Reply:
    op = ctx.require_op()
    own = await languages.member_choice(ctx.tx, op["id"], ctx.sender)
    if args.lang is None:
        return _shown(i18n.current(), own is not None)
    if own is None:
        await ctx.tx.insert("member_languages", {
            "op_id": op["id"], "user_id": ctx.sender, "lang": args.lang,
            "created_by": ctx.sender, "created_at": ctx.stamp, "updated_at": ctx.stamp})
    elif own["lang"] != args.lang:
        await ctx.tx.update("member_languages", own["id"],
                            {"lang": args.lang, "updated_at": ctx.stamp})
    with i18n.speaking(args.lang):  # the answer is already in the new language
        return ReplyBuilder().line(*fill(
            i18n.tr("Your replies in this operation are now in {language}."),
            language=Bold(i18n.LANGUAGES[args.lang]))).build()


async def now_reading(ctx: Context) -> str:
    """The sender's language after this command changed what it depends on (the room's
    language, set by /op init or /op lang): their answer is already in it."""
    return (await languages.of_reader(ctx.tx, ctx.msg.room_id, ctx.sender)
            or ctx.settings.language)


def _shown(code: str, chosen: bool) -> Reply:
    why = (i18n.tr("your own choice") if chosen
           else i18n.tr("your agency's, the room's or the bot's default"))
    r = ReplyBuilder()
    r.line(*fill(i18n.tr("You read {language} ({why})."),
                 language=Bold(i18n.named(code)), why=why))
    r.line(i18n.tr("Choices: {choices}. Choose with /lang CODE.").format(
        choices=i18n.choices()))
    return r.build()
