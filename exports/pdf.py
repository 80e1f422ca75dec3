"""Printable summary. TLP label in the header and footer of every page, as TLP 2.0 asks
of printed material.

Headings and sentences are in the language in force (exports.build sets it around the
build). The font is DejaVu Sans, shipped by matplotlib (a dependency already): Latin,
Cyrillic (a homograph's look-alike letters) and Arabic glyphs, where reportlab's own
Bitstream Vera has no Cyrillic or Arabic and would print boxes. reportlab neither joins
Arabic letters nor orders right-to-left text: text holding right-to-left characters is
drawn by `_Bidi`, which breaks it into lines and puts each in display order
(exports.shaping). A pdf in a right-to-left language is laid out from the right:
paragraphs right-aligned, table columns from right to left."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from commands import i18n, tr, trn
from exports import pdf_charts, shaping, text
from exports.snapshot import RECORD_KINDS, Snapshot

# A printout is for reading: past this many rows per kind, the json/csv exports carry the
# rest (100,000 seized items would be thousands of pages and minutes of layout). It also
# bounds the memory of the layout, which reportlab does all at once.
MAX_ROWS = 500
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# Both cover Latin, Cyrillic and Arabic (the bold one too, checked by the tests).
FONTS = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf"}
REGULAR, BOLD = FONTS
TLP_COLOURS = {"CLEAR": colors.black, "GREEN": colors.HexColor("#33FF00"),
               "AMBER": colors.HexColor("#FFC000"), "AMBER+STRICT": colors.HexColor("#FFC000"),
               "RED": colors.HexColor("#FF2B2B")}
# Emoji presentation selectors (the homograph note's ⚠️): they draw nothing.
_INVISIBLE = str.maketrans("", "", "\ufe0e\ufe0f")


def _fonts() -> None:
    for name, file in FONTS.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))


def _clean(value: str) -> str:
    return escape(shaping.unmarked(value).translate(_INVISIBLE))


class _Bidi(Flowable):
    """A paragraph holding right-to-left text: wrapped at the width it is given, then
    each line shaped and reordered for display."""

    def __init__(self, value: str, style: ParagraphStyle, right_to_left: bool) -> None:
        super().__init__()
        self.value = value.translate(_INVISIBLE)
        self.style = style
        self.right_to_left = right_to_left
        # Right-aligned in a right-to-left document, and in any other where it starts in
        # a right-to-left script (an Arabic task in an English export).
        self.right_aligned = right_to_left or shaping.reads_right_to_left(self.value)
        self.lines: list[str] = []

    def _measure(self, value: str) -> float:
        return float(pdfmetrics.stringWidth(value, self.style.fontName, self.style.fontSize))

    def minWidth(self) -> float:  # reportlab's name: a table sizes its columns with it
        words = shaping.shaped(self.value).split()
        return max((self._measure(w) for w in words), default=0.0)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.lines = shaping.display_lines(self.value, availWidth, self._measure,
                                           right_to_left=self.right_to_left)
        self.width = availWidth
        self.height = len(self.lines) * self.style.leading
        return self.width, self.height

    def getSpaceBefore(self) -> float:
        return float(self.style.spaceBefore)

    def getSpaceAfter(self) -> float:
        return float(self.style.spaceAfter)

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(self.style.fontName, self.style.fontSize)
        y = self.height - self.style.fontSize
        for line in self.lines:
            if self.right_aligned:
                canvas.drawRightString(self.width, y, line)
            else:
                canvas.drawString(0, y, line)
            y -= self.style.leading


class _Page:
    """The styles and the text flowables of one export's pdf, in its language."""

    def __init__(self) -> None:
        self.right_to_left = i18n.right_to_left()
        align = {"alignment": TA_RIGHT} if self.right_to_left else {}
        self.body = ParagraphStyle("body", fontName=REGULAR, fontSize=8, leading=10, **align)
        self.head = ParagraphStyle("head", fontName=BOLD, fontSize=14, leading=18, **align)
        self.sub = ParagraphStyle("sub", fontName=BOLD, fontSize=10, leading=14,
                                  spaceBefore=6, **align)

    def para(self, value: str, style: ParagraphStyle | None = None) -> Flowable:
        style = style or self.body
        if shaping.has_right_to_left(value):
            return _Bidi(value, style, self.right_to_left)
        return Paragraph(_clean(value), style)

    def row(self, cells: Sequence[str]) -> list[Flowable]:
        row = [self.para(c) for c in cells]
        return row[::-1] if self.right_to_left else row

    def timestamp(self, value: str) -> str:
        """A timestamp placed in a sentence, kept whole in a right-to-left one."""
        return shaping.left_to_right(value) if self.right_to_left else value

    def line(self, value: str) -> str:
        """One line drawn straight on the canvas (the footer), in display order."""
        return shaping.display_lines(value.translate(_INVISIBLE), float("inf"), len,
                                     right_to_left=self.right_to_left)[0]


def build(snap: Snapshot, out: BinaryIO) -> None:
    _fonts()
    page = _Page()
    sub = page.sub
    label = f"TLP:{snap.tlp}"

    def frame(canvas: Any, doc: Any) -> None:  # reportlab is untyped
        canvas.saveState()
        for y in (A4[1] - 12 * mm, 8 * mm):
            canvas.setFillColor(colors.black)
            canvas.rect(A4[0] / 2 - 22 * mm, y - 1.5 * mm, 44 * mm, 6 * mm, fill=1, stroke=0)
            canvas.setFillColor(TLP_COLOURS[snap.tlp])
            canvas.setFont(BOLD, 9)
            canvas.drawCentredString(A4[0] / 2, y, label)
        canvas.setFillColor(colors.black)
        canvas.setFont(REGULAR, 7)
        footer = page.line(tr("{code} · page {page}").format(code=snap.op["code"],
                                                              page=doc.page))
        if page.right_to_left:
            canvas.drawString(12 * mm, 8 * mm, footer)
        else:
            canvas.drawRightString(A4[0] - 12 * mm, 8 * mm, footer)
        canvas.restoreState()

    story: list = [page.para(text.title(snap), page.head),
                   page.para(tr("{banner} · generated {when}").format(
                       banner=text.banner(snap), when=page.timestamp(snap.generated_at))),
                   Spacer(1, 4 * mm)]
    story += [page.para(line) for line in text.totals(snap)]
    charts = pdf_charts.chart_data(snap, limit=MAX_ROWS)
    story += pdf_charts.summary_charts(charts)
    story.append(page.para(tr("Agencies"), sub))
    story += [page.para(" · ".join([a["code"], a["country"], a["tz"]]
                                   + ([a["name"]] if a["name"] else [])))
              for a in snap.agencies]
    for kind in RECORD_KINDS:
        count = snap.counts[kind]
        story.append(page.para(text.heading(kind, snap), sub))
        if not count:
            continue
        data = [page.row(text.columns(kind))]
        data += [page.row(text.cells(kind, r)) for r in snap.rows(kind, limit=MAX_ROWS)]
        table = LongTable(data, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        if page.right_to_left:
            table.hAlign = "RIGHT"
        story.append(table)
        if count > MAX_ROWS:
            story.append(page.para(tr(
                "… {n} more {kind}: see the json or csv export for every record.").format(
                    n=count - MAX_ROWS, kind=tr(text.TITLES[kind]).lower())))
    story.append(page.para(tr("Takedown timeline"), sub))
    story.append(pdf_charts.timeline_chart(charts))
    if charts.takedowns_left_out:
        story.append(page.para(trn("The chart shows the first {n} takedown by planned time.",
                                   "The chart shows the first {n} takedowns by planned time.",
                                   MAX_ROWS).format(n=MAX_ROWS)))
    story += [page.para(line) for line in text.timeline(snap, limit=MAX_ROWS)]
    if snap.counts["takedowns"] > MAX_ROWS:
        story.append(page.para(tr("… {n} more in the json or csv export.").format(
            n=snap.counts["takedowns"] - MAX_ROWS)))
    doc = SimpleDocTemplate(out, pagesize=A4, topMargin=20 * mm, bottomMargin=18 * mm,
                            leftMargin=12 * mm, rightMargin=12 * mm,
                            title=f"{snap.op['code']} {label}", author="opsroom",
                            creator="opsroom", invariant=True, lang=i18n.current())
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
