"""Right-to-left text made ready for a drawing library that neither shapes nor reorders
(reportlab; Pillow's basic layout, which draws the board's rows): Arabic letters in their
joined forms (arabic_reshaper) and each line in display order (python-bidi, the Unicode
bidirectional algorithm). Matplotlib's own text (titles, legends, ticks) is given the raw
text: it shapes and reorders Arabic itself, and would reverse it a second time.

Text without a right-to-left character is returned as it is: the work, and the reordering
of brackets and numbers it could bring, only happen where they are needed. A paragraph is
broken into lines before it is reordered (`display_lines`): reordering first and wrapping
after would put the end of an Arabic sentence on its first line.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

import arabic_reshaper
from bidi.algorithm import get_display

log = logging.getLogger(__name__)

# Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic, Arabic supplements and
# extensions, and the presentation forms of both scripts.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# Isolates (LRI, RLI, FSI, PDI) as the embeddings python-bidi knows (LRE, RLE, LRE, PDF).
_ISOLATES = str.maketrans("\u2066\u2067\u2068\u2069", "\u202a\u202b\u202a\u202c")
# Directional marks and embeddings: they steered the reordering and draw nothing.
_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def unmarked(text: str) -> str:
    """`text` without directional marks and embeddings (for text drawn without reordering,
    where they would only be invisible characters in the way)."""
    return _CONTROLS.sub("", text)


def has_right_to_left(text: str) -> bool:
    return _RIGHT_TO_LEFT.search(text) is not None


def reads_right_to_left(text: str) -> bool:
    """Whether `text` starts, at its first letter, in a right-to-left script (the direction
    the bidirectional algorithm gives a paragraph of its own)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def shaped(text: str) -> str:
    """`text` with its Arabic letters in their joined forms, still in logical order (the
    widths a line breaker measures)."""
    return arabic_reshaper.reshape(text) if has_right_to_left(text) else text


def for_display(text: str) -> str:
    """One line as it is drawn, its direction taken from its first strong character."""
    if not has_right_to_left(text):
        return text
    return _visual(arabic_reshaper.reshape(text), None)


def display_lines(text: str, width: float, measure: Callable[[str], float], *,
                  right_to_left: bool = False) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` (as `measure` gives the
    width of a string; a word wider than a line is cut), each line in display order.
    `right_to_left`: the paragraph reads right to left (a document in Arabic) whatever its
    first letter; else its direction is that of its first strong character."""
    if not has_right_to_left(text):
        return _wrap(text, width, measure)
    shaped = arabic_reshaper.reshape(text)  # before wrapping: the widths are the joined ones
    return [_visual(line, "R" if right_to_left else None)
            for line in _wrap(shaped, width, measure)]


def left_to_right(value: str) -> str:
    """`value` kept in one left-to-right piece inside right-to-left text (a timestamp,
    whose digits and hyphens would otherwise be reordered: 25T06:00Z-11-2026)."""
    return f"\u202a{value}\u202c"


def _visual(line: str, base: str | None) -> str:
    # python-bidi's algorithm predates isolates (Unicode 6.3) and stops on them, and on a
    # character it has no class for: what a member typed must not stop an export, so they
    # become the embeddings it knows and U+FFFD.
    known = "".join(c if unicodedata.bidirectional(c) else "\ufffd"
                    for c in line.translate(_ISOLATES))
    try:
        shown = get_display(known, base_dir=base)
    except Exception:  # a flaw of the library: the line drawn as it is, not the export lost
        log.exception("right-to-left line left in logical order")
        return _CONTROLS.sub("", known)
    assert isinstance(shown, str)
    return _CONTROLS.sub("", shown)


def _wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if measure(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while measure(line) > width and len(line) > 1:  # a word longer than a line
                cut = next(i for i in range(len(line) - 1, 0, -1)
                           if measure(line[:i]) <= width or i == 1)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines
