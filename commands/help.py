"""/help: generated from the command declarations, so it cannot drift from the grammar."""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import spec
from commands.core.context import Context
from commands.core.i18n import N_
from commands.core.reply import Bold, Code, ReplyBuilder
from commands.core.spec import Fn, command, pos
from commands.core.types import CommandError, Reply


def _topic(raw: str) -> str:
    word = raw.strip().lstrip("/!").lower()
    if not word:
        raise ValueError("name a command, e.g. task")
    return word


@dataclass(frozen=True)
class HelpArgs:
    command: str | None


@command(
    "help",
    params=[pos("command", Fn(_topic, "command"), required=False)],
    summary=N_("show usage"),
    needs_op=False,
)
async def help_command(ctx: Context, args: HelpArgs) -> Reply:
    topic = args.command
    reply = ReplyBuilder()
    if topic is None:
        reply.heading("opsroom commands (start with ! or /)")
        for name in spec.top_level_names():
            cmds = spec.subcommands(name)
            reply.line(Code(f"!{name}"), " — ", "; ".join(cmd.summary for cmd in cmds))
        reply.line("Details: ", Code("!help task"), ". Times: 2026-11-25T04:00Z, "
                   "\"2026-11-25 05:00 Europe/Paris\", 250400ZNOV26, now, in 2h, +30m, H-1h, "
                   "H+30m.")
        return reply.build()
    cmds = spec.subcommands(topic)
    if not cmds:
        hint = spec.suggest(topic)
        did = f" Did you mean {hint}?" if hint else ""
        raise CommandError(f"no command /{topic}.{did}", show_usage=False)
    reply.heading(f"/{topic}")
    for cmd in cmds:
        reply.line(Code(cmd.usage), " — ", cmd.summary,
                   " (lead)" if cmd.role is spec.Role.LEAD else "")
        for param in cmd.params:
            if param.help:
                reply.line("   ", Bold(param.usage().strip("[]")), ": ", param.help)
        for example in cmd.examples:
            reply.line("   e.g. ", Code(example))
    return reply.build()
