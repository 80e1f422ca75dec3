"""/preserve: expedited-preservation and MLA requests, and when they run out.

Budapest Convention art. 29 preservation lasts at least 60 days, so without `expires=`
the request expires 60 days after it was sent (the reply says so). `expires=` takes a
time or a duration counted from `sent` (`+90d`). Reminders before expiry are the
scheduler's job (bot/scheduler.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from commands import args as A
from commands import records, timeparse
from commands.context import CommandError, Context, Reply
from commands.records import dtg, label
from commands.reply import B, ReplyBuilder, ok
from commands.spec import Choice, EnvFn, ParseEnv, command, key, pos
from storage.codec import from_db_time, to_db_time

DEFAULT_DAYS = 60
STATUSES = ("sent", "acknowledged", "extended", "fulfilled", "expired", "withdrawn")
OPEN = ("sent", "acknowledged", "extended")


def _expiry(raw: str, env: ParseEnv) -> timeparse.ParsedTime | timedelta:
    """A duration (`+90d`, `90d`) is kept as such until `sent` is known."""
    s = raw.strip()
    try:
        return timeparse.parse_duration(s.lstrip("+"))
    except timeparse.TimeError:
        if s.startswith("+"):
            raise
    return timeparse.parse_time(s, now=env.now, zone=env.zone, hhour=env.hhour)


EXPIRES = EnvFn(_expiry, "TIME|+90d")


def _line(row: dict) -> list[Any]:
    ref = f" ref {row['ref']}" if row["ref"] else ""
    return [B(label("preservations", row["seq"])), f" {row['kind']} {row['provider']} "
            f"({row['country']}){ref} [{row['status']}] · expires {dtg(row['expires_at'])}"]


@command(
    "preserve", "add",
    params=[
        pos("provider", A.text("provider", max_len=120, metavar="PROVIDER")),
        key("country", A.COUNTRY, required=True),
        key("ref", A.text("ref", max_len=80)),
        key("sent", A.TIME, help="when the request was sent; default now"),
        key("expires", EXPIRES, help="expiry time or duration after sent; default 60 days"),
        key("kind", Choice(("preservation", "mla"))),
        key("tlp", A.TLP),
    ],
    summary="track an expedited-preservation or MLA request",
    examples=["!preserve add ExampleHost country=US ref=2026-PR-17 expires=+90d"],
)
async def preserve_add(ctx: Context, a: dict[str, Any]) -> Reply:
    sent = a["sent"].at if a["sent"] else ctx.now
    expires = a["expires"]
    defaulted = expires is None
    if expires is None:
        expires_at = sent + timedelta(days=DEFAULT_DAYS)
    elif isinstance(expires, timedelta):
        expires_at = sent + expires
    else:
        expires_at = expires.at
    if expires_at <= sent:
        raise CommandError("expires= is not after sent=")
    row = await records.create(ctx, "preservations", {
        "kind": a["kind"] or "preservation", "provider": a["provider"], "country": a["country"],
        "ref": a["ref"], "sent_at": to_db_time(sent), "expires_at": to_db_time(expires_at),
        "status": "sent", "tlp": a["tlp"],
    })
    r = ReplyBuilder().line(*_line(row))
    if defaulted:
        r.line(f"No expires= given: {DEFAULT_DAYS} days from sending (Budapest Convention "
               "art. 29 minimum). Reminders 7 days and 1 day before.")
    return r.build()


@command(
    "preserve", "list",
    params=[pos("which", Choice(("open", "all")), required=False), key("page", A.PAGE)],
    summary="list preservation / MLA requests",
)
async def preserve_list(ctx: Context, a: dict[str, Any]) -> Reply:
    op = ctx.require_op()
    which = a["which"] or "open"
    sql = "SELECT * FROM preservations WHERE op_id=?"
    if which == "open":
        sql += f" AND status IN ({', '.join(repr(s) for s in OPEN)})"
    rows = await ctx.tx.all(sql + " ORDER BY expires_at, seq", (op["id"],))
    r = ReplyBuilder().heading(f"Preservation / MLA requests ({which}): {len(rows)}")
    r.bullets([_line(x) for x in rows], page=a["page"] or 1, more_hint=f"/preserve list {which}")
    return r.build()


@command(
    "preserve", "status",
    params=[pos("request", A.ref("P")), pos("status", Choice(STATUSES)),
            key("expires", EXPIRES, help="new expiry when extended")],
    summary="update a preservation / MLA request",
)
async def preserve_status(ctx: Context, a: dict[str, Any]) -> Reply:
    row = await records.get(ctx, "preservations", a["request"])
    ctx.require_owner(row, label("preservations", row["seq"]))
    changes: dict[str, Any] = {"status": a["status"]}
    if a["expires"] is not None:
        if a["status"] != "extended":
            raise CommandError("expires= goes with the status extended")
        sent = from_db_time(row["sent_at"])
        assert sent is not None
        new = sent + a["expires"] if isinstance(a["expires"], timedelta) else a["expires"].at
        if new <= from_db_time(row["expires_at"]):  # type: ignore[operator]
            raise CommandError("the new expiry is not later than the current one")
        changes["expires_at"] = to_db_time(new)
    after = await records.change(ctx, "preservations", row, changes)
    return ok(*_line(after))
