"""Printable summary (reportlab: maintained, pure Python, ships a TTF font — Bitstream
Vera — so non-ASCII names render without system fonts). TLP label in the header and
footer of every page, as TLP 2.0 asks of printed material."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from exports import pdf_charts, text
from exports.snapshot import RECORD_KINDS, Snapshot

# A printout is for reading: past this many rows per kind, the json/csv exports carry the
# rest (100,000 seized items would be thousands of pages and minutes of layout). It also
# bounds the memory of the layout, which reportlab does all at once.
MAX_ROWS = 500
FONT_DIR = Path(reportlab.__file__).parent / "fonts"
TLP_COLOURS = {"CLEAR": colors.black, "GREEN": colors.HexColor("#33FF00"),
               "AMBER": colors.HexColor("#FFC000"), "AMBER+STRICT": colors.HexColor("#FFC000"),
               "RED": colors.HexColor("#FF2B2B")}


def _fonts() -> None:
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", str(FONT_DIR / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("VeraBd", str(FONT_DIR / "VeraBd.ttf")))


def _clean(value: str) -> str:
    return escape(value.replace("→", "->").replace("—", "-"))


def build(snap: Snapshot, out: BinaryIO) -> None:
    _fonts()
    body = ParagraphStyle("body", fontName="Vera", fontSize=8, leading=10)
    head = ParagraphStyle("head", fontName="VeraBd", fontSize=14, leading=18)
    sub = ParagraphStyle("sub", fontName="VeraBd", fontSize=10, leading=14, spaceBefore=6)
    label = f"TLP:{snap.tlp}"

    def frame(canvas: Any, doc: Any) -> None:  # reportlab is untyped
        canvas.saveState()
        for y in (A4[1] - 12 * mm, 8 * mm):
            canvas.setFillColor(colors.black)
            canvas.rect(A4[0] / 2 - 22 * mm, y - 1.5 * mm, 44 * mm, 6 * mm, fill=1, stroke=0)
            canvas.setFillColor(TLP_COLOURS[snap.tlp])
            canvas.setFont("VeraBd", 9)
            canvas.drawCentredString(A4[0] / 2, y, label)
        canvas.setFillColor(colors.black)
        canvas.setFont("Vera", 7)
        canvas.drawRightString(A4[0] - 12 * mm, 8 * mm, f"{snap.op['code']} · page {doc.page}")
        canvas.restoreState()

    story: list = [Paragraph(_clean(text.title(snap)), head),
                   Paragraph(_clean(f"{text.banner(snap)} · generated {snap.generated_at}"),
                             body), Spacer(1, 4 * mm)]
    story += [Paragraph(_clean(line), body) for line in text.totals(snap)]
    charts = pdf_charts.chart_data(snap, limit=MAX_ROWS)
    story += pdf_charts.summary_charts(charts)
    story.append(Paragraph("Agencies", sub))
    story += [Paragraph(_clean(f"{a['code']} · {a['country']} · {a['tz']}"
                               + (f" · {a['name']}" if a["name"] else "")), body)
              for a in snap.agencies]
    for kind in RECORD_KINDS:
        count = snap.counts[kind]
        story.append(Paragraph(_clean(f"{text.TITLES[kind]} ({count})"), sub))
        if not count:
            continue
        data = [[Paragraph(_clean(c), body) for c in text.COLUMNS[kind]]]
        data += [[Paragraph(_clean(c), body) for c in text.cells(kind, r)]
                 for r in snap.rows(kind, limit=MAX_ROWS)]
        table = LongTable(data, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
        if count > MAX_ROWS:
            story.append(Paragraph(_clean(
                f"… {count - MAX_ROWS} more {text.TITLES[kind].lower()}: see the json or "
                "csv export for every record."), body))
    story.append(Paragraph("Takedown timeline", sub))
    story.append(pdf_charts.timeline_chart(charts))
    if charts.takedowns_left_out:
        story.append(Paragraph(_clean(f"The chart shows the first {MAX_ROWS} takedowns by "
                                      "planned time."), body))
    story += [Paragraph(_clean(line), body) for line in text.timeline(snap, limit=MAX_ROWS)]
    if snap.counts["takedowns"] > MAX_ROWS:
        story.append(Paragraph(_clean(f"… {snap.counts['takedowns'] - MAX_ROWS} more in the "
                                      "json or csv export."), body))
    doc = SimpleDocTemplate(out, pagesize=A4, topMargin=20 * mm, bottomMargin=18 * mm,
                            leftMargin=12 * mm, rightMargin=12 * mm,
                            title=f"{snap.op['code']} {label}", author="opsroom",
                            creator="opsroom", invariant=True)
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
