"""Split a command line into words, quoted strings, key=value pairs and @mentions.

Phones replace straight quotes with typographic ones, so “…”, „…“, «…» and ”…” count as
quotes too. A quote can close with any closing quote mark: keyboards mix them.

A command holding a bidi control or an invisible character is refused whole: such a
character makes a value show differently from what it is (`evil‮moc.example` reads as
`evilelpmaxe.com`), and a record must be what the room saw. Emoji keep their joiners.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from commands.core.i18n import tr
from commands.core.types import CommandError
from commands.core.visible import BIDI_CONTROLS, first_invisible

OPENING_QUOTES = {'"', "“", "”", "„", "«", "»", "‟", "＂"}
CLOSING_QUOTES = {'"', "“", "”", "«", "»", "‟", "＂"}
PREFIXES = ("/", "!")
KEY_RE = re.compile(r"^([A-Za-z][A-Za-z_-]{0,31})=(.*)$", re.S)
MENTION_RE = re.compile(r"^@[^:\s]+:\S+$")
MAX_LINE = 4000


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "quoted" | "kv" | "mention"
    value: str
    key: str | None = None

    def display(self) -> str:
        if self.kind == "kv":
            return f"{self.key}={self.value}"
        if self.kind == "quoted":
            return f'"{self.value}"'
        return self.value


def is_command(body: str) -> bool:
    s = body.lstrip()
    return len(s) >= 2 and s[0] in PREFIXES and s[1].isalpha()


def tokenize(body: str) -> list[Token]:
    """Tokens of the line after its `/` or `!` prefix. Raises CommandError on bad quoting."""
    line = body.strip()
    if line[:1] in PREFIXES:
        line = line[1:]
    if len(line) > MAX_LINE:
        raise CommandError(tr("the command is {n} characters long; the limit is {limit}").format(
            n=len(line), limit=MAX_LINE))
    _refuse_invisible(line)
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch.isspace():
            i += 1
            continue
        if ch in OPENING_QUOTES:
            value, i = _read_quoted(line, i)
            tokens.append(Token("quoted", value))
            continue
        start = i
        while i < n and not line[i].isspace() and line[i] not in OPENING_QUOTES:
            i += 1
        word = line[start:i]
        m = KEY_RE.match(word)
        if m and (m.group(2) or (i < n and line[i] in OPENING_QUOTES)):
            key, value = m.group(1).lower(), m.group(2)
            if not value and i < n and line[i] in OPENING_QUOTES:
                value, i = _read_quoted(line, i)
            elif i < n and line[i] in OPENING_QUOTES:
                raise CommandError(tr('stray quote after {word}: write {key}="..."').format(
                    word=repr(word), key=key))
            tokens.append(Token("kv", value, key=key))
        elif m and not m.group(2):
            raise CommandError(tr("{key}= needs a value").format(key=m.group(1)))
        elif i < n and line[i] in OPENING_QUOTES:
            raise CommandError(tr("a quote cannot start inside the word {word}; add a space"
                                  ).format(word=repr(word)))
        elif MENTION_RE.match(word):
            tokens.append(Token("mention", word))
        else:
            tokens.append(Token("word", word))
    return tokens


def _refuse_invisible(line: str) -> None:
    found = first_invisible(line)
    if found is None:
        return
    at, ch = found
    name = unicodedata.name(ch, "")  # the Unicode name stays in English, like U+XXXX
    if ch in BIDI_CONTROLS:
        what = tr("{name}, a text-direction control that changes the order text is shown in"
                  ).format(name=name)
    elif unicodedata.category(ch) == "Cc":
        what = tr("a control character")
    elif name:
        what = tr("{name}, which is not visible").format(name=name)
    else:
        what = tr("a character, which is not visible")
    code = f"U+{ord(ch):04X}"
    before = line[max(0, at - 24):at]
    if before.strip():
        message = tr("the command contains a control or invisible character ({code}) after "
                     "{before}: {what}. Nothing was recorded; retype the command without it "
                     "(it often comes with copied text)")
    else:
        message = tr("the command contains a control or invisible character ({code}) at its "
                     "start: {what}. Nothing was recorded; retype the command without it (it "
                     "often comes with copied text)")
    raise CommandError(message.format(code=code, before=repr(before), what=what))


def _read_quoted(line: str, i: int) -> tuple[str, int]:
    j = i + 1
    while j < len(line) and line[j] not in CLOSING_QUOTES:
        j += 1
    if j >= len(line):
        raise CommandError(tr('unterminated quote starting at {start}: close it with "').format(
            start=repr(line[i:i + 20])))
    return line[i + 1 : j], j + 1
