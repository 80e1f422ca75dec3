"""Which of the catalogue's languages a text a member reads is written in.

Read from the catalogues themselves, not from a list of phrases kept by hand: each
translation (and each English message) is cut at its placeholders into pieces of
`MIN_PIECE` characters or more, pieces shared by two languages are dropped, and a text
"speaks" a language when it holds one of that language's own pieces. So a French reply
with an English sentence left in it speaks {"fr", "en"}, whatever the sentence is.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from babel.messages.pofile import read_po

from commands.core import i18n, registry, spec
from tests.test_catalogue import _SYNTAX

ROOT = Path(__file__).resolve().parent.parent
MIN_PIECE = 6
_FIELD = re.compile(r"\{[^{}]*\}")
_MENTION = re.compile(r"@[\w.:-]+")


def _pieces(text: str) -> set[str]:
    """Prose between placeholders and syntax (command names, keys, record numbers, TLP
    labels are the same in every language), without the languages' own names (a list of
    the choices names them all in every language)."""
    parts = _FIELD.split(_keywords().sub("{}", _MENTION.sub("{}", _SYNTAX.sub("{}", text))))
    return {p.strip() for p in parts
            if len(p.strip()) >= MIN_PIECE and p.strip() not in i18n.LANGUAGES.values()}


@functools.cache
def own_pieces() -> dict[str, frozenset[str]]:
    by_lang: dict[str, set[str]] = {lang: set() for lang in i18n.LANGUAGES}
    for lang in i18n.LANGUAGES:
        if lang == i18n.SOURCE:
            continue
        with (ROOT / "locale" / lang / "LC_MESSAGES" / "opsroom.po").open("rb") as f:
            catalog = read_po(f)
        for msg in catalog:
            if not msg.id or not msg.string:
                continue
            ids = [msg.id] if isinstance(msg.id, str) else list(msg.id)
            strings = [msg.string] if isinstance(msg.string, str) else list(msg.string)
            for english in ids:
                by_lang[i18n.SOURCE] |= _pieces(english)
            for translated in strings:
                by_lang[lang] |= _pieces(translated)
    shared = {p for lang, pieces in by_lang.items() for p in pieces
              if any(p in other for o, other in by_lang.items() if o != lang)}
    return {lang: frozenset(pieces - shared) for lang, pieces in by_lang.items()}


@functools.cache
def _finders() -> dict[str, re.Pattern[str]]:
    """Each language's pieces as whole words ("expire" is not found in "expires")."""
    return {lang: re.compile(r"(?<!\w)(?:" + "|".join(
        re.escape(p) for p in sorted(pieces, key=len, reverse=True)) + r")(?!\w)")
        for lang, pieces in own_pieces().items() if pieces}


@functools.cache
def _keywords() -> re.Pattern[str]:
    """The words members type back (statuses, phases, priorities: every choice a command
    declares), shown as typed in every language."""
    registry.load()
    words = {option for cmd in spec.REGISTRY.values() for p in cmd.params
             if isinstance(p.type, spec.Choice) for option in p.type.options}
    return re.compile(r"(?<![\w/-])(?:" + "|".join(
        re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w=-])")


def _prose(text: str) -> str:
    """`text` without its syntax (commands, keys, mentions, keywords), which every
    language shares."""
    return _keywords().sub(" ", _MENTION.sub(" ", _SYNTAX.sub(" ", text)))


def languages_seen(text: str) -> set[str]:
    """The languages whose own catalogue pieces occur in `text`."""
    prose = _prose(text)
    return {lang for lang, finder in _finders().items() if finder.search(prose)}


def english_left(text: str) -> list[str]:
    """The English catalogue pieces in `text` (for the failure message)."""
    return sorted(set(_finders()[i18n.SOURCE].findall(_prose(text))))
