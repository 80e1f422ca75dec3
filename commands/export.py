"""/export: the operation as a file in the room (md by default, at the operation's TLP).

The file is built after the command's transaction, from a read-only snapshot and in a
worker process (exports.build), so a 100,000-record export does not stall other commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from commands.core import argtypes
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import Bold, Code, ReplyBuilder, fill
from commands.core.spec import Choice, command, key, pos
from commands.core.types import CommandError, Exporter, ExportRefused, Reply

FORMATS = ("md", "json", "csv", "stix", "misp", "pdf")


@dataclass(frozen=True)
class ExportArgs:
    format: str | None
    tlp: str | None


@command(
    "export",
    params=[pos("format", Choice(FORMATS), required=False),
            key("tlp", argtypes.TLP, help=N_("export only records at or below this level"))],
    summary=N_("export the operation as an encrypted file in the room"),
    examples=["!export pdf tlp=GREEN", "!export stix", "!export misp tlp=AMBER"],
)
async def export(ctx: Context, args: ExportArgs) -> Reply:
    op = ctx.require_op()
    fmt = args.format or "md"
    level = args.tlp or op["tlp"]
    if ctx.exporter is None:
        raise CommandError(tr("this bot cannot build export files (no exporter configured)"),
                           show_usage=False)
    placeholder = ReplyBuilder().line(*fill(tr("Export {format} at TLP:{level} requested"),
                                            format=Code(fmt), level=level)).build()
    placeholder.redo = {"export": fmt, "tlp": level}
    placeholder.after_commit = builder(ctx.exporter, ctx.msg.room_id, fmt, level,
                                       lambda: ctx.now)
    return placeholder


def builder(exporter: Exporter, room_id: str, fmt: str, level: str,
            now: Callable[[], datetime]) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /export, run after the command committed — or again, from the
    stored `redo`, when the bot restarted before the file was sent."""

    async def build() -> Reply:
        try:
            attachment, summary = await exporter(room_id, fmt, level, now())
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
        return report.build(attachment=attachment)

    return build


@remakes("export")
def _export_again(services: Services, stored: dict[str, str]) -> SlowPart | None:
    if services.exporter is None:
        return None
    return builder(services.exporter, services.room_id, stored["export"], stored["tlp"],
                   services.now)
