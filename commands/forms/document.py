"""A form's template (its sections, labels and official wording) and the canonical JSON of a
draft, with its digest.

Templates are data (commands/forms/templates): a STRUCTURE file per form says which
sections it has, in the official order, and which field keys each shows; a TEXT file per
form and language holds every word printed (title, binding preamble, headings, labels),
with the citation it was taken from and whether it was checked against it. A wording fix or
a new language is a data change a lawyer can review, and no heading printed on a form ever
comes from the bot's catalogue.

This module stays light (json and hashlib only): the bot hashes a draft's JSON inside a
command, and must not load python-docx or reportlab to do it (exports/form_files writes
the files).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from commands.core.i18n import tr
from commands.forms.fields import FIELDS, FORMS

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Keys whose values are words of a list (yes/no, the issuer's type…): printed in the
# form's language, where a typed value is printed as typed.
_CHOICE_KEYS = frozenset(k for k, f in FIELDS.items() if f.choices)


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    fields: tuple[str, ...]
    # The per-identifier columns of the identifiers table, when this section holds it.
    identifiers: tuple[str, ...] = ()
    # Boxes for the competent authority to sign: (key, label), never filled by opsroom.
    signatures: tuple[tuple[str, str], ...] = ()
    note: str = ""
    text: str = ""


@dataclass(frozen=True)
class Template:
    form: str
    language: str
    title: str
    preamble: tuple[str, ...]
    sections: tuple[Section, ...]
    labels: dict[str, str]
    categories: dict[str, str]
    choices: dict[str, str]
    columns: dict[str, str]
    draft: dict[str, str]  # the words of the draft's own frame: banner, watermark, not filled…
    source: dict[str, Any]

    def shown(self, key: str, value: str | None) -> str | None:
        """A value as the form prints it: a choice (yes, prosecutor…) in the form's own
        language, anything typed as it was typed."""
        if value is None:
            return None
        return self.choices.get(value, value) if key in _CHOICE_KEYS else printable(value)

    def rows(self, section: Section, draft: dict[str, Any]) -> list[tuple[str, str | None]]:
        """(label, value as printed) of each field of `section`; None where unanswered."""
        fields: dict[str, str | None] = draft["fields"]
        return [(self.labels[k], self.shown(k, fields.get(k))) for k in section.fields]

    def cells(self, section: Section, identifier: dict[str, Any]) -> list[str]:
        """One identifier's row in the identifiers table of `section`."""
        out = []
        for column in section.identifiers:
            value = identifier.get(column)
            if column == "categories":
                out.append("; ".join(self.categories[c] for c in value or ()))
            else:
                out.append("" if value is None else printable(str(value)))
        return out

    def frame(self, draft: dict[str, Any]) -> list[str]:
        """The lines that say what this paper is: the draft, its request, the operation,
        who drafted it when, the identifiers its TLP left out, and the text its wording was
        taken from, with the template's own warning when that wording was not all checked
        against it (a copy passed on must not pass for the official form)."""
        words = self.draft
        op = draft["operation"]
        lines = [" · ".join(
            [f"{words['draft']} {draft['ref']}", f"{words['request']} {draft['request']}"]
            + ([f"{words['parent_request']} {draft['parent_request']}"]
               if draft.get("parent_request") else [])
            + [f"{words['operation']} {op['code']} ({op['name']})", f"TLP:{draft['tlp']}"]),
            f"{words['drafted']} {draft['drafted_at']} {words['by']} {draft['drafted_by']}"]
        if draft.get("left_out"):
            lines.append(f"{words['left_out']}: " + ", ".join(
                f"{i['ref']} (TLP:{i['tlp']})" for i in draft["left_out"]))
        if draft.get("red_included"):
            lines.append(f"{words['red_included']}: " + ", ".join(draft["red_included"]))
        lines.append(f"{self.source['citation']} · {self.source['url']}")
        if not self.source.get("verified") and self.source.get("note"):
            lines.append(str(self.source["note"]))
        return lines


# Control characters other than tab and line breaks: XML (the DOCX, the pdf's paragraph
# markup) cannot hold them, and a file must not fail for a byte pasted from a terminal.
_UNPRINTABLE = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                              0xFFFE, 0xFFFF])


def printable(value: str) -> str:
    """A typed value as a file can print it: what XML cannot hold is dropped."""
    return value.translate(_UNPRINTABLE)


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATES / name).read_text(encoding="utf-8"))
    return data


@cache
def structure(form: str) -> dict[str, Any]:
    """The language-neutral shape of `form` (its structure file)."""
    if form not in FORMS:
        raise ValueError(tr("unknown form {form}: the forms are {forms}").format(
            form=form, forms=", ".join(FORMS)))
    return _read(f"{form}.json")


@cache
def keys(form: str) -> tuple[str, ...]:
    """The field keys `form` shows, in section and box order."""
    return tuple(k for s in structure(form)["sections"] for k in s["fields"])


@cache
def languages(form: str) -> tuple[str, ...]:
    """The languages `form` has a text file in, sorted."""
    structure(form)
    return tuple(sorted(p.name.split(".")[-2] for p in TEMPLATES.glob(f"{form}.*.json")))


@cache
def template(form: str, lang: str) -> Template:
    """`form` in `lang`; a ValueError names the languages shipped and, for an official
    language of the form without a text file here, where its official text is."""
    shape = structure(form)
    if lang not in languages(form):
        shipped = ", ".join(languages(form))
        official = shape.get("official_texts", {}).get(lang)
        if official:
            raise ValueError(tr("form {form} has no text in {lang} yet; it exists in: "
                                "{shipped}. Its official text in that language: {url}").format(
                form=form, lang=lang, shipped=shipped, url=official))
        raise ValueError(tr("form {form} has no text in {lang} yet; it exists in: {shipped}")
                         .format(form=form, lang=lang, shipped=shipped))
    words = _read(f"{form}.{lang}.json")
    signature_labels: dict[str, str] = words["signatures"]
    sections = tuple(
        Section(id=s["id"], heading=words["sections"][s["id"]]["heading"],
                fields=tuple(s["fields"]), identifiers=tuple(s.get("identifiers", ())),
                signatures=tuple((k, signature_labels[k]) for k in s.get("signatures", ())),
                note=words["sections"][s["id"]].get("note", ""),
                text=words["sections"][s["id"]].get("text", ""))
        for s in shape["sections"])
    return Template(form=form, language=lang, title=words["title"],
                    preamble=tuple(words["preamble"]), sections=sections,
                    labels=words["labels"], categories=words["categories"],
                    choices=words["choices"], columns=words["columns"], draft=words["draft"],
                    source=words["source"])


def sectioned(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The draft's values in its form's sections, in order: what the files print and the
    canonical JSON holds, so a reader of either finds a value in the box it belongs to."""
    fields: dict[str, str | None] = draft["fields"]
    out: list[dict[str, Any]] = []
    for s in structure(draft["form"])["sections"]:
        section: dict[str, Any] = {"id": s["id"], "fields": {k: fields.get(k) for k in s["fields"]}}
        if s.get("identifiers"):
            section["identifiers"] = draft["identifiers"]
        out.append(section)
    return out


def canonical(draft: dict[str, Any]) -> bytes:
    """The same draft always gives the same bytes (sorted keys, no insignificant
    whitespace, UTF-8), so its digest can stand in the audit log for the file exported."""
    document = dict(draft)
    document["sections"] = sectioned(draft)
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def digest(draft: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON."""
    return hashlib.sha256(canonical(draft)).hexdigest()
