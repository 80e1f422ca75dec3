"""Each form drafted in a scripted operation, as the officer gets it: every value the room
already knows is in the file without being typed again, in the DOCX (which opens with
python-docx and holds the annex's headings), in the pdf's text, and in the JSON (which
validates against the schema shipped in the repository)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docx
import jsonschema
import pypdf
import pytest

from commands.core.types import Settings
from commands.forms import document, providers
from commands.forms.fields import FIELDS, FORMS
from tests.harness import OFFICER, Harness

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "exports" / "schema" / "form.schema.json").read_text())


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[Harness]:
    directory = providers.load(ROOT / "providers.example.toml")
    h = await Harness.open(tmp_path, Settings(providers=directory))
    await h.setup_operation()
    await h.ok("!seize ip 203.0.113.5 country=NL provider=ExampleHost")
    await h.ok("!seize account nightfall-admin@mail.example")
    await h.ok("!preserve add ExampleHost country=NL ref=2026-PR-17 items=S-1,S-2 "
               "sent=2026-11-24T08:00Z")
    yield h
    await h.close()


async def _file(h: Harness, fmt: str, seq: int = 1) -> bytes:
    reply = await h.ok(f"!form F-{seq} export {fmt}")
    assert reply.attachment is not None and reply.attachment.path is not None
    return reply.attachment.path.read_bytes()


def _shown_keys(form: str) -> list[str]:
    return list(document.keys(form))


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("form", FORMS)
async def test_a_form_drafted_in_the_room_carries_what_the_room_knows_into_every_file(
        room: Harness, form: str) -> None:
    await room.ok(f"!preserve draft P-1 form={form}")
    data = json.loads(await _file(room, "json"))
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    known = {k for k in _shown_keys(form) if FIELDS[k].auto and k != "earlier_request"}
    empty = sorted(k for k in known if not data["fields"][k])
    assert empty == [], f"the room knows these, the {form} draft left them empty"
    assert [i["value"] for i in data["identifiers"]] == ["203.0.113.5",
                                                         "nightfall-admin@mail.example"]
    values = [str(data["fields"][k]) for k in sorted(known) if k != "sent"]
    values += ["203.0.113.5", "nightfall-admin@mail.example"]

    words = docx.Document(io.BytesIO(await _file(room, "docx")))
    text = "\n".join([p.text for p in words.paragraphs] +
                     [c.text for t in words.tables for row in t.rows for c in row.cells])
    for section in document.template(form, "en").sections:
        assert section.heading in text
    for value in values:
        assert value in text, f"{value!r} missing from the {form} DOCX"

    pages = pypdf.PdfReader(io.BytesIO(await _file(room, "pdf"))).pages
    printed = _squeezed("".join(page.extract_text() for page in pages))
    for value in values:
        assert _squeezed(value) in printed, f"{value!r} missing from the {form} pdf"


async def test_an_eu_order_is_addressed_to_the_legal_representative_from_the_directory(
        room: Harness) -> None:
    await room.ok("!preserve draft P-1 form=epoc-pr")
    data = json.loads(await _file(room, "json"))
    assert data["fields"]["addressee"] == "ExampleHost Europe B.V. (designated establishment)"
    assert data["fields"]["contact"]


async def test_the_operations_offence_told_once_fills_the_next_draft(room: Harness) -> None:
    await room.ok("!preserve draft P-1 form=art29")
    await room.ok('!form F-1 set offence="Ransomware extortion" max_penalty=10')
    await room.ok("!preserve add ExampleMail country=US from=P-1", sender=OFFICER)
    await room.ok("!preserve draft P-2 form=2703f", sender=OFFICER)
    shown = (await room.ok("!form F-2")).text
    assert "offence Ransomware extortion" in shown
    assert "earlier_request P-1 (2026-PR-17)" in shown  # follow-the-hop names its parent
    data: dict[str, Any] = json.loads(await _file(room, "json", seq=2))
    assert [i["value"] for i in data["identifiers"]] == ["203.0.113.5",
                                                         "nightfall-admin@mail.example"]



async def test_a_form_the_directory_says_the_provider_does_not_take_is_flagged(
        room: Harness) -> None:
    await room.ok("!preserve add ExampleMail country=US items=S-2")
    flagged = await room.ok("!preserve draft P-2 form=epoc-pr")
    assert "does not list epoc-pr among the forms ExampleMail takes (2703f, art29" in flagged.text
    letter = await room.ok("!preserve draft P-2 form=2703f")
    assert "does not list" not in letter.text


async def test_a_draft_shows_the_deadlines_it_sets_running(room: Harness) -> None:
    await room.ok("!preserve draft P-1 form=epoc")
    assert "production due 040800ZDEC26" in (await room.ok("!form F-1")).text  # sent + 10 d
