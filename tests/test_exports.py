"""Every export format parsed back and checked; TLP filtering holds in all of them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import stix2
from pypdf import PdfReader

from commands import EXPORT_FORMATS
from exports.build import FORMATS, build_export
from exports.offline import export_to_file
from exports.stix import TLP2_IDS, sco_id
from tests.export_text import export_text
from tests.harness import OFFICER, Harness

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
SECRET = "red-only-secret.example"


@pytest.fixture
async def op(h: Harness) -> Harness:
    for line in [
        "!hhour 2026-11-25T04:00Z",
        f"!seize domain {SECRET} tlp=RED",
        "!seize ip 203.0.113.7 tlp=GREEN",
        "!seize url https://evil.example/=cmd tlp=GREEN",
        "!seize wallet bc1qexamplewallet tlp=GREEN",
        "!takedown add S-2 agency=FR-OFAC at=H tlp=GREEN",
        "!takedown add S-1 agency=FR-OFAC at=H+1h tlp=RED",
        '!task add "=HYPERLINK(1)+cmd" tlp=CLEAR',
        "!arrest add FR-2026-1 country=FR agency=FR-OFAC tlp=GREEN",
        "!asset seized 2.5 BTC tlp=GREEN",
        "!tally searches +3 tlp=GREEN",
        "!preserve add ExampleHost country=US tlp=GREEN",
    ]:
        await h.ok(line)
    await h.ok("!takedown done K-1")
    return h


async def export(h: Harness, fmt: str, tlp: str | None):  # type: ignore[no-untyped-def]
    attachment, _ = await build_export(h.db, h.room, fmt, tlp, NOW)
    return attachment


@pytest.mark.parametrize("fmt", ["md", "json", "csv", "stix", "misp", "pdf"])
async def test_red_record_never_in_a_green_export(op: Harness, fmt: str) -> None:
    green = await export(op, fmt, "GREEN")
    red = await export(op, fmt, "RED")
    assert green.filename == f"FIREBREAK-20261125T0600Z-GREEN.{_ext(fmt)}"
    green_text = export_text(fmt, green.read())
    assert SECRET not in green_text and "red-only-secret" not in green_text
    assert "red-only-secret" in export_text(fmt, red.read())


def _ext(fmt: str) -> str:
    return {"csv": "zip", "stix": "stix.json", "misp": "misp.json"}.get(fmt, fmt)


async def test_json_validates_against_the_schema_and_carries_everything(op: Harness) -> None:
    doc = json.loads((await export(op, "json", "RED")).read())
    schema = json.loads((ROOT / "exports/schema/export.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["schema_version"] == 1 and doc["tlp"] == "RED"
    assert len(doc["records"]["seizures"]) == 4
    assert doc["audit_log_included"] and doc["audit_log"][0]["n"] == 1
    green = json.loads((await export(op, "json", "GREEN")).read())
    jsonschema.validate(green, schema)
    assert green["audit_log_included"]
    shown = green["audit_log"]
    assert {e["tbl"] for e in shown} >= {"seizures", "takedowns", "tasks"}
    for entry in shown:  # only entries whose every image is at or below GREEN
        images = [json.loads(i) for i in (entry["before"], entry["after"]) if i]
        assert all(i["tlp"] in ("CLEAR", "GREEN") for i in images), entry
    assert [e["n"] for e in shown] == sorted(e["n"] for e in shown)


async def _levels_text(h: Harness, fmt: str) -> dict[str, str]:
    return {level: export_text(fmt, (await export(h, fmt, level)).read())
            for level in ("CLEAR", "GREEN", "AMBER", "RED")}


async def test_an_undone_red_task_is_in_no_lower_export(h: Harness) -> None:
    """Gone from the tasks table, but its insert and delete images stay in the audit log."""
    await h.ok('!task add "undone-red-task-text" tlp=RED', sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    await h.ok('!task add "a clear task" tlp=CLEAR', sender=OFFICER)
    for fmt in ("md", "json", "csv", "stix", "misp", "pdf"):
        text = await _levels_text(h, fmt)
        for level in ("CLEAR", "GREEN", "AMBER"):
            assert "undone-red-task-text" not in text[level], (fmt, level)
    assert "a clear task" in (await _levels_text(h, "json"))["CLEAR"]
    assert "undone-red-task-text" in (await _levels_text(h, "json"))["RED"]  # all of history


async def test_a_lowered_task_shows_only_what_it_held_at_the_lower_level(h: Harness) -> None:
    await h.ok('!task add "written-while-red" tlp=RED')
    await h.ok('!task edit T-1 text="fit for green"')
    await h.ok("!task edit T-1 tlp=GREEN")
    text = await _levels_text(h, "json")
    assert "fit for green" in text["GREEN"] and "written-while-red" not in text["GREEN"]
    assert "written-while-red" in text["RED"]


async def test_a_green_takedown_of_a_red_seized_item_withholds_its_value(h: Harness) -> None:
    await h.ok("!seize other red-seized-value tlp=RED")
    await h.ok("!takedown add S-1 agency=FR-OFAC tlp=GREEN")
    await h.ok('!takedown done K-1 "done"')
    for fmt in ("md", "json", "csv", "stix", "misp", "pdf"):
        text = await _levels_text(h, fmt)
        assert "red-seized-value" not in text["GREEN"], fmt
        assert "red-seized-value" in text["RED"], fmt
    assert "S-1 (withheld)" in (await _levels_text(h, "md"))["GREEN"]


async def test_a_task_raised_to_red_takes_its_earlier_text_and_command_out_of_amber(
        h: Harness) -> None:
    await h.ok('!task add "said-while-amber" tlp=AMBER', sender=OFFICER)
    await h.ok('!task add "another amber task" tlp=AMBER', sender=OFFICER)
    await h.ok("!task edit T-1 tlp=RED", sender=OFFICER)
    amber = json.loads((await export(h, "json", "AMBER")).read())
    assert "said-while-amber" not in json.dumps(amber)
    assert all(not (e["tbl"] == "tasks" and '"seq":1' in (e["after"] or ""))
               for e in amber["audit_log"])
    assert "another amber task" in json.dumps(amber["audit_log"])  # the other one stays
    red = json.loads((await export(h, "json", "RED")).read())
    [created] = [e for e in red["audit_log"] if e["tbl"] == "tasks" and e["action"] == "insert"
                 and "said-while-amber" in e["after"]]
    assert created["command"] == '!task add "said-while-amber" tlp=AMBER'


async def test_a_sitrep_note_stays_at_the_operations_level(h: Harness) -> None:
    await h.ok('!sitrep note "assessment-for-amber-eyes"')
    text = await _levels_text(h, "json")
    assert "assessment-for-amber-eyes" not in text["GREEN"]
    assert "assessment-for-amber-eyes" in text["AMBER"]


async def test_a_command_that_also_changed_a_withheld_record_shows_no_command_line(
        h: Harness) -> None:
    from exports.snapshot import WITHHELD_COMMAND

    await h.ok('!takedown add "free target" agency=FR-OFAC tlp=RED')
    await h.ok("!hhour 2026-11-25T04:00Z")  # sets the operation's, moves the RED takedown
    doc = json.loads((await export(h, "json", "AMBER")).read())
    [entry] = [e for e in doc["audit_log"] if e["tbl"] == "operations" and e["action"] ==
               "update"]
    assert entry["command"] == WITHHELD_COMMAND
    assert all(e["tbl"] != "takedowns" for e in doc["audit_log"])


async def test_the_export_reply_says_how_many_audit_entries_were_left_out(h: Harness) -> None:
    await h.ok('!task add "x" tlp=RED')
    reply = await h.ok("!export json tlp=GREEN")
    assert "audit entries are left out: they hold records above TLP:GREEN" in reply.text


async def test_csv_has_one_file_per_kind_and_neutralises_formulas(op: Harness) -> None:
    data = (await export(op, "csv", "AMBER")).read()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert {"tasks.csv", "arrests.csv", "seizures.csv", "takedowns.csv", "assets.csv",
                "tallies.csv", "preservations.csv"} <= names
        tasks = list(csv.DictReader(io.StringIO(zf.read("tasks.csv").decode())))
        seizures = list(csv.DictReader(io.StringIO(zf.read("seizures.csv").decode())))
    assert tasks[0]["text"].startswith("'=HYPERLINK")
    values = {s["value"] for s in seizures}
    assert "'https://evil.example/=cmd" not in values and "https://evil.example/=cmd" in values
    assert SECRET not in values


async def test_stix_round_trips_with_tlp2_markings_on_every_object(op: Harness) -> None:
    raw = (await export(op, "stix", "AMBER")).read()
    bundle = stix2.parse(raw, allow_custom=False)
    objects = json.loads(raw)["objects"]
    markings = {o["id"]: o for o in objects if o["type"] == "marking-definition"}
    assert set(markings) <= set(TLP2_IDS.values()) and markings
    green = markings[TLP2_IDS["GREEN"]]
    assert green["name"] == "TLP:GREEN"
    assert green["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"][
        "tlp_2_0"] == "green"
    for obj in objects:
        if obj["type"] != "marking-definition":
            assert obj["object_marking_refs"], obj["id"]
            assert set(obj["object_marking_refs"]) <= set(markings), obj["id"]
    types = {o["type"] for o in objects}
    assert {"ipv4-addr", "url", "infrastructure", "course-of-action", "relationship",
            "grouping", "identity"} <= types
    assert "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" not in raw.decode()
    assert len(bundle.objects) == len(objects)
    ids = {o["id"] for o in objects}
    [grouping] = [o for o in objects if o["type"] == "grouping"]
    assert set(grouping["object_refs"]) == ids - set(markings) - {grouping["id"]}
    for rel in (o for o in objects if o["type"] == "relationship"):
        assert {rel["source_ref"], rel["target_ref"]} <= ids  # the takedown and what it hit


async def test_pdf_has_tlp_on_every_page_and_the_records(op: Harness) -> None:
    for i in range(60):
        await op.ok(f'!task add "filler task {i} to make pages" tlp=GREEN', sender=OFFICER)
    reader = PdfReader(io.BytesIO((await export(op, "pdf", "GREEN")).read()))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert page.extract_text().count("TLP:GREEN") >= 2  # header and footer
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Operation Firebreak" in text and "FR-2026-1" in text and "203[.]0[.]113[.]7" in text


async def test_markdown_has_the_records_defanged(op: Harness) -> None:
    text = (await export(op, "md", "GREEN")).read().decode()
    assert text.startswith("**TLP:GREEN")
    assert "hxxps://evil[.]example/=cmd" in text and "FR-2026-1" in text
    assert "## Takedown timeline" in text and "K-1 FR-OFAC done" in text


@pytest.mark.parametrize("fmt", ["md", "json", "csv", "stix", "misp", "pdf"])
async def test_same_data_same_bytes_in_room_and_offline(op: Harness, fmt: str,
                                                        tmp_path: Path) -> None:
    first = await export(op, fmt, "GREEN")
    again = await export(op, fmt, "GREEN")
    assert first.read() == again.read()
    out = await export_to_file(op.db.path, op.room, fmt, "GREEN", tmp_path, now=NOW)
    assert out.name == first.filename and out.read_bytes() == first.read()


async def test_export_command_replies_with_file_and_summary(op: Harness) -> None:
    reply = await op.ok("!export stix tlp=GREEN", sender=OFFICER)
    assert reply.attachment is not None
    assert reply.attachment.filename.endswith("-GREEN.stix.json")
    assert "records at or below TLP:GREEN" in reply.text
    assert "is not one of" in (await op.fails("!export docx")).text
    assert "TLP 2.0" in (await op.fails("!export md tlp=WHITE")).text


async def test_offline_export_refuses_unknown_room(op: Harness, tmp_path: Path) -> None:
    from exports.snapshot import ExportError

    with pytest.raises(ExportError):
        await export_to_file(op.db.path, "!nope:localhost", "md", None, tmp_path)


def test_observable_ids_match_the_stix2_library() -> None:
    assert sco_id("domain-name", "evil.example") == stix2.DomainName(value="evil.example").id
    for url in ("https://bücher.example/x", 'https://e.example/a"b\\c?q=1&r=€'):
        assert sco_id("url", url) == stix2.URL(value=url).id
    assert sco_id("ipv6-addr", "2001:db8::1") == stix2.IPv6Address(value="2001:db8::1").id


async def test_pdf_points_to_json_and_csv_beyond_its_row_limit(
        op: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import exports.pdf
    from exports.build import _make

    monkeypatch.setattr(exports.pdf, "MAX_ROWS", 2)  # in this process: build in-process too
    out = op.db.path.parent / "limited.pdf"
    _make(op.db.path, op.room, "pdf", "RED", "2026-11-25T06:00:00Z", out)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "2 more seized infrastructure: see the json or csv export" in text


async def test_an_export_unsent_at_a_crash_brings_its_file_after_restart(
        op: Harness, tmp_path: Path) -> None:
    """Only the reply text is stored; the file must be made again, not silently dropped."""
    first = await op.ok("!export csv tlp=GREEN", event_id="$export")
    assert first.attachment is not None  # built, but the bot died before sending it
    await op.close()
    restarted = await Harness.open(tmp_path)
    [(room, stored)] = [(r, reply) for r, e, reply in await restarted.dispatcher.undelivered()
                        if e == "$export"]
    assert room == op.room and stored.attachment is None
    resent = await restarted.dispatcher.finish(stored)
    assert resent.attachment is not None and resent.attachment.filename.endswith("-GREEN.zip")
    assert "records at or below TLP:GREEN" in resent.text
    # The same event delivered again by the sync (its reply never confirmed): file again.
    again = await restarted.send("!export csv tlp=GREEN", event_id="$export")
    assert again.attachment is not None and not again.duplicate
    await restarted.dispatcher.delivered("$export")
    assert "$export" not in [e for _, e, _ in await restarted.dispatcher.undelivered()]
    await restarted.close()


async def test_an_export_with_empty_record_kinds_is_still_well_formed(op: Harness) -> None:
    """Only the CLEAR task is at or below CLEAR: every other kind is written empty."""
    doc = json.loads((await export(op, "json", "CLEAR")).read())
    jsonschema.validate(doc, json.loads((ROOT / "exports/schema/export.schema.json").read_text()))
    assert [k for k, v in doc["records"].items() if v] == ["tasks"]
    bundle = stix2.parse((await export(op, "stix", "CLEAR")).read(), allow_custom=False)
    assert {o.type for o in bundle.objects} == {"marking-definition", "identity", "grouping"}
    assert {ref for o in bundle.objects for ref in o.get("object_marking_refs", [])} == {
        TLP2_IDS["CLEAR"]}
    md = (await export(op, "md", "CLEAR")).read().decode()
    assert "## Seized infrastructure (0)\n\nNone." in md and "## Tasks (1)" in md
    with zipfile.ZipFile(io.BytesIO((await export(op, "csv", "CLEAR")).read())) as zf:
        assert zf.read("seizures.csv").decode().count("\r\n") == 1  # the header only


def test_every_format_offered_is_one_the_exports_build() -> None:
    """/export and `opsroom export --format` offer the names commands/export.py declares;
    exports/build.py holds a builder per name: an offered format without one would fail
    only when someone asks for it."""
    assert set(EXPORT_FORMATS) == set(FORMATS)
