"""The request forms' files as an officer and a prosecutor receive them: the DOCX they
complete and sign, the pdf they review, the JSON a national system imports."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import docx
import jsonschema
import pypdf
import pytest

from commands.forms import document
from commands.forms.document import template
from commands.forms.fields import CATEGORIES, FIELDS, FORMS
from exports import form_files
from tests.form_samples import sample_draft

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "exports" / "schema"
                     / "form.schema.json").read_text())
SHIPPED = [(form, lang) for form in FORMS for lang in document.languages(form)]


def _draft(form: str, lang: str, **fields: str | None) -> dict[str, Any]:
    draft = sample_draft(form, **fields)
    draft["language"] = lang
    return draft


def _file(draft: dict[str, Any], fmt: str) -> bytes:
    out = io.BytesIO()
    form_files.write(draft, fmt, out)
    return out.getvalue()


def _docx_text(data: bytes) -> str:
    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [p.text for s in doc.sections for p in s.header.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _squeezed(text: str) -> str:
    """Text without whitespace: a wrapped value is cut into lines where the page ends."""
    return "".join(text.split())


def _printed_values(draft: dict[str, Any]) -> list[str]:
    """Every value the draft holds, as its form prints it (choices in the form's words)."""
    tpl = template(draft["form"], draft["language"])
    values = [value for section in tpl.sections for _, value in tpl.rows(section, draft)
              if value is not None]
    for ident in draft["identifiers"]:
        values += [ident["ref"], ident["value"]]
        values += [tpl.categories[c] for c in ident["categories"]]
        values += [t for t in (ident["from"], ident["to"]) if t]
    return values


def test_every_form_has_a_template_in_english() -> None:
    assert all("en" in document.languages(form) for form in FORMS)


@pytest.mark.parametrize(("form", "lang"), SHIPPED)
def test_the_docx_opens_with_every_heading_of_its_template_and_every_value(
        form: str, lang: str) -> None:
    draft = _draft(form, lang)
    text = _docx_text(_file(draft, "docx"))
    tpl = template(form, lang)
    for heading in [tpl.title] + [s.heading for s in tpl.sections]:
        assert heading in text
    for value in _printed_values(draft):
        assert value in text
    assert f"TLP:AMBER · {tpl.draft['banner']}" in text
    for section in tpl.sections:
        for _, label in section.signatures:
            assert f"{label}: ____" in text  # an empty box for the authority's hand


@pytest.mark.parametrize(("form", "lang"), SHIPPED)
def test_the_pdf_holds_the_headings_the_values_and_draft_on_every_page(
        form: str, lang: str) -> None:
    draft = _draft(form, lang)
    pages = _pdf_pages(_file(draft, "pdf"))
    tpl = template(form, lang)
    text = _squeezed("\n".join(pages))
    for heading in [tpl.title] + [s.heading for s in tpl.sections]:
        assert _squeezed(heading) in text
    for value in _printed_values(draft):
        assert _squeezed(value) in text
    for paragraph in tpl.preamble:
        assert _squeezed(paragraph) in text
    assert len(pages) > 1
    for page in pages:
        assert tpl.draft["banner"] in page
        assert page.count(tpl.draft["watermark"]) >= 2  # the banner's, and across the page


@pytest.mark.parametrize(("form", "lang"), SHIPPED)
def test_an_unanswered_field_is_shown_as_not_filled(form: str, lang: str) -> None:
    tpl = template(form, lang)
    shown = [k for s in tpl.sections for k in s.fields]
    complete = _draft(form, lang, **{key: "1" if FIELDS[key].years else
                                     (FIELDS[key].choices or ("given",))[0] for key in FIELDS})
    missing = copy.deepcopy(complete)
    missing["fields"][shown[-1]] = None
    not_filled = _squeezed(tpl.draft["not_filled"])
    assert not_filled not in _squeezed("".join(_pdf_pages(_file(complete, "pdf"))))
    assert not_filled in _squeezed("".join(_pdf_pages(_file(missing, "pdf"))))
    doc = docx.Document(io.BytesIO(_file(missing, "docx")))
    red = [run for table in doc.tables for row in table.rows for cell in row.cells
           for p in cell.paragraphs for run in p.runs if run.text == tpl.draft["not_filled"]]
    assert len(red) == 1
    assert red[0].font.color.rgb == docx.shared.RGBColor(0xC0, 0x00, 0x00)


def test_a_long_value_is_printed_whole_in_the_pdf() -> None:
    facts = " ".join(f"fact{n}" for n in range(FIELDS["facts"].max_len // 8))
    text = _squeezed("".join(_pdf_pages(_file(_draft("epoc", "en", facts=facts), "pdf"))))
    assert _squeezed(facts) in text


@pytest.mark.parametrize("form", FORMS)
def test_the_json_validates_against_the_schema_and_keeps_every_value(form: str) -> None:
    draft = sample_draft(form)
    data = json.loads(_file(draft, "json"))
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert {k: v for k, v in data.items() if k != "sections"} == draft
    sections = data["sections"]
    assert [s["id"] for s in sections] == [s["id"] for s in document.structure(form)["sections"]]
    placed = {k: v for s in sections for k, v in s["fields"].items()}
    assert all(draft["fields"][k] == v for k, v in placed.items())
    assert [s["identifiers"] for s in sections if "identifiers" in s] == [draft["identifiers"]]


def test_the_schema_refuses_sections_out_of_the_forms_order() -> None:
    data = json.loads(document.canonical(sample_draft("epoc")))
    data["sections"][0], data["sections"][1] = data["sections"][1], data["sections"][0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_names_the_forms_fields_and_categories_the_bot_knows() -> None:
    assert SCHEMA["properties"]["form"]["enum"] == list(FORMS)
    assert set(SCHEMA["$defs"]["fields"]["properties"]) == set(FIELDS)
    assert (SCHEMA["$defs"]["identifier"]["properties"]["categories"]["items"]["enum"]
            == list(CATEGORIES))


def test_the_same_draft_gives_the_same_bytes_whatever_the_order_of_its_keys() -> None:
    draft = sample_draft("epoc-pr")
    shuffled = {k: draft[k] for k in reversed(list(draft))}
    shuffled["fields"] = dict(reversed(list(draft["fields"].items())))
    shuffled["identifiers"] = [dict(reversed(list(i.items()))) for i in draft["identifiers"]]
    assert document.canonical(shuffled) == document.canonical(draft)
    assert b'": ' not in document.canonical(draft) and b"\n" not in document.canonical(draft)
    assert document.digest(shuffled) == hashlib.sha256(document.canonical(draft)).hexdigest()
    other = sample_draft("epoc-pr", offence="Fraud")
    assert document.digest(other) != document.digest(draft)


@pytest.mark.parametrize("form", FORMS)
def test_every_key_a_structure_names_is_a_field_shown_once_with_words_in_each_language(
        form: str) -> None:
    sections = document.structure(form)["sections"]
    keys = [k for s in sections for k in s["fields"]]
    assert set(keys) <= set(FIELDS)
    assert len(keys) == len(set(keys))
    assert len([s for s in sections if s.get("identifiers")]) == 1
    for lang in document.languages(form):
        tpl = template(form, lang)
        assert all(s.heading for s in tpl.sections)
        assert set(keys) <= set(tpl.labels)
        choices = {c for k in keys for c in FIELDS[k].choices or ()}
        assert choices <= set(tpl.choices)
        assert set(tpl.categories) == set(CATEGORIES)
        assert tpl.source["citation"] and isinstance(tpl.source["verified"], bool)


def test_the_eu_forms_list_the_official_text_in_each_of_the_24_languages() -> None:
    for form in ("epoc", "epoc-pr"):
        official = document.structure(form)["official_texts"]
        assert len(official) == 24
        assert official["de"] == ("https://eur-lex.europa.eu/legal-content/DE/TXT/"
                                  "?uri=CELEX:32023R1543")


def test_an_eu_language_without_a_template_names_its_official_text() -> None:
    with pytest.raises(ValueError) as refused:
        _file(_draft("epoc", "de"), "pdf")
    assert "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32023R1543" in str(
        refused.value)
    assert "en, fr" in str(refused.value)
    with pytest.raises(ValueError, match="it exists in: en, fr"):
        template("art29", "de")


def test_a_file_name_says_draft_and_holds_only_safe_characters() -> None:
    draft = sample_draft("epoc-pr")
    assert form_files.filename(draft, "docx") == "NIGHTFALL-F-3-epoc-pr-DRAFT.docx"
    draft["operation"]["code"] = "../NIGHT FALL/é"
    assert form_files.filename(draft, "pdf") == "NIGHT-FALL-F-3-epoc-pr-DRAFT.pdf"


def test_hashing_a_draft_loads_neither_python_docx_nor_reportlab() -> None:
    """The bot hashes the JSON inside a command: the file libraries load in the worker."""
    code = ("import sys; import commands.forms.document as d, exports.form_files as f; "
            "from tests.form_samples import sample_draft; d.digest(sample_draft()); "
            "print(sorted(m for m in ('docx', 'reportlab') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


def test_a_choice_is_printed_in_the_words_of_the_forms_language() -> None:
    draft = _draft("epoc", "fr", issuing_type="prosecutor", emergency="no")
    for text in (_docx_text(_file(draft, "docx")), "".join(_pdf_pages(_file(draft, "pdf")))):
        assert "Procureur" in text and "Non" in text
        assert "prosecutor" not in text


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_a_value_pasted_with_control_characters_still_makes_a_file(fmt: str) -> None:
    draft = _draft("epoc", "en", facts="log line\x00 \x1b[31mred\x1b[0m\x07 end")
    draft["identifiers"][0]["value"] = "203.0.113.5\x0c"
    text = _docx_text(_file(draft, fmt)) if fmt == "docx" else "".join(
        _pdf_pages(_file(draft, fmt)))
    assert "log line [31mred[0m end" in text
    assert json.loads(_file(draft, "json"))["fields"]["facts"] == draft["fields"]["facts"]


@pytest.mark.parametrize(("form", "lang"), SHIPPED)
def test_a_file_whose_wording_was_not_all_checked_says_so_and_names_its_source(
        form: str, lang: str) -> None:
    draft = _draft(form, lang)
    source = template(form, lang).source
    printed = _squeezed("".join(_pdf_pages(_file(draft, "pdf"))))
    words = _docx_text(_file(draft, "docx"))
    assert _squeezed(source["url"]) in printed and source["url"] in words
    if not source["verified"]:
        assert _squeezed(source["note"]) in printed and source["note"] in words
