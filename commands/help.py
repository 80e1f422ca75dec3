"""/help: generated from the command declarations, so it cannot drift from the grammar."""

from __future__ import annotations

from typing import Any

from commands import spec
from commands.context import CommandError, Context, Reply
from commands.reply import B, C, ReplyBuilder
from commands.spec import Fn, command, pos


def _topic(raw: str) -> str:
    word = raw.strip().lstrip("/!").lower()
    if not word:
        raise ValueError("name a command, e.g. task")
    return word


@command(
    "help",
    params=[pos("command", Fn(_topic, "command"), required=False)],
    summary="show usage",
    needs_op=False,
)
async def help_command(ctx: Context, a: dict[str, Any]) -> Reply:
    topic = a["command"]
    r = ReplyBuilder()
    if topic is None:
        r.heading("opsroom commands (start with ! or /)")
        for name in spec.top_level_names():
            cmds = spec.subcommands(name)
            r.line(C(f"!{name}"), " — ", "; ".join(c.summary for c in cmds))
        r.line("Details: ", C("!help task"), ". Times: 2026-11-25T04:00Z, "
               "\"2026-11-25 05:00 Europe/Paris\", 250400ZNOV26, now, in 2h, +30m, H-1h, H+30m.")
        return r.build()
    cmds = spec.subcommands(topic)
    if not cmds:
        hint = spec.suggest(topic)
        did = f" Did you mean {hint}?" if hint else ""
        raise CommandError(f"no command /{topic}.{did}", show_usage=False)
    r.heading(f"/{topic}")
    for cmd in cmds:
        r.line(C(cmd.usage), " — ", cmd.summary,
               " (lead)" if cmd.role is spec.Role.LEAD else "")
        for p in cmd.params:
            if p.help:
                r.line("   ", B(p.usage().strip("[]")), ": ", p.help)
        for example in cmd.examples:
            r.line("   e.g. ", C(example))
    return r.build()
