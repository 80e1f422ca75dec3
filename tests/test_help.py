"""/help, usage lines and "did you mean": all generated from the declarations, so these
tests walk the registry instead of repeating what it says."""

from __future__ import annotations

import pytest

from commands.core import registry, spec
from tests.harness import OFFICER, Harness

registry.load()
TOP_LEVEL = spec.top_level_names()


async def test_help_lists_every_registered_top_level_command(h: Harness) -> None:
    reply = await h.ok("!help", sender=OFFICER)
    lines = reply.text.splitlines()
    for name in TOP_LEVEL:
        [line] = [x for x in lines if x.startswith(f"!{name} — ")]
        for cmd in spec.subcommands(name):
            assert cmd.summary in line
    assert f"<code>!{TOP_LEVEL[0]}</code>" in reply.html


async def test_help_works_before_an_operation_exists(bare: Harness) -> None:
    assert "opsroom commands" in (await bare.ok("!help", sender=OFFICER)).text
    assert "/op init" in (await bare.ok("/help op", sender=OFFICER)).text


@pytest.mark.parametrize("name", TOP_LEVEL)
async def test_help_topic_shows_each_usage_and_marks_lead_commands(h: Harness, name: str
                                                                   ) -> None:
    reply = await h.ok(f"!help {name}", sender=OFFICER)
    lines = reply.text.splitlines()
    assert lines[0] == f"/{name}"
    for cmd in spec.subcommands(name):
        [line] = [x for x in lines if x.startswith(f"{cmd.usage} — ")]
        assert line.endswith(" (lead)") == (cmd.role is spec.Role.LEAD)
        for example in cmd.examples:
            assert f"   e.g. {example}" in lines
    # usages are code in the HTML and escaped like everything else
    for cmd in spec.subcommands(name):
        assert f"<code>{cmd.usage.replace('&', '&amp;').replace('<', '&lt;')}</code>" in (
            reply.html)


async def test_help_accepts_a_prefixed_topic(h: Harness) -> None:
    assert (await h.ok("!help /task")).text == (await h.ok("!help !task")).text


@pytest.mark.parametrize(("line", "expected"), [
    ("!tsak list", "unknown command /tsak. Did you mean /task?"),
    ("!takedwon add x", "Did you mean /takedown?"),
    ("/hhuor", "Did you mean /hhour?"),
    ("!rolcall", "Did you mean /rollcall?"),
    ("!help tsak", "no command /tsak. Did you mean task?"),
    ("!task lsit", "/task needs one of (did you mean /task list?)"),
    ("!op phse action", "(did you mean /op phase?)"),
    ("!takedown lst", "(did you mean /takedown list?)"),
])
async def test_unknown_commands_get_did_you_mean(h: Harness, line: str, expected: str) -> None:
    assert expected in (await h.fails(line, sender=OFFICER)).text


async def test_nothing_like_any_command(h: Harness) -> None:
    reply = await h.fails("!xyzzy", sender=OFFICER)
    assert reply.text == "⚠️ unknown command /xyzzy. Type !help for the list."


async def test_a_group_without_a_subcommand_lists_all_of_them(h: Harness) -> None:
    reply = await h.fails("!task", sender=OFFICER)
    for cmd in spec.subcommands("task"):
        assert cmd.usage in reply.text.splitlines()
    # one line per usage in HTML too, not one run-on line
    assert reply.html.count("<br>") == len(spec.subcommands("task"))


# One malformed call per declared command: the usage in the error reply is exactly the
# declaration's usage, so no hand-written copy can drift.
BAD_CALL = {
    ("retention",): "!retention now",
    ("retention", "set"): "!retention set suspects 1y",
    ("retention", "extend"): "!retention extend suspect +1y",
    ("hold", "add"): '!hold add "123 Js 45/25" P-1',
    ("hold", "list"): "!hold list now",
    ("hold", "release"): "!hold release X-1",
    ("agency", "add"): "!agency add NL-POL country=NL tz=Mars/Base",
    ("agency", "list"): "!agency list page=x",
    ("lang",): "!lang klingon",
    ("op", "lang"): "!op lang xx",
    ("arrest", "add"): "!arrest add X1 country=XX agency=DE-BKA",
    ("arrest", "list"): "!arrest list country=XX",
    ("asset",): "!asset frozen lots EUR",
    ("asset", "list"): "!asset list page=0",
    ("audit", "accept"): "!audit accept all",
    ("audit", "verify"): "!audit verify now",
    ("board",): "!board now",
    ("deconflict", "list"): "!deconflict list page=0",
    ("deconflict", "red"): "!deconflict red maybe",
    ("deconflict", "share"): "!deconflict share",
    ("export",): "!export docx",
    ("help",): "!help task add",
    ("hhour",): "!hhour yesterday-ish",
    ("member",): "!member @x:y.example",
    ("notready",): "!notready",
    ("op",): "!op extra",
    ("op", "init"): '!op init "X" code=1',
    ("op", "phase"): "!op phase done",
    ("preserve", "add"): "!preserve add Google",
    ("preserve", "list"): "!preserve list some",
    ("preserve", "status"): "!preserve status P-1 lost",
    ("preserve", "link"): "!preserve link P-1",
    ("preserve", "draft"): "!preserve draft P-1 form=epoc-xx",
    ("partner", "link"): '!partner link nowhere name="X"',
    ("partner", "assign"): '!partner assign "Example Hosting"',
    ("partner", "unlink"): "!partner unlink",
    ("partner", "list"): "!partner list now",
    ("done",): "!done K-1",
    ("failed",): "!failed K-1",
    ("ack",): "!ack",
    ("question",): '!question "?"',
    ("form",): "!form T-1",
    ("form", "set"): "!form set F-1 max_penalty=lots",
    ("form", "item"): "!form item F-1 S-1 categories=all",
    ("form", "include"): "!form include F-1 T-2",
    ("form", "check"): "!form check S-1",
    ("form", "export"): "!form export F-1 odt",
    ("form", "list"): "!form list page=x",
    ("preserve", "unlink"): "!preserve unlink P-1 X-1",
    ("provider",): "!provider country=XX",
    ("ready",): "!ready now",
    ("rollcall",): "!rollcall open",
    ("seize",): "!seize domain not_a_domain",
    ("seize", "list"): "!seize list status=gone",
    ("seize", "status"): "!seize status S-1 gone",
    ("sitrep",): "!sitrep now",
    ("sitrep", "at"): "!sitrep at 25:00",
    ("sitrep", "cron"): '!sitrep cron "* *"',
    ("sitrep", "every"): "!sitrep every 0m",
    ("sitrep", "note"): "!sitrep note",
    ("sitrep", "off"): "!sitrep off now",
    ("sitrep", "schedule"): "!sitrep schedule now",
    ("takedown",): "!takedown go",
    ("takedown", "add"): "!takedown add x",
    ("takedown", "list"): "!takedown list some",
    ("tally",): "!tally searches lots",
    ("tally", "list"): "!tally list now",
    ("task", "add"): "!task add",
    ("task", "assign"): "!task assign T-1",
    ("task", "block"): "!task block",
    ("task", "done"): "!task done X-1",
    ("task", "edit"): "!task edit T-1 colour=red",
    ("task", "list"): "!task list late",
    ("task", "start"): "!task start",
    ("trust",): "!trust everyone",
    ("undo",): "!undo everything",
    ("why",): '!why "' + "x" * 201 + '"',
    ("log", "consults"): "!log consults since=never",
    ("erase",): '!erase Q-3 "wrong record"',
}


def test_every_declared_command_has_a_bad_call_here() -> None:
    assert set(BAD_CALL) == set(spec.REGISTRY)


@pytest.mark.parametrize("path", sorted(BAD_CALL))
async def test_error_replies_show_the_declared_usage(h: Harness, path: tuple[str, ...]) -> None:
    reply = await h.fails(BAD_CALL[path])
    usage = spec.REGISTRY[path].usage
    assert reply.text.endswith(f"Usage: {usage}"), reply.text
    escaped = usage.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert reply.html.endswith(f"Usage: <code>{escaped}</code>")
