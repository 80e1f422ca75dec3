"""/asset and /tally: the numbers press releases count.

Amounts are Decimal (stored as text) so 0.1 BTC + 0.2 BTC is exactly 0.3 BTC. Tallies are
an append-only list of +N/-N entries per kind, so each count stays auditable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from commands.core import argtypes, records
from commands.core.context import Context
from commands.core.i18n import N_, money, tr
from commands.core.records import label
from commands.core.reply import Bold, ReplyBuilder, fill, ok
from commands.core.spec import Choice, Fn, NoArgs, command, key, pos
from commands.core.types import CommandError, Reply
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import assets, tallies
from storage.consultations import CONSULT

TALLY_KINDS = ("searches", "suspects", "victims-identified", "victims-notified",
               "accounts-blocked", "warrants", "notices", "intel-reports", "decryption-keys")
NOTE = argtypes.text(N_("note"), max_len=200, metavar=N_('"note"'))


@dataclass(frozen=True)
class AssetArgs:
    action: str
    amount: Decimal
    currency: str
    note: str | None
    country: str | None
    agency: str | None
    tlp: str | None


@command(
    "asset",
    params=[
        pos("action", Choice(("frozen", "seized"))),
        pos("amount", argtypes.AMOUNT),
        pos("currency", argtypes.CURRENCY),
        pos("note", NOTE, required=False),
        key("country", argtypes.COUNTRY),
        key("agency", argtypes.AGENCY),
        key("tlp", argtypes.TLP),
    ],
    summary=N_("record frozen or seized assets (fiat or crypto)"),
    examples=["!asset seized 2.5 BTC country=NL agency=NL-NHTCU", "!asset frozen 120000 EUR"],
)
async def asset(ctx: Context, args: AssetArgs) -> Reply:
    if args.agency:
        await records.require_agency(ctx, args.agency)
    agency = args.agency or (ctx.agency["code"] if ctx.agency else None)
    row = await records.create(ctx, "assets", {
        "action": args.action, "amount": str(args.amount), "currency": args.currency,
        "country": args.country, "agency": agency, "note": args.note, "tlp": args.tlp,
    })
    total = await assets.total(ctx.tx, row["op_id"], row["action"], row["currency"])
    return ok(*fill(tr("{ref} {amount} {action} · {action} in total: {total}"),
                    ref=Bold(label("assets", row["seq"])),
                    amount=money(Decimal(row["amount"]), row["currency"]),
                    action=row["action"], total=money(total, row["currency"])))


@dataclass(frozen=True)
class AssetListArgs:
    page: int | None
    held: str | None


@command("asset", "list", shows=CONSULT,
         params=[key("page", argtypes.PAGE), key("held", SHOW_HELD, help=HELD_HELP)],
         summary=N_("list frozen and seized assets"))
async def asset_list(ctx: Context, args: AssetListArgs) -> Reply:
    op = ctx.require_op()
    rows = await assets.listing(ctx.tx, op["id"])
    totals: dict[tuple[str, str], Decimal] = {}
    for item in rows:
        action_currency = (item["action"], item["currency"])
        totals[action_currency] = totals.get(action_currency, Decimal(0)) + Decimal(item["amount"])
    summed = ", ".join(f"{money(amount, currency)} {action}"
                       for (action, currency), amount in sorted(totals.items()))
    reply = ReplyBuilder().heading(tr("Assets: {totals}").format(totals=summed or tr("none")))
    rows, held = await unheld(ctx, "assets", rows, args.held)  # the totals count them all
    reply.bullets([[Bold(label("assets", item["seq"])),
                    f" {item['action']} "
                    f"{money(Decimal(item['amount']), item['currency'])}",
                    f" · {item['country']}" if item["country"] else "",
                    f" · {item['agency']}" if item["agency"] else "",
                    f" · {item['note']}" if item["note"] else ""] for item in rows],
                  page=args.page or 1, more_hint="/asset list")
    return left_out(reply, held).build()


def _delta(raw: str) -> int:
    text = raw.strip()
    body = text[1:] if text[:1] in "+-" else text
    if not body.isdigit() or len(body) > 7:
        raise ValueError(tr("{value} is not a count like +3 (or -1 to correct)").format(
            value=repr(raw)))
    value = int(body) * (-1 if text.startswith("-") else 1)
    if value == 0:
        raise ValueError(tr("a tally change of 0 changes nothing"))
    return value


@dataclass(frozen=True)
class TallyArgs:
    kind: str
    delta: int
    note: str | None
    country: str | None
    tlp: str | None


@command(
    "tally",
    params=[
        pos("kind", Choice(TALLY_KINDS)),
        pos("delta", Fn(_delta, "+N")),
        pos("note", NOTE, required=False),
        key("country", argtypes.COUNTRY),
        key("tlp", argtypes.TLP),
    ],
    summary=N_("count searches, suspects, victims, accounts blocked, warrants …"),
    examples=["!tally searches +12 country=DE", '!tally victims-notified +250 "bank letters"'],
)
async def tally(ctx: Context, args: TallyArgs) -> Reply:
    op = ctx.require_op()
    current = await tallies.total(ctx.tx, op["id"], args.kind)
    if current + args.delta < 0:
        raise CommandError(tr("{kind} would drop below zero (it is {n})").format(
            kind=args.kind, n=current), show_usage=False)
    await records.create(ctx, "tallies", {"kind": args.kind, "delta": args.delta,
                                          "country": args.country, "note": args.note,
                                          "tlp": args.tlp})
    return ok(Bold(args.kind), f" {args.delta:+d} → {current + args.delta}")


@command("tally", "list", shows=CONSULT, summary=N_("show the tallies"))
async def tally_list(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    rows = await tallies.totals(ctx.tx, op["id"])
    reply = ReplyBuilder().heading(tr("Tallies"))
    reply.bullets([[Bold(row["kind"]), f" {row['total']}"] for row in rows])
    return reply.build()
