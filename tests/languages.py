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

from commands.core import i18n

ROOT = Path(__file__).resolve().parent.parent
MIN_PIECE = 12
_FIELD = re.compile(r"\{[^{}]*\}")


def _pieces(text: str) -> set[str]:
    return {p.strip() for p in _FIELD.split(text) if len(p.strip()) >= MIN_PIECE}


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


def languages_seen(text: str) -> set[str]:
    """The languages whose own catalogue pieces occur in `text`."""
    return {lang for lang, pieces in own_pieces().items() if any(p in text for p in pieces)}


def english_left(text: str) -> list[str]:
    """The English catalogue pieces in `text` (for the failure message)."""
    return sorted(p for p in own_pieces()[i18n.SOURCE] if p in text)
