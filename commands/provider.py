"""/provider: where a request to a service provider goes, from the provider directory.

The directory is the operator's data file (commands/forms/providers.py), so an officer
cannot change it from the room: a provider it lacks is answered with who adds it and
where. Every entry shows when it was last checked against the provider's own guidelines,
and an old check is called out, because contacts and portals change often. The bot only
drafts: it never sends a request, and says so where officers look up where to send one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.reply import Bold, ReplyBuilder
from commands.core.spec import command, key, rest
from commands.core.types import CommandError, Reply
from commands.forms import providers
from commands.forms.providers import Provider

# An entry checked longer ago than this is flagged (PILON: re-check before every request).
STALE_DAYS = 180
NEVER_SENDS = N_("The bot never sends a request itself: EU orders go through the national "
                 "exchange system; the bot only drafts.")


def _summary(provider: Provider) -> list[Any]:
    accepts = ", ".join(provider.accepts) or "—"
    return [Bold(provider.name), f" ({provider.country}) · ",
            tr("accepts {forms}").format(forms=accepts), " · ",
            tr("checked {date}").format(date=provider.checked.isoformat())]


def _entry(reply: ReplyBuilder, provider: Provider, ctx: Context) -> None:
    reply.line(Bold(provider.name), f" ({provider.country})")
    details = [
        (N_("also known as: {value}"), ", ".join(provider.aliases) or None),
        (N_("address: {value}"), provider.address),
        (N_("law-enforcement e-mail: {value}"), provider.email),
        (N_("portal: {value}"), provider.portal),
        (N_("emergencies: {value}"), provider.emergency),
        (N_("accepts: {value}"), ", ".join(provider.accepts) or tr("no form listed")),
        (N_("notes: {value}"), provider.notes),
    ]
    for template, value in details:
        if value is not None:
            reply.line(tr(template).format(value=value))
    rep = provider.legal_representative
    if rep is not None:
        reply.line(tr("EU legal representative (addressee of EU orders): {name}, {address} "
                      "({country})").format(name=rep.name, address=rep.address,
                                            country=rep.country))
    else:
        reply.line(tr("EU legal representative: none listed"))
    reply.line(tr("last checked against its law-enforcement guidelines: {date}").format(
        date=provider.checked.isoformat()))
    age = (ctx.now.date() - provider.checked).days
    if age > STALE_DAYS:
        reply.line(trn("That check is {n} day old: re-check the provider's guidelines before "
                       "sending.",
                       "That check is {n} days old: re-check the provider's guidelines before "
                       "sending.", age).format(n=age))


@dataclass(frozen=True)
class ProviderArgs:
    name: str | None
    country: str | None


@command(
    "provider",
    params=[rest("name", argtypes.text(N_("provider"), max_len=120, metavar="NAME"),
                 required=False),
            key("country", argtypes.COUNTRY, help=N_("the entry in this country"))],
    summary=N_("where a request to a provider goes (the provider directory)"),
    examples=["!provider ExampleHost", "!provider ExampleCloud country=US"],
)
async def provider(ctx: Context, args: ProviderArgs) -> Reply:
    directory = providers.of(ctx.settings)
    reply = ReplyBuilder()
    if args.name is None:
        entries = [p for p in directory.entries()
                   if args.country is None or p.country == args.country]
        if not directory.entries():
            return reply.line(tr(
                "The provider directory is empty: the bot's operator lists providers in the "
                "file named by [forms] providers in the bot's configuration (see "
                "providers.example.toml).")).build()
        reply.heading(trn("Provider directory: {n} entry", "Provider directory: {n} entries",
                          len(entries)).format(n=len(entries)))
        reply.bullets([_summary(p) for p in entries])
        return reply.line(tr(NEVER_SENDS)).build()
    found = [p for p in directory.named(args.name)
             if args.country is None or p.country == args.country]
    if not found:
        raise CommandError(_missing(args.name, args.country, directory), show_usage=False)
    for entry in found:
        _entry(reply, entry, ctx)
    return reply.line(tr(NEVER_SENDS)).build()


def _missing(name: str, country: str | None, directory: providers.Directory) -> str:
    elsewhere = sorted({p.country for p in directory.named(name)})
    if elsewhere:
        return tr("{provider} is in the provider directory for {countries} only, not for "
                  "{country}.").format(provider=name, countries=", ".join(elsewhere),
                                      country=country)
    where = f"{name} ({country})" if country else name
    known = {n.casefold(): n for p in directory.entries() for n in p.names()}
    close = difflib.get_close_matches(name.casefold(), list(known), n=1, cutoff=0.7)
    if close:
        return tr("{provider} is not in the provider directory (did you mean {guess}?); ask "
                  "the bot's operator to add it to the providers file ([forms] providers in "
                  "the bot's configuration).").format(provider=where, guess=known[close[0]])
    return tr("{provider} is not in the provider directory; ask the bot's operator to add it "
              "to the providers file ([forms] providers in the bot's configuration)."
              ).format(provider=where)
