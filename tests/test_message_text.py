"""What the bot reads as the command when clients send mentions as pills or replies."""

from __future__ import annotations

import pytest

from bot.message_text import command_text

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


def test_without_pills_the_plain_body_is_the_command() -> None:
    # Markdown emphasis would be lost from the HTML; the body keeps what was typed.
    content = html('!task add "*urgent* image"', '!task add "<em>urgent</em> image"')
    assert command_text(content) == '!task add "*urgent* image"'
    assert command_text({"body": "!op"}) == "!op"


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
