"""/help: generated from the command declarations, so it cannot drift from the grammar."""

from __future__ import annotations

from dataclasses import dataclass

from commands.core import spec
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.reply import Bold, Code, ReplyBuilder, fill
from commands.core.spec import Fn, command, pos
from commands.core.types import CommandError, Reply


def _topic(raw: str) -> str:
    word = raw.strip().lstrip("/!").lower()
    if not word:
        raise ValueError(tr("name a command, e.g. task"))
    return word


@dataclass(frozen=True)
class HelpArgs:
    command: str | None


@command(
    "help",
    params=[pos("command", Fn(_topic, N_("command")), required=False)],
    summary=N_("show usage"),
    needs_op=False,
)
async def help_command(ctx: Context, args: HelpArgs) -> Reply:
    topic = args.command
    reply = ReplyBuilder()
    if topic is None:
        reply.heading(tr("opsroom commands (start with ! or /)"))
        for name in spec.top_level_names():
            cmds = spec.subcommands(name)
            reply.line(Code(f"!{name}"), " — ", "; ".join(tr(cmd.summary) for cmd in cmds))
        # The time expressions are typed as they are in every language.
        reply.line(*fill(tr("Details: {example}. Times: 2026-11-25T04:00Z, "
                            "\"2026-11-25 05:00 Europe/Paris\", 250400ZNOV26, now, in 2h, "
                            "+30m, H-1h, H+30m."), example=Code("!help task")))
        return reply.build()
    cmds = spec.subcommands(topic)
    if not cmds:
        hint = spec.suggest(topic)
        missing = (tr("no command {command}. Did you mean {meant}?") if hint
                   else tr("no command {command}."))
        raise CommandError(missing.format(command=f"/{topic}", meant=hint), show_usage=False)
    reply.heading(f"/{topic}")
    for cmd in cmds:
        line = (tr("{usage} — {summary} (lead)") if cmd.role is spec.Role.LEAD
                else tr("{usage} — {summary}"))
        reply.line(*fill(line, usage=Code(cmd.usage), summary=tr(cmd.summary)))
        for param in cmd.params:
            if param.help:
                reply.line("   ", *fill(tr("{param}: {help}"),
                                        param=Bold(param.usage().strip("[]")),
                                        help=tr(param.help)))
        for example in cmd.examples:
            reply.line("   ", *fill(tr("e.g. {example}"), example=Code(example)))
    return reply.build()
