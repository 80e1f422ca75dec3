"""A request form draft as a pdf to review before it is issued: the same sections, labels
and values as the DOCX, "DRAFT" across every page, and every unanswered field in red as
not filled, so a reviewer sees at a glance what is missing.

Words come from the form's template in the draft's language (never the bot's catalogue).
Fonts are those of the operation pdf (exports/pdf.py: DejaVu Sans, so French accents and
any typed script print); values are paragraphs, so long ones wrap inside their box.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from commands import FormSection as Section
from commands import FormTemplate as Template
from commands import form_template as template
from exports.pdf import BOLD, REGULAR, TLP_COLOURS, _fonts

WIDTH = A4[0] - 24 * mm
LABEL_WIDTH = 62 * mm
WATERMARK = colors.Color(0.85, 0.85, 0.85)
_BREAK = "<br/>"
GRID = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                   ("VALIGN", (0, 0), (-1, -1), "TOP")])


class _Styles:
    def __init__(self) -> None:
        self.body = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=11.5)
        self.label = ParagraphStyle("label", parent=self.body, fontName=BOLD)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10,
                                    textColor=colors.HexColor("#444444"))
        self.title = ParagraphStyle("title", parent=self.body, fontName=BOLD, fontSize=13,
                                    leading=16, spaceAfter=3 * mm)
        self.heading = ParagraphStyle("heading", parent=self.body, fontName=BOLD, fontSize=10.5,
                                      leading=13, spaceBefore=4 * mm, spaceAfter=1.5 * mm,
                                      keepWithNext=1)
        self.preamble = ParagraphStyle("preamble", parent=self.body, spaceAfter=2 * mm)
        self.missing = ParagraphStyle("missing", parent=self.body, textColor=colors.red)

    def para(self, value: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(_markup(value), style or self.body)


def _markup(value: str) -> str:
    """Typed text as reportlab's paragraph markup: escaped, its line breaks kept."""
    return escape(value).replace("\n", _BREAK)


def _section(tpl: Template, section: Section, draft: dict[str, Any], st: _Styles
             ) -> list[Flowable]:
    story: list[Flowable] = [st.para(section.heading, st.heading)]
    story += [st.para(extra, st.small) for extra in (section.note, section.text) if extra]
    rows = tpl.rows(section, draft)
    if rows:
        data = [[st.para(label, st.label),
                 st.para(value if value is not None else tpl.draft["not_filled"],
                         st.body if value is not None else st.missing)]
                for label, value in rows]
        table = LongTable(data, colWidths=[LABEL_WIDTH, WIDTH - LABEL_WIDTH])
        table.setStyle(GRID)
        story.append(table)
    if section.identifiers:
        if draft["identifiers"]:
            data = [[st.para(tpl.columns[c], st.label) for c in section.identifiers]]
            data += [[st.para(cell, st.small) for cell in tpl.cells(section, identifier)]
                     for identifier in draft["identifiers"]]
            widths = {"ref": 12, "type": 17, "value": 46, "from": 34, "to": 34}
            col = [widths.get(c, 0) * mm for c in section.identifiers]
            rest = (WIDTH - sum(col)) / max(1, col.count(0))
            table = LongTable(data, colWidths=[w or rest for w in col], repeatRows=1)
            table.setStyle(GRID)
            table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]))
            story.append(table)
        else:
            story.append(st.para(f"{tpl.columns['value']}: {tpl.draft['none']}"))
    if section.signatures:
        boxes = Table([[st.para(label, st.label), ""] for _, label in section.signatures],
                      colWidths=[LABEL_WIDTH, WIDTH - LABEL_WIDTH],
                      rowHeights=[14 * mm] * len(section.signatures))
        boxes.setStyle(GRID)
        story.append(Spacer(1, 2 * mm))
        story.append(KeepTogether([boxes]))
    return story


def build(draft: dict[str, Any], out: BinaryIO) -> None:
    tpl = template(draft["form"], draft["language"])
    _fonts()
    st = _Styles()
    tlp = f"TLP:{draft['tlp']}"
    words = tpl.draft

    def page(canvas: Any, doc: Any) -> None:  # reportlab is untyped
        canvas.saveState()
        canvas.setFillColor(WATERMARK)
        canvas.setFont(BOLD, 110)
        canvas.translate(A4[0] / 2, A4[1] / 2)
        canvas.rotate(50)
        canvas.drawCentredString(0, -35, words["watermark"])
        canvas.restoreState()
        canvas.saveState()
        y = A4[1] - 12 * mm
        canvas.setFillColor(colors.black)
        canvas.rect(12 * mm, y - 1.5 * mm, 44 * mm, 6 * mm, fill=1, stroke=0)
        canvas.setFillColor(TLP_COLOURS[draft["tlp"]])
        canvas.setFont(BOLD, 9)
        canvas.drawCentredString(34 * mm, y, tlp)
        canvas.setFillColor(colors.red)
        canvas.drawRightString(A4[0] - 12 * mm, y, words["banner"])
        canvas.setFillColor(colors.black)
        canvas.setFont(REGULAR, 7)
        canvas.drawRightString(A4[0] - 12 * mm, 8 * mm,
                               f"{draft['operation']['code']} {draft['ref']} · {doc.page}")
        canvas.restoreState()

    story: list[Flowable] = [st.para(tpl.title, st.title)]
    story += [st.para(line, st.small) for line in tpl.frame(draft)]
    story.append(Spacer(1, 3 * mm))
    story += [st.para(paragraph, st.preamble) for paragraph in tpl.preamble]
    for section in tpl.sections:
        story += _section(tpl, section, draft, st)
    doc = SimpleDocTemplate(out, pagesize=A4, topMargin=20 * mm, bottomMargin=16 * mm,
                            leftMargin=12 * mm, rightMargin=12 * mm,
                            title=f"{draft['ref']} {tpl.title}", author="opsroom",
                            creator="opsroom", invariant=True, lang=tpl.language)
    doc.build(story, onFirstPage=page, onLaterPages=page)
