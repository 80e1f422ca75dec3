"""The command line as phones and desktops type it: quotes of every kind, key=value,
mentions, and the quoting mistakes that must come back as a reason, never a guess."""

from __future__ import annotations

import pytest

from commands.core.tokenizer import MAX_LINE, is_command, tokenize
from commands.core.types import CommandError
from tests.harness import Harness


def kinds(line: str) -> list[tuple[str, str | None, str]]:
    return [(t.kind, t.key, t.value) for t in tokenize(line)]


@pytest.mark.parametrize("line", [
    '!x "a b"',
    "!x “a b”",   # English smart quotes (iOS, Android)
    "!x „a b“",   # German
    "!x «a b»",   # French
    "!x »a b«",   # Danish / Swedish
    "!x ”a b”",   # Swedish / Finnish
    '!x "a b“',   # a keyboard that mixes straight and smart quotes
])
def test_every_quote_style_makes_one_quoted_token(line: str) -> None:
    assert kinds(line) == [("word", None, "x"), ("quoted", None, "a b")]


def test_words_are_split_on_any_whitespace_and_prefix_is_dropped() -> None:
    assert kinds("/task  list\topen ") == [("word", None, "task"), ("word", None, "list"),
                                          ("word", None, "open")]
    assert kinds("!task list") == kinds("/task list")


def test_apostrophes_are_not_quotes() -> None:
    assert kinds("!x O'Brien “Anna’s laptop”") == [
        ("word", None, "x"), ("word", None, "O'Brien"), ("quoted", None, "Anna’s laptop")]


@pytest.mark.parametrize(("line", "key", "value"), [
    ("!x due=H+2h", "due", "H+2h"),
    ("!x Priority=high", "priority", "high"),          # keys are case-insensitive
    ('!x charge="money laundering"', "charge", "money laundering"),
    ("!x charge=“money laundering”", "charge", "money laundering"),
    ("!x note=„a b“", "note", "a b"),
    ("!x expr=a=b", "expr", "a=b"),                    # only the first = splits
])
def test_key_value_pairs(line: str, key: str, value: str) -> None:
    assert kinds(line)[1:] == [("kv", key, value)]


def test_things_that_look_like_key_value_but_are_words() -> None:
    assert kinds("!x https://evil.example/?a=b 1=2")[1:] == [
        ("word", None, "https://evil.example/?a=b"), ("word", None, "1=2")]


def test_mentions() -> None:
    assert kinds("!member @anna:police.example agency=FR-OFAC") == [
        ("word", None, "member"), ("mention", None, "@anna:police.example"),
        ("kv", "agency", "FR-OFAC")]
    # not a well-formed Matrix id: stays a word, so the command can say why it is wrong
    assert kinds("!x @anna")[1:] == [("word", None, "@anna")]
    # a quoted text that starts with @ is text
    assert kinds('!x "@home: check CCTV"')[1:] == [("quoted", None, "@home: check CCTV")]


@pytest.mark.parametrize(("line", "fragment"), [
    ('!task add "never closed', "unterminated quote"),
    ("!task add “never closed", "unterminated quote"),
    ('!task add due="H+2h', "unterminated quote"),
    ('!task add ab"cd"', "quote cannot start inside the word 'ab'"),
    ('!task add note=a"b"', "stray quote after 'note=a'"),
    ("!task add due=", "due= needs a value"),
])
def test_quoting_mistakes_are_errors_that_say_what_is_wrong(line: str, fragment: str) -> None:
    with pytest.raises(CommandError) as err:
        tokenize(line)
    assert fragment in err.value.message


def test_an_empty_quoted_string_is_a_token_for_the_validator_to_refuse() -> None:
    assert kinds('!x ""')[1:] == [("quoted", None, "")]


def test_overlong_lines_are_refused_before_parsing() -> None:
    with pytest.raises(CommandError) as err:
        tokenize("!x " + "a" * MAX_LINE)
    assert f"the limit is {MAX_LINE}" in err.value.message


@pytest.mark.parametrize(("body", "expected"), [
    ("!task list", True), ("/task list", True), ("  !help", True),
    ("! task", False), ("/ task", False), ("!1", False), ("!", False), ("hello", False),
    ("/", False),
])
def test_is_command(body: str, expected: bool) -> None:
    assert is_command(body) is expected


async def test_a_quoting_mistake_reaches_the_user_with_the_commands_usage(h: Harness) -> None:
    reply = await h.fails('!task add "never closed')
    assert "unterminated quote" in reply.text
    assert "Usage: /task add" in reply.text
    assert await h.rows("SELECT * FROM tasks") == []


async def test_typographic_quotes_end_to_end(h: Harness) -> None:
    await h.ok("!task add „Server in Frankfurt abbilden“ priority=high")
    [task] = await h.rows("SELECT text, priority FROM tasks")
    assert task == {"text": "Server in Frankfurt abbilden", "priority": "high"}
