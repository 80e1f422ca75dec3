"""/asset and /tally: the numbers press releases count.

Amounts are Decimal (stored as text) so 0.1 BTC + 0.2 BTC is exactly 0.3 BTC. Tallies are
an append-only list of +N/-N entries per kind, so each count stays auditable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from commands import args as A
from commands import records
from commands.context import CommandError, Context, Reply
from commands.records import label
from commands.reply import B, ReplyBuilder, ok
from commands.spec import Choice, Fn, command, key, pos

TALLY_KINDS = ("searches", "suspects", "victims-identified", "victims-notified",
               "accounts-blocked", "warrants", "notices", "intel-reports", "decryption-keys")


@command(
    "asset",
    params=[
        pos("action", Choice(("frozen", "seized"))),
        pos("amount", A.AMOUNT),
        pos("currency", A.CURRENCY),
        pos("note", A.text("note", max_len=200, metavar='"note"'), required=False),
        key("country", A.COUNTRY),
        key("agency", A.AGENCY),
        key("tlp", A.TLP),
    ],
    summary="record frozen or seized assets (fiat or crypto)",
    examples=["!asset seized 2.5 BTC country=NL agency=NL-NHTCU", "!asset frozen 120000 EUR"],
)
async def asset(ctx: Context, a: dict[str, Any]) -> Reply:
    if a["agency"]:
        await records.require_agency(ctx, a["agency"])
    agency = a["agency"] or (ctx.agency["code"] if ctx.agency else None)
    row = await records.create(ctx, "assets", {
        "action": a["action"], "amount": str(a["amount"]), "currency": a["currency"],
        "country": a["country"], "agency": agency, "note": a["note"], "tlp": a["tlp"],
    })
    amounts = await ctx.tx.all("SELECT amount FROM assets WHERE op_id=? AND action=? AND "
                               "currency=?", (row["op_id"], row["action"], row["currency"]))
    total = sum((Decimal(x["amount"]) for x in amounts), Decimal(0))
    return ok(B(label("assets", row["seq"])), f" {row['amount']} {row['currency']} {row['action']}"
              f" · {row['action']} in total: {total} {row['currency']}")


@command("asset", "list", params=[key("page", A.PAGE)], summary="list frozen and seized assets")
async def asset_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    rows = await ctx.tx.all("SELECT * FROM assets WHERE op_id=? ORDER BY seq", (op["id"],))
    totals: dict[tuple[str, str], Decimal] = {}
    for x in rows:
        k = (x["action"], x["currency"])
        totals[k] = totals.get(k, Decimal(0)) + Decimal(x["amount"])
    r = ReplyBuilder().heading("Assets: " + (", ".join(
        f"{v} {c} {act}" for (act, c), v in sorted(totals.items())) or "none"))
    r.bullets([[B(label("assets", x["seq"])), f" {x['action']} {x['amount']} {x['currency']}",
                f" · {x['country']}" if x["country"] else "",
                f" · {x['agency']}" if x["agency"] else "",
                f" · {x['note']}" if x["note"] else ""] for x in rows],
              page=a["page"] or 1, more_hint="/asset list")
    return r.build()


def _delta(raw: str) -> int:
    s = raw.strip()
    body = s[1:] if s[:1] in "+-" else s
    if not body.isdigit() or len(body) > 7:
        raise ValueError(f"{raw!r} is not a count like +3 (or -1 to correct)")
    value = int(body) * (-1 if s.startswith("-") else 1)
    if value == 0:
        raise ValueError("a tally change of 0 changes nothing")
    return value


@command(
    "tally",
    params=[
        pos("kind", Choice(TALLY_KINDS)),
        pos("delta", Fn(_delta, "+N")),
        pos("note", A.text("note", max_len=200, metavar='"note"'), required=False),
        key("country", A.COUNTRY),
        key("tlp", A.TLP),
    ],
    summary="count searches, suspects, victims, accounts blocked, warrants …",
    examples=["!tally searches +12 country=DE", '!tally victims-notified +250 "bank letters"'],
)
async def tally(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    current = await ctx.tx.scalar("SELECT COALESCE(SUM(delta), 0) FROM tallies WHERE op_id=? "
                                  "AND kind=?", (op["id"], a["kind"]))
    if current + a["delta"] < 0:
        raise CommandError(f"{a['kind']} would drop below zero (it is {current})",
                           show_usage=False)
    await records.create(ctx, "tallies", {"kind": a["kind"], "delta": a["delta"],
                                          "country": a["country"], "note": a["note"],
                                          "tlp": a["tlp"]})
    return ok(B(a["kind"]), f" {a['delta']:+d} → {current + a['delta']}")


@command("tally", "list", summary="show the tallies")
async def tally_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    rows = await ctx.tx.all("SELECT kind, SUM(delta) AS total FROM tallies WHERE op_id=? "
                            "GROUP BY kind ORDER BY kind", (op["id"],))
    r = ReplyBuilder().heading("Tallies")
    r.bullets([[B(x["kind"]), f" {x['total']}"] for x in rows])
    return r.build()
