"""Arabic text made drawable by renderers that do not shape: its letters in their joined
(contextual) forms and a right-to-left run put in display order.

Who needs it: Pillow with its BASIC layout (exports.charts draws the board's per-row
words that way, for speed) and reportlab (the pdf). Who must NOT get it: matplotlib's own
texts (titles, legends, axis labels), which 3.11 lays out through libraqm, shaping and
reordering by itself: given already-reordered text it reverses it a second time.

Text with no Arabic letter is returned as it is (and costs one regular-expression scan),
so callers pass every label through without asking which language is in force.
"""

from __future__ import annotations

import re

import arabic_reshaper
from bidi.algorithm import get_display

# Arabic, Arabic Supplement, Arabic Extended-A, presentation forms A and B.
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def for_display(text: str) -> str:
    """`text` as a renderer without shaping must draw it, left to right, glyph by glyph."""
    if not _ARABIC.search(text):
        return text
    shaped: str = arabic_reshaper.reshape(text)
    return str(get_display(shaped))
