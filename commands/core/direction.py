"""Right-to-left replies that Element shows right to left, with identifiers left to right.

Element's HTML sanitiser drops the `dir` attribute (it is not in the Matrix spec's list of
allowed attributes, nor in Element's `sanitizeHtmlParams`), and it shows each message body
in an element with `dir="auto"`, whose direction is that of the body's first strong
character. So a right-to-left post starts with a RIGHT-TO-LEFT MARK (U+200F), which makes
the whole body right to left even when its first word is a record number, and every run
of left-to-right text inside it (record numbers, Matrix IDs, DTGs, indicators, English
free text) is wrapped in LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE (U+2066 … U+2069),
so `T-12`, `@anna:police.example` or `071200ZDEC26` read left to right and never pull the
Arabic words around them out of order. The plain body gets the mark at every line start,
for clients that show it line by line.

These marks are added last, after `visible()` has shown every bidi control that came from
input as `<U+XXXX>`: the bot's own marks are the only ones a post carries.
"""

from __future__ import annotations

import re

RLM = "\u200f"
LRI = "\u2066"
PDI = "\u2069"

# A run of left-to-right text: words that start with a Latin (or Greek, Cyrillic) letter or
# a digit (or the sigils of Matrix IDs, commands and paths), go on through anything that is
# neither white space nor right-to-left script, and end in a letter, digit or `/`; words
# separated by single spaces make one run, so "Image server fra-2" keeps its own order.
# Punctuation after a word ("T-12:") is left outside, where the Arabic sentence puts it,
# and ends the run. `<` `>` `&` end a word: HTML stays intact.
_LETTERS = r"A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_NOT_RTL = r"[^\s<>&\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"
_WORD = rf"[{_LETTERS}@!#/+](?:{_NOT_RTL}*[{_LETTERS}/])?"
_RUN = re.compile(rf"{_WORD}(?: {_WORD})*")
_HAS_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")


def _isolate(match: re.Match[str]) -> str:
    run = match.group(0)
    if not _HAS_LETTER.search(run):
        return run  # numbers alone are weak: they already sit right in Arabic text
    return f"{LRI}{run}{PDI}"


def isolate_runs(text: str) -> str:
    return _RUN.sub(_isolate, text)


def plain(text: str) -> str:
    """A right-to-left plain body: each line marked, left-to-right runs isolated."""
    return "\n".join(RLM + isolate_runs(line) for line in text.split("\n"))


_TAG = re.compile(r"(<[^>]*>|&#?\w+;)")


def html(body: str) -> str:
    """A right-to-left HTML body: marked at the start (and in a `dir="rtl"` block for the
    clients that keep the attribute); runs isolated in text, never inside a tag."""
    parts = _TAG.split(body)
    marked = "".join(p if p[:1] in "<&" else isolate_runs(p) for p in parts)
    return f'<div dir="rtl">{RLM}{marked}</div>'
