"""/export in a partner room: the partner's assigned items only, at the link's TLP, as stix,
misp or csv, under the alias; md, json and pdf refused with the reason; the operation
room's /export unchanged."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import stix2
from pymisp import MISPEvent

from exports.stix import NAMESPACE
from tests.export_text import export_text
from tests.harness import OFFICER, Harness

PARTNER_ROOM = "!partner:localhost"
OTHER_ROOM = "!registrar:localhost"
HOST = "@host:localhost"
# What the police hold that the partner must never read in their file.
SECRETS = ("Firebreak", "FIREBREAK", "SUSPECT-77", "amber-c2.example", "other-host.example",
           "@lead:localhost", "@officer:localhost", "Bundeskriminalamt", "searches")


async def _linked(h: Harness) -> None:
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM, OTHER_ROOM}
    for line in ("!hhour 2026-11-25T04:00Z",
                 "!seize server 203.0.113.5 tlp=GREEN",          # S-1: the partner's
                 "!seize domain amber-c2.example tlp=AMBER",     # S-2: above the link
                 "!seize domain other-host.example tlp=GREEN",   # S-3: another partner's
                 "!arrest add SUSPECT-77 country=FR agency=FR-OFAC tlp=GREEN",
                 "!tally searches +3 tlp=GREEN",
                 '!task add "brief the partner" tlp=GREEN',
                 "!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN",      # K-1: theirs
                 "!takedown add S-3 agency=FR-OFAC at=H+30m tlp=GREEN",  # K-2: theirs, S-3 not
                 "!takedown add S-3 agency=DE-BKA at=H tlp=GREEN",       # K-3: the other's
                 f'!partner link {PARTNER_ROOM} name="Example Hosting" alias="Op Dawn"',
                 f'!partner link {OTHER_ROOM} name="Example Registrar"',
                 '!partner assign S-1 K-1 K-2 "Example Hosting"',
                 '!partner assign S-3 K-3 "Example Registrar"'):
        await h.ok(line)


async def _partner(h: Harness, line: str, **kw: object):  # type: ignore[no-untyped-def]
    return await h.send(line, sender=HOST, room=PARTNER_ROOM, **kw)


async def _file(h: Harness, fmt: str) -> tuple[str, str, bytes]:
    reply = await _partner(h, f"!export {fmt}")
    assert reply.ok, reply.text
    assert reply.attachment is not None
    data = reply.attachment.read()
    return reply.attachment.filename, reply.text, data


async def test_a_partners_stix_holds_its_assigned_items_only_under_the_alias(h: Harness) -> None:
    await _linked(h)
    name, said, data = await _file(h, "stix")
    assert name.startswith("Op-Dawn-") and name.endswith("-GREEN.stix.json")
    assert "3 records at or below TLP:GREEN" in said
    bundle = stix2.parse(data, allow_custom=False)
    names = {o.get("name") for o in bundle.objects}
    assert {"S-1 203.0.113.5", "K-1 takedown of S-1 203[.]0[.]113[.]5 by FR-OFAC",
            "K-2 takedown of S-3 (withheld) by FR-OFAC", "Op Dawn"} <= names
    assert not any(n and n.startswith("K-3") for n in names)
    text = data.decode()
    for secret in SECRETS:
        assert secret not in text, secret
    # Ids come from the link, not the operation's code: nothing to match them against.
    assert f"grouping--{uuid.uuid5(NAMESPACE, 'FIREBREAK')}" not in text


async def test_a_partners_misp_event_carries_only_its_seized_items(h: Harness) -> None:
    await _linked(h)
    name, _, data = await _file(h, "misp")
    assert name.startswith("Op-Dawn-") and name.endswith("-GREEN.misp.json")
    event = MISPEvent()
    event.load(data.decode())
    assert [a.value for a in event.attributes] == ["203.0.113.5"]
    assert event.info.startswith("Op Dawn: ")
    for secret in SECRETS:
        assert secret not in data.decode(), secret


async def test_a_partners_csv_has_its_seized_items_and_takedowns_and_no_member(
        h: Harness) -> None:
    await _linked(h)
    name, _, data = await _file(h, "csv")
    assert name.startswith("Op-Dawn-") and name.endswith("-GREEN.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["README.txt", "seizures.csv", "takedowns.csv"]
        seizures = zf.read("seizures.csv").decode().splitlines()
        takedowns = zf.read("takedowns.csv").decode().splitlines()
        assert zf.read("README.txt").decode().startswith("Op Dawn — TLP:GREEN")
    assert "created_by" not in seizures[0] and len(seizures) == 2
    assert [line.split(",")[:2] for line in takedowns[1:]] == [
        ["1", "S-1 203[.]0[.]113[.]5"], ["2", "S-3 (withheld)"]]
    for secret in SECRETS:
        assert secret not in export_text("csv", data), secret


async def test_a_partner_without_an_alias_reads_no_name_of_the_operation(h: Harness) -> None:
    await _linked(h)
    reply = await h.send("!export csv", sender=HOST, room=OTHER_ROOM)
    assert reply.ok and reply.attachment is not None
    assert reply.attachment.filename.startswith("the-joint-operation-")
    text = export_text("csv", reply.attachment.read())
    assert "other-host.example" in text and "203.0.113.5" not in text
    assert "Firebreak" not in text and "FIREBREAK" not in text


async def test_a_partner_room_is_refused_md_json_and_pdf_with_the_reason(h: Harness) -> None:
    await _linked(h)
    for fmt in ("md", "json", "pdf"):
        refused = await _partner(h, f"!export {fmt}")
        assert not refused.ok and refused.attachment is None
        assert (f"a partner room receives only its assigned items as stix, misp, csv: {fmt} "
                "is the police's report of the whole operation") in refused.text
    bare = await _partner(h, "!export")
    assert not bare.ok and "name the format: stix, misp, csv" in bare.text
    above = await _partner(h, "!export stix tlp=AMBER")
    assert not above.ok and "at or below TLP:GREEN only; TLP:AMBER is above it" in above.text


async def test_a_partner_may_ask_for_less_than_its_tlp(h: Harness) -> None:
    await _linked(h)
    reply = await _partner(h, "!export stix tlp=CLEAR")
    assert reply.ok and reply.attachment is not None
    assert "0 records at or below TLP:CLEAR" in reply.text


async def test_in_an_operation_room_export_is_unchanged(h: Harness) -> None:
    await _linked(h)
    reply = await h.ok("!export stix tlp=AMBER")
    assert reply.attachment is not None
    assert reply.attachment.filename.startswith("FIREBREAK-")
    bundle = json.loads(reply.attachment.read())
    by_type = {o["type"]: o for o in bundle["objects"]}
    assert by_type["grouping"]["name"] == "Operation Firebreak (FIREBREAK)"
    assert by_type["grouping"]["id"] == f"grouping--{uuid.uuid5(NAMESPACE, 'FIREBREAK')}"
    assert by_type["identity"]["name"] == "opsroom — operation FIREBREAK"
    assert "amber-c2.example" in json.dumps(bundle)  # every record, not a partner's part
    md = await h.ok("!export md tlp=AMBER")
    assert md.attachment is not None
    text = md.attachment.read().decode()
    assert "SUSPECT-77" in text and "other-host[.]example" in text


async def test_a_partner_export_unsent_at_a_crash_is_made_again_as_the_partners(
        h: Harness, tmp_path: Path) -> None:
    await _linked(h)
    first = await _partner(h, "!export csv", event_id="$partner-export")
    assert first.ok and first.attachment is not None
    before = first.attachment.read()
    await h.close()
    restarted = await Harness.open(tmp_path)
    [(room, stored)] = [(r, reply) for r, e, reply in await restarted.dispatcher.undelivered()
                        if e == "$partner-export"]
    assert room == PARTNER_ROOM and stored.attachment is None
    resent = await restarted.dispatcher.finish(stored)
    assert resent.attachment is not None and resent.attachment.filename.startswith("Op-Dawn-")
    assert resent.attachment.read() == before
    await restarted.close()


async def test_a_partner_export_made_again_after_an_unlink_is_refused_with_the_reason(
        h: Harness, tmp_path: Path) -> None:
    await _linked(h)
    first = await _partner(h, "!export stix", event_id="$partner-export")
    assert first.ok
    await h.ok('!partner unlink "Example Hosting"')
    await h.close()
    restarted = await Harness.open(tmp_path)
    [stored] = [reply for _, e, reply in await restarted.dispatcher.undelivered()
                if e == "$partner-export"]
    resent = await restarted.dispatcher.finish(stored)
    assert resent.attachment is None and not resent.ok
    assert "no longer linked to an operation: nothing is exported" in resent.text
    await restarted.close()


async def test_the_partner_room_withholds_a_takedowns_target_that_is_not_the_partners(
        h: Harness) -> None:
    await _linked(h)
    posts = await h.rows("SELECT content FROM outbox WHERE room_id=? ORDER BY id",
                         (PARTNER_ROOM,))
    told = "\n".join(json.loads(row["content"])["body"] for row in posts)
    assert "S-3 (withheld)" in told
    assert "other-host" not in told


async def test_an_assigned_seized_item_cannot_be_undone_so_no_new_one_inherits_its_place(
        h: Harness) -> None:
    """SQLite gives a deleted row's id to the next row: an undone assigned item would have
    passed its assignment to the next one recorded, shown to the partner unassigned."""
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    await h.ok(f'!partner link {PARTNER_ROOM} name="Example Hosting"')
    await h.ok("!seize other first-item tlp=GREEN", sender=OFFICER)
    await h.ok('!partner assign S-1 "Example Hosting"')
    refused = await h.fails("!undo", sender=OFFICER)
    assert "S-1 is used by its assignment to the partner Example Hosting" in refused.text
    await h.ok("!seize other never-assigned tlp=GREEN", sender=OFFICER)
    reply = await _partner(h, "!export csv")
    assert reply.attachment is not None
    text = export_text("csv", reply.attachment.read())
    assert "first-item" in text and "never-assigned" not in text
