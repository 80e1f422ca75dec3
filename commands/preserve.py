"""/preserve: expedited-preservation and MLA requests, and when they run out.

Budapest Convention art. 29 preservation lasts at least 60 days, so without `expires=`
the request expires 60 days after it was sent (the reply says so). `expires=` takes a
time or a duration counted from `sent` (`+90d`). Reminders before expiry are the
scheduler's job (bot/scheduler.py).

A request names the identifiers it asks to preserve as seized items (S-n: `items=`,
`/preserve link`), each one audited row, so a draft form lists exactly those and /undo
takes one back. When the data turn out to be held in a third state (Budapest art. 30),
`from=P-n` makes the follow-the-hop request: it names its parent and carries the parent's
identifiers over (those of `items=` when given), its kind and its TLP unless given, since
it asks for the same data from the next provider.
A request drafted as a form knows its own extension (an EPOC-PR 30 days, a 2703(f) letter
90, each once), so `extended` needs no `expires=` there; `confirmed` (Regulation
2023/1543 Annex V: a production request followed) keeps it open without an expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from commands.core import argtypes, records, timeparse, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg, label
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import Choice, EnvFn, Fn, ParseEnv, command, key, pos, rest
from commands.core.timeparse import ParsedTime
from commands.core.types import CommandError, Reply
from commands.forms.deadlines import FORM_SHORT, extension
from storage import forms, preservations
from storage.codec import from_db_time, to_db_time
from storage.consultations import CONSULT
from storage.tx import Row

DEFAULT_DAYS = 60
STATUSES = ("sent", "acknowledged", "extended", "confirmed", "fulfilled", "expired",
            "withdrawn")


def _expiry(raw: str, env: ParseEnv) -> timeparse.ParsedTime | timedelta:
    """A duration (`+90d`, `90d`) is kept as such until `sent` is known."""
    text = raw.strip()
    try:
        return timeparse.parse_duration(text.lstrip("+"))
    except timeparse.TimeError:
        if text.startswith("+"):
            raise
    return timeparse.parse_time(text, now=env.now, zone=env.zone, hhour=env.hhour)


EXPIRES = EnvFn(_expiry, "TIME|+90d")


def _refs(raw: str) -> tuple[int, ...]:
    """`S-2,S-4` or `S-2 S-4`: the seized items named, each once, in the order typed."""
    words = raw.replace(",", " ").split()
    if not words:
        raise ValueError(tr("name at least one seized item, e.g. S-2"))
    return tuple(dict.fromkeys(validate.record_ref(word, "S") for word in words))


ITEMS = Fn(_refs, "S-N,…")


def _line(row: Row) -> list[Any]:
    ref = " " + tr("ref {ref}").format(ref=row["ref"]) if row["ref"] else ""
    return [Bold(label("preservations", row["seq"])), f" {row['kind']} {row['provider']} "
            f"({row['country']}){ref} [{row['status']}] · ",
            tr("expires {when}").format(when=dtg(row["expires_at"]))]


@dataclass(frozen=True)
class PreserveAddArgs:
    provider: str
    country: str
    ref: str | None
    sent: ParsedTime | None
    expires: ParsedTime | timedelta | None
    kind: str | None
    tlp: str | None
    items: tuple[int, ...] | None
    from_: int | None


@command(
    "preserve", "add",
    params=[
        pos("provider", argtypes.text(N_("provider"), max_len=120, metavar="PROVIDER")),
        key("country", argtypes.COUNTRY, required=True),
        key("ref", argtypes.text(N_("ref"), max_len=80)),
        key("sent", argtypes.TIME, help=N_("when the request was sent; default now")),
        key("expires", EXPIRES, help=N_("expiry time or duration after sent; default 60 days")),
        key("kind", Choice(("preservation", "mla"))),
        key("tlp", argtypes.TLP),
        key("items", ITEMS, help=N_("the seized items (S-n) whose data the request asks for")),
        key("from", argtypes.ref("P"),
            help=N_("the request this one follows when the data are held in a third state "
                    "(Budapest Convention art. 30); its items are carried over")),
    ],
    summary=N_("track an expedited-preservation or MLA request"),
    examples=["!preserve add ExampleHost country=US ref=2026-PR-17 expires=+90d items=S-2,S-4",
              "!preserve add ExampleTransit country=DE from=P-1"],
)
async def preserve_add(ctx: Context, args: PreserveAddArgs) -> Reply:
    parent = await records.get(ctx, "preservations", args.from_) if args.from_ else None
    if args.items is not None:
        named = await _seizures(ctx, args.items)
    elif parent is not None:
        named = await preservations.items(ctx.tx, parent["id"])
    else:
        named = []
    sent = args.sent.at if args.sent else ctx.now
    expires = args.expires
    defaulted = expires is None
    if expires is None:
        expires_at = sent + timedelta(days=DEFAULT_DAYS)
    elif isinstance(expires, timedelta):
        expires_at = sent + expires
    else:
        expires_at = expires.at
    if expires_at <= sent:
        raise CommandError(tr("expires= is not after sent="))
    row = await records.create(ctx, "preservations", {
        "kind": args.kind or (parent["kind"] if parent else "preservation"),
        "provider": args.provider, "country": args.country,
        "ref": args.ref, "sent_at": to_db_time(sent), "expires_at": to_db_time(expires_at),
        "status": "sent", "tlp": args.tlp or (parent["tlp"] if parent else None),
        "parent_id": parent["id"] if parent else None,
    })
    for item in named:
        await preservations.link(ctx.tx, row, item["id"], by=ctx.sender, at=ctx.stamp)
    reply = ReplyBuilder().line(*_listed(row, sorted(item["seq"] for item in named),
                                         parent["seq"] if parent else None))
    if defaulted:
        reply.line(trn("No expires= given: {n} day from sending (Budapest Convention art. 29 "
                       "minimum). Reminders 7 days and 1 day before.",
                       "No expires= given: {n} days from sending (Budapest Convention art. 29 "
                       "minimum). Reminders 7 days and 1 day before.",
                       DEFAULT_DAYS).format(n=DEFAULT_DAYS))
    return reply.build()


@dataclass(frozen=True)
class PreserveListArgs:
    which: str | None
    page: int | None


@command(
    "preserve", "list",
    params=[pos("which", Choice(("open", "all")), required=False), key("page", argtypes.PAGE)],
    shows=CONSULT,
    summary=N_("list preservation / MLA requests"),
)
async def preserve_list(ctx: Context, args: PreserveListArgs) -> Reply:
    op = ctx.require_op()
    which = args.which or "open"
    rows = await preservations.listing(ctx.tx, op["id"], open_only=which == "open")
    named = await preservations.item_seqs(ctx.tx, op["id"])
    parents = await preservations.parent_seqs(ctx.tx, op["id"])
    reply = ReplyBuilder().heading(
        tr("Preservation / MLA requests ({which}): {n}").format(which=which, n=len(rows)))
    reply.bullets([_listed(request, named.get(request["id"], []), parents.get(request["id"]))
                   for request in rows], page=args.page or 1,
                  more_hint=f"/preserve list {which}")
    return reply.build()


def _listed(row: Row, items: list[int], parent: int | None) -> list[Any]:
    """A request as /preserve add and list show it: which request it follows (← P-2) and
    the identifiers it names."""
    parts = _line(row)
    if parent is not None:
        parts.append(f" ← {label('preservations', parent)}")
    if items:
        parts.append(" · " + tr("items {refs}").format(
            refs=", ".join(label("seizures", seq) for seq in items)))
    return parts


async def _seizures(ctx: Context, seqs: tuple[int, ...]) -> list[Row]:
    """The seized items named, each checked to exist in this operation."""
    return [await records.get(ctx, "seizures", seq) for seq in seqs]


@dataclass(frozen=True)
class PreserveLinkArgs:
    request: int
    items: tuple[int, ...]


@command(
    "preserve", "link",
    params=[pos("request", argtypes.ref("P")), rest("items", ITEMS)],
    summary=N_("name seized items (S-n) on a preservation / MLA request"),
    examples=["!preserve link P-2 S-4 S-5"],
)
async def preserve_link(ctx: Context, args: PreserveLinkArgs) -> Reply:
    row = await records.get(ctx, "preservations", args.request)
    ref = label("preservations", row["seq"])
    ctx.require_owner(row, ref)
    named = await _seizures(ctx, args.items)
    already = [item for item in named
               if await preservations.link_of(ctx.tx, row["id"], item["id"]) is not None]
    if already:
        raise CommandError(trn(
            "{items} is already named on {ref}; nothing was changed",
            "{items} are already named on {ref}; nothing was changed", len(already)).format(
            items=", ".join(label("seizures", item["seq"]) for item in already), ref=ref),
            show_usage=False)
    for item in named:
        await preservations.link(ctx.tx, row, item["id"], by=ctx.sender, at=ctx.stamp)
    current = [item["seq"] for item in await preservations.items(ctx.tx, row["id"])]
    return ok(*fill(tr("{ref} now names {items}"), ref=Bold(ref),
                    items=", ".join(label("seizures", seq) for seq in current)))


@command(
    "preserve", "unlink",
    params=[pos("request", argtypes.ref("P")), rest("items", ITEMS)],
    summary=N_("take seized items (S-n) off a preservation / MLA request"),
    examples=["!preserve unlink P-2 S-5"],
)
async def preserve_unlink(ctx: Context, args: PreserveLinkArgs) -> Reply:
    row = await records.get(ctx, "preservations", args.request)
    ref = label("preservations", row["seq"])
    ctx.require_owner(row, ref)
    links = []
    for item in await _seizures(ctx, args.items):
        link = await preservations.link_of(ctx.tx, row["id"], item["id"])
        if link is None:
            raise CommandError(tr("{item} is not named on {ref}; nothing was changed").format(
                item=label("seizures", item["seq"]), ref=ref), show_usage=False)
        links.append(link)
    for link in links:
        await preservations.unlink(ctx.tx, link)
    current = [item["seq"] for item in await preservations.items(ctx.tx, row["id"])]
    if not current:
        return ok(*fill(tr("{ref} names no seized item now"), ref=Bold(ref)))
    return ok(*fill(tr("{ref} now names {items}"), ref=Bold(ref),
                    items=", ".join(label("seizures", seq) for seq in current)))


@dataclass(frozen=True)
class PreserveStatusArgs:
    request: int
    status: str
    expires: ParsedTime | timedelta | None


@command(
    "preserve", "status",
    params=[pos("request", argtypes.ref("P")), pos("status", Choice(STATUSES)),
            key("expires", EXPIRES, help=N_("new expiry when extended; without it, the "
                                            "extension the request's form allows (once)"))],
    summary=N_("update a preservation / MLA request"),
)
async def preserve_status(ctx: Context, args: PreserveStatusArgs) -> Reply:
    row = await records.get(ctx, "preservations", args.request)
    ctx.require_owner(row, label("preservations", row["seq"]))
    changes: dict[str, Any] = {"status": args.status}
    if args.expires is not None:
        if args.status != "extended":
            raise CommandError(tr("expires= goes with the status extended"))
        sent, current = from_db_time(row["sent_at"]), from_db_time(row["expires_at"])
        assert sent is not None and current is not None
        new = sent + args.expires if isinstance(args.expires, timedelta) else args.expires.at
        if new <= current:
            raise CommandError(tr("the new expiry is not later than the current one"))
        changes["expires_at"] = to_db_time(new)
    elif args.status == "extended":
        return await _extend_by_form(ctx, row)
    if args.status == "confirmed":
        await _confirmable(ctx, row)
    after = await records.change(ctx, "preservations", row, changes)
    if args.status == "confirmed":
        return ReplyBuilder().line(*_line(after)).line(tr(
            "{request} stays open and no longer expires: the data are kept until they are "
            "produced (Regulation (EU) 2023/1543 Annex V); no more expiry reminders.").format(
            request=label("preservations", after["seq"]))).build()
    return ok(*_line(after))


async def _extend_by_form(ctx: Context, row: Row) -> Reply:
    """`extended` without `expires=`: the extension the request's form allows, once, from
    the current expiry."""
    request = label("preservations", row["seq"])
    drafted = [(form, extension(form["form"]))
               for form in await forms.of_request(ctx.tx, row["id"])]
    extendable = [(form, by) for form, by in drafted if by is not None]
    if not extendable:
        raise CommandError(tr(
            "{request} has no form draft that sets its extension: give the new expiry, e.g. "
            "/preserve status {request} extended expires=+90d").format(request=request))
    form, by = extendable[0]
    name = FORM_SHORT[form["form"]]
    if row["status"] == "extended":
        raise CommandError(tr(
            "{request} is already extended: a preservation under {form} ({name}) is extended "
            "once only; nothing was changed").format(
            request=request, form=label("forms", form["seq"]), name=name))
    current = from_db_time(row["expires_at"])
    assert current is not None
    after = await records.change(ctx, "preservations", row, {
        "status": "extended", "expires_at": to_db_time(current + by)})
    return ReplyBuilder().line(*_line(after)).line(trn(
        "Extended by {n} day from the previous expiry, as {form} ({name}) allows once.",
        "Extended by {n} days from the previous expiry, as {form} ({name}) allows once.",
        by.days).format(n=by.days, form=label("forms", form["seq"]), name=name)).build()


async def _confirmable(ctx: Context, row: Row) -> None:
    """A 2703(f) preservation runs 90 days (renewable once) whatever process follows, so
    only a request with another form (or none) can be kept until production."""
    drafted = await forms.of_request(ctx.tx, row["id"])
    if drafted and all(form["form"] == "2703f" for form in drafted):
        raise CommandError(tr(
            "{request} is a 2703f preservation: it lasts 90 days, renewable once by 90, "
            "whatever request follows; extend it (/preserve status {request} extended) "
            "instead of confirming it").format(request=label("preservations", row["seq"])))
