"""/export: the operation as a file in the room (md by default, at the operation's TLP).

In a partner room it is the partner's part only, at the link's TLP at most, in the formats a
partner's tools import (stix, misp, csv): what a lead assigned to them, under the alias
(exports/snapshot.py makes that selection). md, json and pdf are the police's reports of
the whole operation and are refused there, with the reason.

The file is built after the command's transaction, from a read-only snapshot and in a
worker process (exports.build), so a 100,000-record export does not stall other commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from commands.core import argtypes, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import Bold, Code, ReplyBuilder, fill
from commands.core.spec import Choice, Where, command, key, pos
from commands.core.types import CommandError, Exporter, ExportRefused, Reply
from commands.retention import HELD_HELP, SHOW_HELD, shown_counts
from storage.consultations import DISCLOSE

FORMATS = ("md", "json", "csv", "stix", "misp", "pdf")
PARTNER_FORMATS = ("stix", "misp", "csv")


def partner_format_refusal(fmt: str | None) -> str:
    """Why a partner room gets no md, json or pdf (also said by the export worker, which
    checks it again for `opsroom export` on a partner room)."""
    formats = ", ".join(PARTNER_FORMATS)
    if fmt is None:
        return tr("in a partner room, name the format: {formats}").format(formats=formats)
    return tr("a partner room receives only its assigned items as {formats}: {format} is the "
              "police's report of the whole operation, and is not made here").format(
        formats=formats, format=fmt)


def partner_level_refusal(level: str, most: str) -> str:
    return tr("this room receives records at or below TLP:{most} only; TLP:{level} is above "
              "it").format(most=most, level=level)


@dataclass(frozen=True)
class ExportArgs:
    format: str | None
    tlp: str | None
    held: str | None


@command(
    "export",
    shows=DISCLOSE, params=[pos("format", Choice(FORMATS), required=False),
            key("tlp", argtypes.TLP, help=N_("export only records at or below this level")),
            key("held", SHOW_HELD, help=HELD_HELP)],
    summary=N_("export the operation as an encrypted file in the room"),
    examples=["!export pdf tlp=GREEN", "!export stix", "!export misp tlp=AMBER"],
    where=Where.BOTH,
)
async def export(ctx: Context, args: ExportArgs) -> Reply:
    if ctx.partner is not None:
        if args.format not in PARTNER_FORMATS:
            raise CommandError(partner_format_refusal(args.format), show_usage=False)
        fmt, level = args.format, args.tlp or ctx.partner["tlp"]
        if validate.tlp_rank(level) > validate.tlp_rank(ctx.partner["tlp"]):
            raise CommandError(partner_level_refusal(level, ctx.partner["tlp"]),
                               show_usage=False)
    else:
        op = ctx.require_op()
        fmt, level = args.format or "md", args.tlp or op["tlp"]
    if ctx.exporter is None:
        raise CommandError(tr("this bot cannot build export files (no exporter configured)"),
                           show_usage=False)
    placeholder = ReplyBuilder().line(*fill(tr("Export {format} at TLP:{level} requested"),
                                            format=Code(fmt), level=level)).build()
    held = args.held == "yes" and ctx.partner is None  # a partner is never shown held data
    placeholder.redo = {"export": fmt, "tlp": level, **({"held": "yes"} if held else {})}
    placeholder.after_commit = builder(ctx.exporter, ctx.msg.room_id, fmt, level,
                                       lambda: ctx.now, held=held)
    return placeholder


def builder(exporter: Exporter, room_id: str, fmt: str, level: str,
            now: Callable[[], datetime], *, held: bool = False
            ) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /export, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the file was sent."""

    async def build() -> Reply:
        try:
            attachment, summary = await (exporter(room_id, fmt, level, now(), held=True)
                                         if held else exporter(room_id, fmt, level, now()))
        except ExportRefused as refused:  # records changed behind the audit log
            return ReplyBuilder().line("❌ ", refused.message).build(ok=False)
        report = ReplyBuilder().line(*fill(
            trn("{file} · {n} record at or below TLP:{tlp}",
                "{file} · {n} records at or below TLP:{tlp}", summary.total),
            file=Bold(attachment.filename), n=str(summary.total), tlp=summary.tlp))
        if summary.left_out:
            report.line(tr("Left out, changed behind the audit log (acknowledged by a lead): "
                           "{refs}.").format(refs=", ".join(summary.left_out)))
        if summary.audit_withheld:
            report.line(trn("{n} audit entry is left out: it holds records above TLP:{tlp}.",
                            "{n} audit entries are left out: they hold records above TLP:{tlp}.",
                            summary.audit_withheld).format(n=summary.audit_withheld,
                                                           tlp=summary.tlp))
        if summary.held_left_out:
            report.line(*shown_counts(summary.held_left_out))
        made = report.build(attachment=attachment)
        made.shown = summary.total
        return made

    return build


@remakes("export")
def _export_again(services: Services, stored: dict[str, str]) -> SlowPart | None:
    if services.exporter is None:
        return None
    return builder(services.exporter, services.room_id, stored["export"], stored["tlp"],
                   services.now, held=stored.get("held") == "yes")
