"""What the bot reads as the command: what Element shows (the HTML when there is one), with
mentions (pills) as user ids and a reply's quoted fallback left out."""

from __future__ import annotations

import pytest

from bot.message_text import command_text, shown
from tests.harness import OFFICER, Harness

ANNA = "@anna:police.example"


def html(body: str, formatted: str, **extra: object) -> dict[str, object]:
    return {"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html",
            "formatted_body": formatted, **extra}


@pytest.mark.parametrize("href", [
    f"https://matrix.to/#/{ANNA}",
    "https://matrix.to/#/%40anna%3Apolice.example",
    "https://matrix.to/#/@anna:police.example?via=police.example",
    "matrix:u/anna:police.example",
])
def test_a_pill_becomes_the_user_id(href: str) -> None:
    content = html("!task assign T-1 Anna Schmidt",
                   f'!task assign T-1 <a href="{href}">Anna Schmidt</a>')
    assert command_text(content) == f"!task assign T-1 {ANNA}"


def test_quotes_and_entities_survive_the_html_route() -> None:
    content = html('!task add "seize & image" Anna due=H+2h',
                   f'!task add &quot;seize &amp; image&quot; <a href="https://matrix.to/#/{ANNA}">'
                   "Anna</a> due=H+2h")
    assert command_text(content) == f'!task add "seize & image" {ANNA} due=H+2h'


def test_a_pill_in_the_quoted_reply_is_not_part_of_the_command() -> None:
    content = html(
        "> <@lead:x> T-1 created\n\n!member Anna agency=DE-BKA",
        '<mx-reply><blockquote><a href="https://matrix.to/#/@lead:x">@lead:x</a> T-1 created'
        f'</blockquote></mx-reply>!member <a href="https://matrix.to/#/{ANNA}">Anna</a> '
        "agency=DE-BKA",
        **{"m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}})
    assert command_text(content) == f"!member {ANNA} agency=DE-BKA"


def test_without_html_the_plain_body_is_the_command() -> None:
    assert command_text({"body": "!op"}) == "!op"
    # formatted_body without the HTML format is not shown by Element: the body is.
    assert command_text({"body": "!op", "formatted_body": "!op phase closed"}) == "!op"


def test_markdown_runs_as_element_shows_it() -> None:
    # Element turns **x** into <strong>x</strong> and keeps "quotes": the command still works.
    content = html('!task add "**urgent** image the server" priority=high',
                   '!task add &quot;<strong>urgent</strong> image the server&quot; priority=high')
    assert command_text(content) == '!task add "urgent image the server" priority=high'
    code = html("!seize wallet `bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh`",
                "!seize wallet <code>bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh</code>")
    assert command_text(code) == "!seize wallet bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"


@pytest.mark.parametrize("hidden", ["script", "style", "textarea", "option", "noscript",
                                    "SCRIPT"])
def test_text_element_does_not_show_is_not_run(hidden: str) -> None:
    content = html("!task list",
                   f'!task list<{hidden} type="x">!op phase closed</{hidden}>')
    assert command_text(content) == "!task list"


def test_a_script_hiding_the_whole_command_leaves_no_command() -> None:
    content = html("!op phase closed", "<script>!op phase closed</script>hello")
    assert command_text(content) == "hello"
    unclosed = html("!task list", "!task list <script>!op phase closed")
    assert command_text(unclosed) == "!task list"


def test_when_body_and_html_disagree_what_element_shows_runs() -> None:
    content = html("!op phase closed", "<p>!task list</p>")
    assert command_text(content) == "!task list"


def test_html_is_read_as_a_browser_lays_it_out() -> None:
    content = html("x", "<p>!task add\n   &quot;a  <em>b</em>&quot;</p><ul><li>c</li></ul>"
                        "<!-- !op phase closed -->d<br/>e")
    assert command_text(content) == '!task add "a b"\nc\nd\ne'
    pre = html("x", "<pre><code>!task add \"a  b\"\n</code></pre>")
    assert command_text(pre) == '!task add "a  b"'


def test_links_that_are_not_users_stay_text() -> None:
    content = html("!seize url https://evil.example/x Anna",
                   '!seize url <a href="https://evil.example/x">https://evil.example/x</a> '
                   f'<a href="https://matrix.to/#/{ANNA}">Anna</a>')
    assert command_text(content) == f"!seize url https://evil.example/x {ANNA}"
    room = html("!x #ops:police.example", '!x <a href="https://matrix.to/#/#ops:police.example">'
                "#ops:police.example</a>")
    assert command_text(room) == "!x #ops:police.example"


def test_reply_fallback_lines_are_dropped_from_a_reply() -> None:
    content = {"body": "> <@lead:x> T-1 created\n> second line\n\n!task done T-1",
               "m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}}
    assert command_text(content) == "!task done T-1"


def test_a_quote_that_is_not_a_reply_is_left_alone() -> None:
    assert command_text({"body": "> !task done T-1"}) == "> !task done T-1"


def test_missing_or_odd_fields_are_not_a_crash() -> None:
    assert command_text({}) == ""
    assert command_text({"body": 5, "format": "org.matrix.custom.html",
                         "formatted_body": None}) == ""


async def test_a_command_typed_with_markdown_and_a_pill_is_recorded_as_shown(
        h: Harness) -> None:
    content = html('!task add "**urgent**: image the *server*" Officer priority=high',
                   '!task add &quot;<strong>urgent</strong>: image the <em>server</em>&quot; '
                   f'<a href="https://matrix.to/#/{OFFICER}">Officer</a> priority=high')
    reply = await h.ok(command_text(content))
    assert "urgent: image the server" in reply.text
    [row] = await h.rows("SELECT text, assignee, priority FROM tasks")
    assert row == {"text": "urgent: image the server", "assignee": OFFICER, "priority": "high"}


async def test_a_script_hidden_command_is_not_run(h: Harness) -> None:
    content = html("!op phase closed", "!task list<script>!op phase closed</script>")
    reply = await h.ok(command_text(content))
    assert "closed" not in reply.text
    [op] = await h.rows("SELECT phase FROM operations")
    assert op["phase"] == "planning"


def test_a_mention_carries_a_user_id_and_nothing_else() -> None:
    """A pill's target is percent-decoded: without the check, this one would add a second
    command line (and a quote) to what the officer's client shows as one mention."""
    injected = html("!task assign T-1 Anna",
                    '!task assign T-1 <a href="https://matrix.to/#/@anna:police.example'
                    '%0A!op%20phase%20closed%20%22">Anna</a>')
    read = shown(injected)
    assert read.bad_mentions == ('@anna:police.example\n!op phase closed "',)
    assert "!op" not in read.text.replace("!task", "")
    spaced = html("x", '!member <a href="matrix:u/anna:police.example%20agency=X">Anna</a>')
    assert shown(spaced).bad_mentions == ("@anna:police.example agency=X",)
    for target in ("@anna", "@an na:x", "@anna:police.example:99999999", "@" + "a" * 255 + ":x"):
        assert shown(html("x", f'!x <a href="https://matrix.to/#/{target}">A</a>')
                     ).bad_mentions == (target,), target
    for target in ("@anna:police.example", "@Old_Name=1/x+y:[::1]:8448", "@a.b-c:10.0.0.1"):
        link = target.replace("/", "%2F")
        assert shown(html("x", f'!x <a href="https://matrix.to/#/{link}">A</a>')
                     ).text == f"!x {target}", target
