"""Characters that change how text displays without being seen, shown as `<U+202E>` instead.

A right-to-left override (U+202E) makes `/x‮gpj.exe` read as `/xexe.jpg`; a zero-width
space makes two different values look identical; a tag character (U+E0041) carries text
nobody sees. Every reply the bot sends goes through `visible()` (`Reply` applies it when
it is made, the runtime again when it sends), so a handler that echoes what an officer
typed, or a record stored before this check existed, cannot put such a character in
front of the room. The tokenizer refuses them in commands with `first_invisible()`, so
nothing new stores them.

Leaf module: imports nothing of the project.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Format characters (Cf: bidi controls, zero-width space/joiners, word joiner, BOM, soft
# hyphen, tags...), the rest of Unicode's Default_Ignorable_Code_Point (Hangul fillers,
# variation selectors, combining grapheme joiner, reserved ignorables), C0/C1 controls
# other than tab and newline, line/paragraph separators, and lone surrogates (which JSON
# can carry and UTF-8 cannot encode). Unicode 14 (Python 3.11); a unit test checks the
# class against unicodedata so a newer Python cannot silently widen the gap.
_RANGES = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"
)
_INVISIBLE = re.compile(f"[{_RANGES}]")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
_EMOJI = ("So", "Sk")
_KEYCAP = "\u20e3"


def _part_of_emoji(text: str, i: int) -> bool:
    """Variation selector 16 (`⚠️`) and the zero-width joiner inside an emoji sequence
    (`👩‍💻`) are how emoji are written, including the bot's own `⚠️`; they do not hide
    or reorder text, so they stay."""
    ch = text[i]
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if ch in "\ufe0e\ufe0f":
        return bool(prev) and (unicodedata.category(prev) in _EMOJI or nxt == _KEYCAP)
    if ch == "\u200d":
        return (bool(prev) and bool(nxt) and unicodedata.category(nxt) == "So"
                and (prev == "\ufe0f" or unicodedata.category(prev) in _EMOJI))
    return False


def escape(ch: str) -> str:
    return f"<U+{ord(ch):04X}>"


def _replace(text: str, shown: Callable[[str], str]) -> str:
    if not _INVISIBLE.search(text):
        return text
    out: list[str] = []
    last = 0
    for match in _INVISIBLE.finditer(text):
        i = match.start()
        if _part_of_emoji(text, i):
            continue
        out.append(text[last:i])
        out.append(shown(text[i]))
        last = i + 1
    out.append(text[last:])
    return "".join(out)


def visible(text: str) -> str:
    """Plain text with every invisible or direction-changing character shown as <U+XXXX>.
    Idempotent: its output holds none of them."""
    return _replace(text, escape)


def visible_html(html: str) -> str:
    """The same for HTML: the escape is itself escaped so it shows as text, not a tag.
    These characters are never part of markup, so replacing them anywhere is safe."""
    return _replace(html, lambda ch: f"&lt;U+{ord(ch):04X}&gt;")


def first_invisible(text: str) -> tuple[int, str] | None:
    """Position and character of the first one `visible()` would escape, if any."""
    for match in _INVISIBLE.finditer(text):
        if not _part_of_emoji(text, match.start()):
            return match.start(), match.group()
    return None
