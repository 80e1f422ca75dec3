"""Deconfliction: two operations of one bot holding the same indicator or suspect learn of
the overlap, and whom to call once both leads agree; nothing else of each other."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from commands import deconflict
from commands.core import records
from commands.core.context import Context
from commands.core.types import Reply, Settings
from exports.build import build_export
from storage.outbox import Outbox, Post
from storage.tx import Actor, Tx
from tests.harness import LEAD, OFFICER, START, Harness

ROOT = Path(__file__).resolve().parent.parent

ROOM_B = "!other-op:localhost"
LEAD_B = "@lead-b:localhost"
OFFICER_B = "@officer-b:localhost"
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@pytest.fixture
async def two(tmp_path: Path) -> Harness:
    """Operation FIREBREAK in the harness room, operation NORTHWIND in ROOM_B."""
    h = await Harness.open(tmp_path, Settings(deconfliction=True))
    await h.setup_operation()
    await b_ok(h, '!op init "Operation Northwind" code=NORTHWIND', LEAD_B)
    await b_ok(h, "!agency add NL-POL country=NL tz=Europe/Amsterdam", LEAD_B)
    yield h
    await h.close()


async def b_send(h: Harness, body: str, sender: str = OFFICER_B) -> Reply:
    return await h.send(body, sender=sender, room=ROOM_B,
                        power=100 if sender == LEAD_B else 0)


async def b_ok(h: Harness, body: str, sender: str = OFFICER_B) -> Reply:
    reply = await b_send(h, body, sender)
    assert reply.ok, f"{body!r} failed: {reply.text}"
    return reply


async def posts(h: Harness, reply: Reply) -> list[Post]:
    """The posts the command wrote to the outbox for other rooms, as the runtime sends them."""
    return await Outbox(h.db).posts(reply.posts)


async def posted(h: Harness, reply: Reply, room: str) -> list[str]:
    return [p.content["body"] for p in await posts(h, reply) if p.room_id == room]


async def outbox(h: Harness, room: str) -> list[str]:
    rows = await h.rows("SELECT content FROM outbox WHERE room_id=? ORDER BY id", (room,))
    return [json.loads(r["content"])["body"] for r in rows]


@pytest.mark.parametrize(("kind", "first", "second"), [
    ("domain", "evil.example", "EVIL[.]Example."),
    ("domain", "bücher.example", "xn--bcher-kva.example"),
    ("domain", "bücher.example", "BÜCHER．example"),
    ("ip", "2001:db8::1", "2001:0DB8:0:0::1"),
    ("ip", "203.0.113.7", "203.0.113[.]7"),
    ("url", "https://evil.example/login?a=1", "hxxps://EVIL[.]example/login?a=1"),
    ("url", "http://bücher.example/x", "HTTP://xn--bcher-kva.example/x"),
    ("wallet", "0x52908400098527886E0F7030069857D2E4169EE7",
     "0x52908400098527886e0f7030069857d2e4169ee7"),
    ("wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
     "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"),
    ("account", "Admin@Evil.example", "admin[@]evil[.]example"),
])
async def test_two_spellings_of_one_value_are_a_hit(two: Harness, kind: str, first: str,
                                                    second: str) -> None:
    await b_ok(two, f"!seize {kind} {first}")
    reply = await two.ok(f"!seize {kind} {second}", sender=OFFICER)
    assert ("⚠️ deconfliction hit D-1: S-1 is also held by another operation; its lead has "
            "been told") in reply.text
    [notice] = await posted(two, reply, ROOM_B)
    assert notice.startswith("⚠️ deconfliction hit D-1 on your S-1")


@pytest.mark.parametrize(("kind", "first", "second"), [
    ("domain", "evil.example", "evil.example.net"),
    ("domain", "apple.com", "аррӏе.com"),  # Cyrillic look-alike: another domain
    ("ip", "203.0.113.7", "203.0.113.8"),
    ("url", "https://evil.example/a", "https://evil.example/b"),
    ("wallet", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1boatslrhtknngkdxeeobr76b53lettpyt"),
    ("account", "admin@evil.example", "admin@evil.example.net"),
])
async def test_different_values_are_no_hit(two: Harness, kind: str, first: str,
                                           second: str) -> None:
    await b_ok(two, f"!seize {kind} {first}")
    reply = await two.ok(f"!seize {kind} {second}", sender=OFFICER)
    assert "deconfliction" not in reply.text and reply.posts == ()
    assert await outbox(two, ROOM_B) == []


async def test_a_server_is_the_host_another_operation_recorded(two: Harness) -> None:
    await b_ok(two, "!seize ip 198.51.100.4")
    await b_ok(two, "!seize domain c2.evil.example")
    first = await two.ok("!seize server 198.51.100.4:8443", sender=OFFICER)
    second = await two.ok("!seize server C2.evil[.]example", sender=OFFICER)
    assert "D-1: S-1 is also held" in first.text and "D-2: S-2 is also held" in second.text
    assert await outbox(two, ROOM_B) == [
        (await posted(two, first, ROOM_B))[0], (await posted(two, second, ROOM_B))[0]]
    assert "on your S-1" in (await posted(two, first, ROOM_B))[0]
    assert "on your S-2" in (await posted(two, second, ROOM_B))[0]


async def test_a_url_on_a_recorded_domain_is_no_hit(two: Harness) -> None:
    await b_ok(two, "!seize domain pastebin.example")
    reply = await two.ok("!seize url https://pastebin.example/raw/abc", sender=OFFICER)
    assert "deconfliction" not in reply.text


async def test_the_same_suspect_reference_is_a_hit_whatever_its_case(two: Harness) -> None:
    await b_ok(two, "!arrest add FR-2026-0142 country=FR agency=NL-POL")
    reply = await two.ok("!arrest add fr-2026-0142 country=FR agency=FR-OFAC", sender=OFFICER)
    assert "D-1: A-1 is also held by another operation" in reply.text
    assert (await posted(two, reply, ROOM_B))[0].startswith("⚠️ deconfliction hit D-1 on your A-1")
    other = await two.ok("!arrest add FR-2026-0143 country=FR agency=FR-OFAC", sender=OFFICER)
    assert "deconfliction" not in other.text


async def test_neither_room_learns_the_others_data(two: Harness) -> None:
    await b_ok(two, '!seize domain overlap.example provider="Northwind Registrar" country=NL')
    reply = await two.ok("!seize domain overlap.example country=FR", sender=OFFICER)
    [notice] = await posted(two, reply, ROOM_B)
    for secret in ("NORTHWIND", "Northwind", "NL", ROOM_B, OFFICER_B, LEAD_B):
        assert secret not in reply.text and secret not in reply.html
    for secret in ("FIREBREAK", "Firebreak", "FR", two.room, OFFICER, LEAD, "overlap"):
        assert secret not in notice


async def test_a_red_record_gives_the_hit_without_its_number(two: Harness) -> None:
    await b_ok(two, "!seize domain quiet.example tlp=RED")
    reply = await two.ok("!seize domain quiet.example", sender=OFFICER)
    [notice] = await posted(two, reply, ROOM_B)
    assert notice.startswith("⚠️ deconfliction hit D-1 on your RED record")
    assert "S-1" not in notice
    await two.ok("!seize domain loud.example tlp=RED", sender=OFFICER)
    theirs = await b_ok(two, "!seize domain loud.example")
    assert "D-2: S-2 is also held by another operation" in theirs.text
    [notice] = await posted(two, theirs, two.room)
    assert notice.startswith("⚠️ deconfliction hit D-2 on your RED record")
    listing = await two.ok("!deconflict list")
    assert "D-2 · your RED record (domain)" in listing.text
    assert "D-1 · your S-1 (domain)" in listing.text
    listing_b = await b_ok(two, "!deconflict list", LEAD_B)
    assert "D-1 · your RED record (domain)" in listing_b.text


async def test_recording_a_red_value_names_no_record_in_the_hit(two: Harness) -> None:
    await b_ok(two, "!seize ip 192.0.2.9")
    reply = await two.ok("!seize ip 192.0.2.9 tlp=RED", sender=OFFICER)
    assert "⚠️ deconfliction hit D-1: a RED record is also held by another operation" \
        in reply.text


async def test_hit_numbers_are_shared_by_both_rooms_and_count_across_operations(
        two: Harness) -> None:
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    await b_ok(two, "!seize domain a.example")
    await two.ok("!seize domain a.example", sender=OFFICER)  # D-1: FIREBREAK–NORTHWIND
    reply = await two.ok("!seize domain a.example", room=room_c)  # D-2, D-3
    assert "D-2: S-1 is also held" in reply.text and "D-3: S-1 is also held" in reply.text
    assert {p.room_id for p in await posts(two, reply)} == {two.room, ROOM_B}
    lists = [(await two.ok("!deconflict list", room=r)).text for r in (two.room, room_c)]
    assert "D-1" in lists[0] and "D-2" in lists[0] and "D-3" not in lists[0]
    assert "D-1" not in lists[1] and "D-2" in lists[1] and "D-3" in lists[1]


async def test_both_leads_must_agree_in_either_order(two: Harness) -> None:
    await b_ok(two, "!seize wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    await two.ok("!seize wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", sender=OFFICER)

    first = await b_ok(two, "!deconflict share D-1", LEAD_B)
    assert "your agreement is recorded" in first.text and "been asked" in first.text
    assert "FIREBREAK" not in first.text and LEAD not in first.text
    [asked] = await posted(two, first, two.room)
    assert asked.startswith("⚠️ deconfliction hit D-1: the other operation's lead agrees")
    assert "NORTHWIND" not in asked and LEAD_B not in asked

    again = await b_send(two, "!deconflict share D-1", LEAD_B)
    assert not again.ok and f"{LEAD_B} already agreed to D-1" in again.text
    assert "FIREBREAK" not in again.text and again.posts == ()
    listing = await two.ok("!deconflict list")
    assert "the other operation's lead agreed: /deconflict share D-1" in listing.text

    second = await two.ok("!deconflict share D-1", sender=LEAD)
    assert f"D-1: introduced. The other operation is NORTHWIND; its lead is {LEAD_B}" \
        in second.text
    [told] = await posted(two, second, ROOM_B)
    assert f"D-1: introduced. The other operation is FIREBREAK; its lead is {LEAD}" in told
    for body in (second.text, told):  # nothing else: no record, no value, no officer
        assert "wallet" not in body and "bc1q" not in body and OFFICER not in body

    after = await two.send("!deconflict share D-1", sender=LEAD)
    assert not after.ok and "D-1 is already introduced (nothing changed)" in after.text
    assert f"operation is NORTHWIND, its lead {LEAD_B}" in after.text
    listing = await two.ok("!deconflict list")
    assert "introduced" in listing.text and "operation NORTHWIND, lead " + LEAD_B \
        in listing.text


async def test_one_lead_alone_introduces_nobody(two: Harness) -> None:
    await b_ok(two, "!seize domain alone.example")
    await two.ok("!seize domain alone.example", sender=OFFICER)
    await two.ok("!deconflict share D-1", sender=LEAD)
    listing_b = await b_ok(two, "!deconflict list", LEAD_B)
    listing_a = await two.ok("!deconflict list")
    assert "FIREBREAK" not in listing_b.text and LEAD not in listing_b.text
    assert "NORTHWIND" not in listing_a.text and LEAD_B not in listing_a.text
    assert f"{LEAD} agreed; waiting for the other operation's lead" in listing_a.text
    told_b = await outbox(two, ROOM_B)
    assert told_b[-1].startswith("⚠️ deconfliction hit D-1: the other operation's lead agrees")
    assert not any("FIREBREAK" in body or LEAD in body for body in told_b)


async def test_an_officer_cannot_share(two: Harness) -> None:
    await b_ok(two, "!seize domain officer.example")
    await two.ok("!seize domain officer.example", sender=OFFICER)
    reply = await two.fails("!deconflict share D-1", sender=OFFICER)
    assert "only a lead" in reply.text and reply.posts == ()
    assert await two.rows("SELECT * FROM deconfliction_sides WHERE shared_by IS NOT NULL") == []


async def test_share_of_an_unknown_or_foreign_hit_is_refused(two: Harness) -> None:
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    await b_ok(two, "!seize domain x.example")
    await two.ok("!seize domain x.example", room=room_c)  # D-1 between NORTHWIND and COBALT
    reply = await two.fails("!deconflict share D-1")
    assert "there is no deconfliction hit D-1 in this operation" in reply.text
    reply = await two.fails("!deconflict share S-1")
    assert "this needs a deconfliction hit id (D-N)" in reply.text
    assert "Usage: /deconflict share D-N" in reply.text


async def test_list_shows_the_rooms_hits_and_nothing_of_the_other_side(two: Harness) -> None:
    assert "Deconfliction hits: 0" in (await two.ok("!deconflict list")).text
    await b_ok(two, "!seize domain listed.example")
    await two.ok("!arrest add R-77 country=FR agency=FR-OFAC", sender=OFFICER)
    await b_ok(two, "!arrest add r-77 country=NL agency=NL-POL")
    await two.ok("!seize domain listed.example", sender=OFFICER)
    listing = await two.ok("!deconflict list")
    assert "Deconfliction hits: 2" in listing.text
    assert "D-2 · your S-1 (domain)" in listing.text
    assert "D-1 · your A-1 (suspect)" in listing.text
    for secret in ("NORTHWIND", ROOM_B, OFFICER_B, LEAD_B, "NL"):
        assert secret not in listing.text


async def test_config_off_looks_nothing_up_and_tells_nobody(tmp_path: Path) -> None:
    h = await Harness.open(tmp_path, Settings(deconfliction=False))
    try:
        await h.setup_operation()
        await b_ok(h, '!op init "Operation Northwind" code=NORTHWIND', LEAD_B)
        await b_ok(h, "!seize domain off.example")
        reply = await h.ok("!seize domain off.example", sender=OFFICER)
        assert "deconfliction" not in reply.text and reply.posts == ()
        assert await outbox(h, ROOM_B) == []
        assert await h.rows("SELECT * FROM deconfliction_sides") == []
        share = await h.fails("!deconflict share D-1")
        assert "deconfliction is off on this bot" in share.text
    finally:
        await h.close()


async def test_a_closed_operation_is_not_looked_up(two: Harness) -> None:
    await b_ok(two, "!seize domain closed.example")
    await b_ok(two, "!op phase closed", LEAD_B)
    reply = await two.ok("!seize domain closed.example", sender=OFFICER)
    assert "deconfliction" not in reply.text


async def test_undo_takes_the_value_out_and_the_hit_stays(two: Harness) -> None:
    await b_ok(two, "!seize domain oops.example")
    await two.ok("!seize domain oops.example", sender=OFFICER)
    undone = await two.ok("!undo", sender=OFFICER)
    assert "S-1 removed" in undone.text
    assert "Deconfliction hit D-1 stays: the other operation has been told." in undone.text
    assert "D-1 · your S-1 (undone) (domain)" in (await two.ok("!deconflict list")).text
    # The value is no longer held here: a third operation hits NORTHWIND only.
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    reply = await two.ok("!seize domain oops.example", room=room_c)
    assert {p.room_id for p in await posts(two, reply)} == {ROOM_B}


async def test_an_agreement_cannot_be_undone(two: Harness) -> None:
    await b_ok(two, "!seize domain agreed.example")
    await two.ok("!seize domain agreed.example", sender=OFFICER)
    await two.ok("!deconflict share D-1")
    reply = await two.fails("!undo")
    assert "cannot be undone" in reply.text
    [side] = await two.rows("SELECT shared_by FROM deconfliction_sides WHERE shared_by IS NOT "
                            "NULL")
    assert side["shared_by"] == LEAD


async def test_hits_are_audited_in_each_room_and_the_chains_verify(two: Harness) -> None:
    await b_ok(two, "!seize domain audited.example")
    await two.ok("!seize domain audited.example", sender=OFFICER)
    await b_ok(two, "!deconflict share D-1", LEAD_B)
    await two.ok("!deconflict share D-1")
    expected = {  # who changed this room's side: the hit, its lead's agreement, the other's
        ROOM_B: [("insert", deconflict.SYSTEM), ("update", LEAD_B),
                 ("update", deconflict.SYSTEM)],
        two.room: [("insert", deconflict.SYSTEM), ("update", LEAD)],
    }
    for room in (two.room, ROOM_B):
        entries = await two.rows("SELECT * FROM audit_log WHERE room_id=? AND "
                                 "tbl='deconfliction_sides' ORDER BY n", (room,))
        assert [(e["action"], e["sender"]) for e in entries] == expected[room]
        verified = await two.send("!audit verify", room=room)
        assert "intact" in verified.text, verified.text


async def test_the_audit_log_in_an_export_shows_nothing_of_the_other_operation(
        two: Harness) -> None:
    await b_ok(two, '!seize domain exported.example provider="Northwind Registrar"')
    await two.ok("!seize domain exported.example", sender=OFFICER)
    await b_ok(two, "!deconflict share D-1", LEAD_B)
    await two.ok("!deconflict share D-1")
    attachment, _ = await build_export(two.db, two.room, "json", "RED", NOW)
    text = attachment.read().decode()
    doc = json.loads(text)
    jsonschema.validate(doc, json.loads((ROOT / "exports/schema/export.schema.json").read_text()))
    assert any(e["tbl"] == "deconfliction_sides" for e in doc["audit_log"])
    for secret in ("NORTHWIND", "Northwind", ROOM_B, OFFICER_B, LEAD_B):
        assert secret not in text


async def test_records_from_before_the_index_are_indexed_once(two: Harness) -> None:
    await b_ok(two, "!seize domain older.example")
    await b_ok(two, "!arrest add OLD-1 country=NL agency=NL-POL")
    # As the migration leaves a database that had records: none indexed, all to do.
    await two.db.write(lambda tx: tx.execute("DELETE FROM deconfliction_index"))
    await two.db.write(lambda tx: tx.execute(
        "INSERT INTO deconfliction_backfill (tbl, upto) SELECT 'seizures', MAX(id) FROM "
        "seizures UNION ALL SELECT 'arrests', MAX(id) FROM arrests"))
    assert await deconflict.index_existing(two.db) == 2
    assert await deconflict.index_existing(two.db) == 0
    reply = await two.ok("!seize domain older.example", sender=OFFICER)
    assert "D-1: S-1 is also held" in reply.text
    reply = await two.ok("!arrest add old-1 country=NL agency=FR-OFAC", sender=OFFICER)
    assert "D-2: A-1 is also held" in reply.text


async def test_a_redelivered_command_makes_no_second_hit(two: Harness) -> None:
    await b_ok(two, "!seize domain twice.example")
    msg = two.incoming("!seize domain twice.example", sender=OFFICER)
    first = await two.dispatcher.handle(msg)
    again = await two.dispatcher.handle(msg)
    assert "D-1" in first.text and again.posts == ()
    assert len(await outbox(two, ROOM_B)) == 1
    assert len(await two.rows("SELECT * FROM deconfliction_hits")) == 1


async def _edit_value(h: Harness, seq: int, value: str) -> Reply:
    """A seizure's value changed the way an edit command would: `records.change`, then
    `deconflict.checked` (no command edits a value yet; this is the contract for one)."""
    async def edit(tx: Tx) -> Reply:
        op = await tx.one("SELECT * FROM operations WHERE room_id=?", (h.room,))
        msg = h.incoming(f"!seize edit S-{seq} value={value}", sender=OFFICER)
        ctx = Context(msg=msg, settings=Settings(deconfliction=True), tx=tx, op=op, agency=None,
                      zone=ZoneInfo("UTC"), now=START, clock=h.clock)
        row = await records.get(ctx, "seizures", seq)
        after = await records.change(ctx, "seizures", row, {"value": value})
        return await deconflict.checked(ctx, "seizures", after, Reply(True, "edited", "edited"))

    actor = Actor(h.room, OFFICER, f"$edit-{seq}-{value}", "!seize edit", "2026-11-24T12:00:00Z")
    return await h.db.write(edit, actor)


async def test_an_edited_value_is_looked_up_and_the_old_one_leaves_the_index(
        two: Harness) -> None:
    await b_ok(two, "!seize domain target.example")
    await two.ok("!seize domain typo.example", sender=OFFICER)
    edited = await _edit_value(two, 1, "target.example")
    assert "D-1: S-1 is also held by another operation" in edited.text
    assert [p.room_id for p in await posts(two, edited)] == [ROOM_B]
    again = await _edit_value(two, 1, "target.example")  # no change of value: no new hit
    assert again.posts == ()
    await _edit_value(two, 1, "elsewhere.example")
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    reply = await two.ok("!seize domain typo.example", room=room_c)
    assert "deconfliction" not in reply.text  # the old value is no longer held
    reply = await two.ok("!seize domain elsewhere.example", room=room_c)
    assert {p.room_id for p in await posts(two, reply)} == {two.room}
