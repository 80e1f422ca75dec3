"""A request form draft as an editable Word document (python-docx): the officer or the
prosecutor completes, signs and stamps it in their own system.

Every word printed comes from the form's template in the draft's language, never from the
bot's catalogue: the form is in the language of the authority it goes to, not of the
officer who asked for it. The header of every page says TLP and DRAFT; signature, date and
stamp boxes are left empty for the competent authority.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from docx import Document
from docx.shared import Pt, RGBColor

from commands import FormSection as Section
from commands import FormTemplate as Template
from commands import form_template as template

RED = RGBColor(0xC0, 0x00, 0x00)
BLANK = "_" * 40


def _value(cell: Any, value: str | None, words: dict[str, str]) -> None:
    paragraph = cell.paragraphs[0]
    if value is None:
        run = paragraph.add_run(words["not_filled"])
        run.font.color.rgb = RED
    else:
        paragraph.add_run(value)


def _section(doc: Any, tpl: Template, section: Section, draft: dict[str, Any]) -> None:
    doc.add_heading(section.heading, level=1)
    for extra in (section.note, section.text):
        if extra:
            doc.add_paragraph(extra)
    rows = tpl.rows(section, draft)
    if rows:
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(label).bold = True
            _value(cells[1], value, tpl.draft)
    if section.identifiers:
        if draft["identifiers"]:
            table = doc.add_table(rows=1, cols=len(section.identifiers))
            table.style = "Table Grid"
            for cell, column in zip(table.rows[0].cells, section.identifiers, strict=True):
                cell.paragraphs[0].add_run(tpl.columns[column]).bold = True
            for identifier in draft["identifiers"]:
                for cell, text in zip(table.add_row().cells, tpl.cells(section, identifier),
                                      strict=True):
                    cell.paragraphs[0].add_run(text)
        else:
            doc.add_paragraph(f"{tpl.columns['value']}: {tpl.draft['none']}")
    for _, label in section.signatures:
        doc.add_paragraph(f"{label}: {BLANK}")


def build(draft: dict[str, Any], out: BinaryIO) -> None:
    tpl = template(draft["form"], draft["language"])
    doc = Document()
    doc.core_properties.title = f"{draft['ref']} {tpl.title}"
    doc.core_properties.author = "opsroom"
    doc.core_properties.language = tpl.language
    style = doc.styles["Normal"]
    style.font.size = Pt(10)
    header = doc.sections[0].header.paragraphs[0]
    banner = header.add_run(f"TLP:{draft['tlp']} · {tpl.draft['banner']}")
    banner.bold = True
    banner.font.color.rgb = RED
    doc.add_heading(tpl.title, level=0)
    for line in tpl.frame(draft):
        doc.add_paragraph(line).runs[0].italic = True
    for paragraph in tpl.preamble:
        doc.add_paragraph(paragraph)
    for section in tpl.sections:
        _section(doc, tpl, section, draft)
    doc.save(out)
