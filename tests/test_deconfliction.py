"""Deconfliction: two operations of one bot holding the same indicator or suspect learn of
the overlap, and whom to call once both leads agree; nothing else of each other."""

from __future__ import annotations

import gettext
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from bot.scheduler import SitrepScheduler
from commands import deconflict
from commands.core import i18n, records
from commands.core.context import Context
from commands.core.types import Reply, Settings
from exports.build import build_export
from storage import languages, partners
from storage.database import Database
from storage.outbox import Outbox, Post
from storage.tx import Actor, Tx
from tests.harness import LEAD, OFFICER, START, Harness

ROOT = Path(__file__).resolve().parent.parent

ROOM_B = "!other-op:localhost"
LEAD_B = "@lead-b:localhost"
OFFICER_B = "@officer-b:localhost"
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
GRACE = Settings().deconfliction_grace
LABEL = re.compile(r"D-[A-Z]{2,4}-\d+")


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


async def release(h: Harness, later: timedelta = GRACE, db: Database | None = None
                  ) -> list[Post]:
    """The scheduler's turn `later` from now: the held hits that are due are made and told."""
    h.clock.current = h.clock.now() + later
    return await (db or h.db).write(lambda tx: deconflict.release_due(tx, h.clock.now()))


def told(released: list[Post], room: str) -> list[str]:
    return [p.content["body"] for p in released if p.room_id == room]


def label_in(text: str) -> str:
    found = LABEL.search(text)
    assert found, text
    return found.group()


async def hit(h: Harness, room: str = ROOM_B) -> str:
    """Let the grace period pass: the label of the one hit told to `room`."""
    [notice] = told(await release(h), room)
    return label_in(notice)


class MarkedFrench(gettext.NullTranslations):
    """A stand-in French catalogue that marks every string it gives: a test sees in which
    language a text was made, whatever the translations say (or before they are merged)."""

    def gettext(self, message: str) -> str:
        return "[fr] " + message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return "[fr] " + (msgid1 if n == 1 else msgid2)


@pytest.fixture
def marked_french(monkeypatch: pytest.MonkeyPatch) -> None:
    real = i18n.catalogue
    monkeypatch.setattr(i18n, "catalogue",
                        lambda lang: MarkedFrench() if lang == "fr" else real(lang))


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
    assert ("⚠️ deconfliction hit: S-1 is also held by another operation; its lead is told at "
            "241210ZNOV26 if S-1 still holds the value") in reply.text
    assert reply.posts == () and await outbox(two, ROOM_B) == []
    released = await release(two)
    [notice] = told(released, ROOM_B)
    assert re.match(r"⚠️ deconfliction hit D-[A-Z]{2}-1 on your S-1\n", notice), notice
    [mine] = told(released, two.room)
    assert mine.startswith(f"⚠️ deconfliction hit {label_in(notice)}: your S-1 is also held "
                           "by another operation, whose lead has now been told")


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
    assert await release(two) == []


async def test_a_notice_to_another_room_is_in_that_rooms_language(
        two: Harness, marked_french: None) -> None:
    """NORTHWIND's room reads French (/op lang fr); FIREBREAK's members read English. Each
    notice is made in the language of the room it goes to, whoever's command or turn of
    the scheduler made it; each reply in its sender's."""
    await b_ok(two, "!op lang fr", LEAD_B)
    await b_ok(two, "!seize domain babel.example")
    reply = await two.ok("!seize domain babel.example", sender=OFFICER)
    assert reply.lang == "en" and "[fr]" not in reply.text
    assert "hit: S-1 is also held by another operation" in reply.text
    released = await release(two)
    [notice], [mine] = told(released, ROOM_B), told(released, two.room)
    d = label_in(notice)
    assert notice.startswith(f"⚠️ [fr] deconfliction hit {d} on your S-1\n[fr] Another "
                             "operation served by this bot holds the same value. [fr] A lead")
    assert mine.startswith(f"⚠️ deconfliction hit {d}: your S-1") and "[fr]" not in mine

    asked = await two.ok(f"!deconflict share {d}")  # an English lead's command...
    assert asked.lang == "en" and "[fr]" not in asked.text
    [post] = await posted(two, asked, ROOM_B)  # ...tells the French room in French
    assert post.startswith(f"⚠️ [fr] deconfliction hit {d}: the other operation's lead agrees")
    assert "\n[fr] A lead here: /deconflict share" in post

    agreed = await b_ok(two, f"!deconflict share {d}", LEAD_B)  # a French lead's command...
    assert agreed.lang == "fr" and agreed.text.startswith(f"🤝 [fr] {d}: introduced.")
    [post] = await posted(two, agreed, two.room)  # ...tells the English room in English
    assert post == f"🤝 deconfliction hit {d}: introduced. The other operation is NORTHWIND; " \
        f"its lead is {LEAD_B}."


async def test_a_server_is_the_host_another_operation_recorded(two: Harness) -> None:
    await b_ok(two, "!seize ip 198.51.100.4")
    await b_ok(two, "!seize domain c2.evil.example")
    first = await two.ok("!seize server 198.51.100.4:8443", sender=OFFICER)
    second = await two.ok("!seize server C2.evil[.]example", sender=OFFICER)
    assert "hit: S-1 is also held" in first.text and "hit: S-2 is also held" in second.text
    notices = told(await release(two), ROOM_B)
    assert [n.split("\n")[0][-3:] for n in notices] == ["S-1", "S-2"]
    one, two_ = (label_in(n) for n in notices)
    assert one.endswith("-1") and two_ == one[:-1] + "2"  # one pair: one tag, counted on


async def test_a_url_on_a_recorded_domain_is_no_hit(two: Harness) -> None:
    await b_ok(two, "!seize domain pastebin.example")
    reply = await two.ok("!seize url https://pastebin.example/raw/abc", sender=OFFICER)
    assert "deconfliction" not in reply.text


async def test_the_same_suspect_reference_is_a_hit_whatever_its_case(two: Harness) -> None:
    await b_ok(two, "!arrest add FR-2026-0142 country=FR agency=NL-POL")
    reply = await two.ok("!arrest add fr-2026-0142 country=FR agency=FR-OFAC", sender=OFFICER)
    assert "hit: A-1 is also held by another operation" in reply.text
    [notice] = told(await release(two), ROOM_B)
    assert notice.startswith(f"⚠️ deconfliction hit {label_in(notice)} on your A-1")
    other = await two.ok("!arrest add FR-2026-0143 country=FR agency=FR-OFAC", sender=OFFICER)
    assert "deconfliction" not in other.text


async def test_neither_room_learns_the_others_data(two: Harness) -> None:
    await b_ok(two, '!seize domain overlap.example provider="Northwind Registrar" country=NL')
    reply = await two.ok("!seize domain overlap.example country=FR", sender=OFFICER)
    released = await release(two)
    [notice], [mine] = told(released, ROOM_B), told(released, two.room)
    for secret in ("NORTHWIND", "Northwind", "NL", ROOM_B, OFFICER_B, LEAD_B):
        assert secret not in reply.text and secret not in reply.html and secret not in mine
    for secret in ("FIREBREAK", "Firebreak", "FR", two.room, OFFICER, LEAD, "overlap"):
        assert secret not in notice


async def test_a_red_record_is_not_hit_unless_its_lead_opted_it_in(two: Harness) -> None:
    await b_ok(two, "!seize domain quiet.example tlp=RED")
    reply = await two.ok("!seize domain quiet.example", sender=OFFICER)
    assert "deconfliction" not in reply.text
    assert await release(two) == []
    opted = await b_ok(two, "!deconflict red on", LEAD_B)
    assert "RED and AMBER+STRICT records are now compared" in opted.text
    await two.ok("!undo", sender=OFFICER)  # recorded again: looked up again
    reply = await two.ok("!seize domain quiet.example", sender=OFFICER)
    assert "hit: S-2 is also held by another operation" in reply.text
    [notice] = told(await release(two), ROOM_B)
    assert notice.startswith(f"⚠️ deconfliction hit {label_in(notice)} on your RED record")
    assert "S-1" not in notice


async def test_an_amber_strict_record_does_not_look_others_up_unless_opted_in(
        two: Harness) -> None:
    await b_ok(two, "!seize ip 192.0.2.9")
    reply = await two.ok("!seize ip 192.0.2.9 tlp=AMBER+STRICT", sender=OFFICER)
    assert ("(deconfliction: S-1 is not compared with other operations: this operation's RED "
            "and AMBER+STRICT records are compared only once a lead opts them in with "
            "/deconflict red on)") in reply.text
    assert await release(two) == []
    refused = await two.fails("!deconflict red on", sender=OFFICER)
    assert "only a lead" in refused.text
    await two.ok("!deconflict red on")
    again = await two.fails("!deconflict red on")
    assert "already on" in again.text and "nothing changed" in again.text
    await two.ok("!undo", sender=OFFICER)
    reply = await two.ok("!seize ip 192.0.2.9 tlp=AMBER+STRICT", sender=OFFICER)
    assert "hit: S-2 is also held by another operation" in reply.text
    [entry] = await two.rows("SELECT * FROM audit_log WHERE room_id=? AND tbl='operations' "
                             "AND action='update'", (two.room,))
    assert entry["sender"] == LEAD and '"deconflict_red":1' in entry["after"]


async def test_a_red_record_opted_in_gives_the_hit_without_its_number(two: Harness) -> None:
    await b_ok(two, "!deconflict red on", LEAD_B)
    await two.ok("!deconflict red on")
    await b_ok(two, "!seize domain quiet.example tlp=RED")
    await two.ok("!seize domain quiet.example", sender=OFFICER)
    d1 = await hit(two)
    await two.ok("!seize domain loud.example tlp=RED", sender=OFFICER)
    theirs = await b_ok(two, "!seize domain loud.example")
    assert "hit: S-2 is also held by another operation" in theirs.text
    [notice] = told(await release(two), two.room)
    d2 = label_in(notice)
    assert notice.startswith(f"⚠️ deconfliction hit {d2} on your RED record")
    listing = await two.ok("!deconflict list")
    assert f"{d2} · your RED record (domain)" in listing.text
    assert f"{d1} · your S-1 (domain)" in listing.text
    listing_b = await b_ok(two, "!deconflict list", LEAD_B)
    assert f"{d1} · your RED record (domain)" in listing_b.text
    await b_ok(two, "!seize ip 192.0.2.11")
    reply = await two.ok("!seize ip 192.0.2.11 tlp=RED", sender=OFFICER)
    assert "⚠️ deconfliction hit: a RED record is also held by another operation" in reply.text
    assert "if the record still holds the value" in reply.text
    assert "S-3" not in reply.text.split("\n", 1)[1]  # its own line names it; the hit's not


async def test_d_numbers_count_per_pair_of_operations_and_both_pairs_start_at_1(
        two: Harness) -> None:
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    await b_ok(two, "!seize domain a.example")
    await two.ok("!seize domain a.example", sender=OFFICER)  # FIREBREAK–NORTHWIND
    ab = await hit(two)
    reply = await two.ok("!seize domain a.example", room=room_c)  # COBALT with both
    assert "also held by 2 other operations" in reply.text
    released = await release(two)
    assert {p.room_id for p in released} == {two.room, ROOM_B, room_c}
    [ca, cb] = told(released, room_c)
    labels = {label_in(ca), label_in(cb)}
    assert all(x.endswith("-1") for x in labels | {ab}) and len(labels | {ab}) == 3
    lists = {r: (await two.ok("!deconflict list", room=r)).text
             for r in (two.room, ROOM_B, room_c)}
    assert "Deconfliction hits: 2" in lists[room_c]
    for x in labels:  # each hit in both its rooms, under one label
        assert sum(x in text for text in lists.values()) == 2
    assert ab in lists[two.room] and ab in lists[ROOM_B] and ab not in lists[room_c]
    await two.ok("!seize domain b.example", room=room_c)
    await two.ok("!seize domain b.example", sender=OFFICER)
    [next_ca] = told(await release(two), room_c)
    listing_a = (await two.ok("!deconflict list")).text
    ca_tag = next(x for x in labels if x in listing_a)
    assert label_in(next_ca) == ca_tag[:-1] + "2"


async def test_both_leads_must_agree_in_either_order(two: Harness) -> None:
    await b_ok(two, "!seize wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    await two.ok("!seize wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", sender=OFFICER)
    d = await hit(two)
    typed = d.lower().replace("-", "")  # as typed in a hurry: dkx1

    first = await b_ok(two, f"!deconflict share {typed}", LEAD_B)
    assert "your agreement is recorded" in first.text and "been asked" in first.text
    assert "FIREBREAK" not in first.text and LEAD not in first.text
    [asked] = await posted(two, first, two.room)
    assert asked.startswith(f"⚠️ deconfliction hit {d}: the other operation's lead agrees")
    assert "NORTHWIND" not in asked and LEAD_B not in asked

    again = await b_send(two, f"!deconflict share {d}", LEAD_B)
    assert not again.ok and f"{LEAD_B} already agreed to {d}" in again.text
    assert "FIREBREAK" not in again.text and again.posts == ()
    listing = await two.ok("!deconflict list")
    assert f"the other operation's lead agreed: /deconflict share {d}" in listing.text

    second = await two.ok(f"!deconflict share {d}", sender=LEAD)
    assert f"{d}: introduced. The other operation is NORTHWIND; its lead is {LEAD_B}" \
        in second.text
    [notice] = await posted(two, second, ROOM_B)
    assert f"{d}: introduced. The other operation is FIREBREAK; its lead is {LEAD}" in notice
    for body in (second.text, notice):  # nothing else: no record, no value, no officer
        assert "wallet" not in body and "bc1q" not in body and OFFICER not in body

    after = await two.send(f"!deconflict share {d}", sender=LEAD)
    assert not after.ok and f"{d} is already introduced (nothing changed)" in after.text
    assert f"operation is NORTHWIND, its lead {LEAD_B}" in after.text
    listing = await two.ok("!deconflict list")
    assert "introduced" in listing.text and "operation NORTHWIND, lead " + LEAD_B \
        in listing.text


async def test_one_lead_alone_introduces_nobody(two: Harness) -> None:
    await b_ok(two, "!seize domain alone.example")
    await two.ok("!seize domain alone.example", sender=OFFICER)
    d = await hit(two)
    await two.ok(f"!deconflict share {d}", sender=LEAD)
    listing_b = await b_ok(two, "!deconflict list", LEAD_B)
    listing_a = await two.ok("!deconflict list")
    assert "FIREBREAK" not in listing_b.text and LEAD not in listing_b.text
    assert "NORTHWIND" not in listing_a.text and LEAD_B not in listing_a.text
    assert f"{LEAD} agreed; waiting for the other operation's lead" in listing_a.text
    told_b = await outbox(two, ROOM_B)
    assert told_b[-1].startswith(f"⚠️ deconfliction hit {d}: the other operation's lead agrees")
    assert not any("FIREBREAK" in body or LEAD in body for body in told_b)


async def test_an_officer_cannot_share(two: Harness) -> None:
    await b_ok(two, "!seize domain officer.example")
    await two.ok("!seize domain officer.example", sender=OFFICER)
    reply = await two.fails(f"!deconflict share {await hit(two)}", sender=OFFICER)
    assert "only a lead" in reply.text and reply.posts == ()
    assert await two.rows("SELECT * FROM deconfliction_sides WHERE shared_by IS NOT NULL") == []


async def test_share_of_an_unknown_or_foreign_hit_is_refused(two: Harness) -> None:
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    await b_ok(two, "!seize domain x.example")
    await two.ok("!seize domain x.example", room=room_c)  # between NORTHWIND and COBALT
    d = await hit(two)
    reply = await two.fails(f"!deconflict share {d}")
    assert f"there is no deconfliction hit {d} in this operation" in reply.text
    reply = await two.fails("!deconflict share S-1")
    assert "this needs a deconfliction hit id (D-N)" in reply.text
    assert "Usage: /deconflict share D-XX-N" in reply.text


async def test_list_shows_the_rooms_hits_and_nothing_of_the_other_side(two: Harness) -> None:
    assert "Deconfliction hits: 0" in (await two.ok("!deconflict list")).text
    await b_ok(two, "!seize domain listed.example")
    await two.ok("!arrest add R-77 country=FR agency=FR-OFAC", sender=OFFICER)
    await b_ok(two, "!arrest add r-77 country=NL agency=NL-POL")
    await two.ok("!seize domain listed.example", sender=OFFICER)
    [first, second] = sorted(told(await release(two), two.room))
    listing = await two.ok("!deconflict list")
    assert "Deconfliction hits: 2" in listing.text
    assert f"{label_in(first)} · your A-1 (suspect)" in listing.text
    assert f"{label_in(second)} · your S-1 (domain)" in listing.text
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
        assert await release(h) == [] and await outbox(h, ROOM_B) == []
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
    d = await hit(two)
    undone = await two.ok("!undo", sender=OFFICER)
    assert "S-1 removed" in undone.text
    assert f"Deconfliction hit {d} stays: the other operation has been told." in undone.text
    assert f"{d} · your S-1 (undone) (domain)" in (await two.ok("!deconflict list")).text
    # The value is no longer held here: a third operation hits NORTHWIND only.
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    await two.ok("!seize domain oops.example", room=room_c)
    assert {p.room_id for p in await release(two)} == {ROOM_B, room_c}


async def test_an_agreement_cannot_be_undone(two: Harness) -> None:
    await b_ok(two, "!seize domain agreed.example")
    await two.ok("!seize domain agreed.example", sender=OFFICER)
    await two.ok(f"!deconflict share {await hit(two)}")
    reply = await two.fails("!undo")
    assert "cannot be undone" in reply.text
    [side] = await two.rows("SELECT shared_by FROM deconfliction_sides WHERE shared_by IS NOT "
                            "NULL")
    assert side["shared_by"] == LEAD


async def test_hits_are_audited_in_each_room_and_the_chains_verify(two: Harness) -> None:
    await b_ok(two, "!seize domain audited.example")
    await two.ok("!seize domain audited.example", sender=OFFICER)
    d = await hit(two)
    await b_ok(two, f"!deconflict share {d}", LEAD_B)
    await two.ok(f"!deconflict share {d}")
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
    d = await hit(two)
    await b_ok(two, f"!deconflict share {d}", LEAD_B)
    await two.ok(f"!deconflict share {d}")
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
    assert "hit: S-1 is also held" in reply.text
    reply = await two.ok("!arrest add old-1 country=NL agency=FR-OFAC", sender=OFFICER)
    assert "hit: A-1 is also held" in reply.text


async def test_a_redelivered_command_makes_no_second_hit(two: Harness) -> None:
    await b_ok(two, "!seize domain twice.example")
    msg = two.incoming("!seize domain twice.example", sender=OFFICER)
    first = await two.dispatcher.handle(msg)
    again = await two.dispatcher.handle(msg)
    assert "hit: S-1" in first.text and again.text == first.text
    assert len(told(await release(two), ROOM_B)) == 1
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
    assert "hit: S-1 is also held by another operation" in edited.text
    assert [p.room_id for p in await release(two)] == [ROOM_B, two.room]
    again = await _edit_value(two, 1, "target.example")  # no change of value: no new hit
    assert "deconfliction" not in again.text
    await _edit_value(two, 1, "elsewhere.example")
    room_c = "!third:localhost"
    await two.ok('!op init "Operation Cobalt" code=COBALT', room=room_c)
    reply = await two.ok("!seize domain typo.example", room=room_c)
    assert "deconfliction" not in reply.text  # the old value is no longer held
    await two.ok("!seize domain elsewhere.example", room=room_c)
    assert {p.room_id for p in await release(two)} == {two.room, room_c}


# -- not an oracle, not a megaphone (issue 16) ---------------------------------------------

async def other_room_log(h: Harness) -> list[dict]:
    return await h.rows("SELECT * FROM audit_log WHERE room_id=? AND tbl='deconfliction_sides'",
                        (ROOM_B,))


async def test_a_value_undone_within_the_grace_period_is_never_told(two: Harness) -> None:
    await b_ok(two, "!seize domain probe.example")
    reply = await two.ok("!seize domain probe.example", sender=OFFICER)
    assert "hit: S-1 is also held by another operation" in reply.text
    assert await release(two, timedelta(minutes=9)) == []  # the scheduler's turns meanwhile
    undone = await two.ok("!undo", sender=OFFICER)
    assert ("Deconfliction hit withdrawn: it was undone within its grace period, so the other "
            "operation is not told.") in undone.text
    assert await release(two) == []
    assert await outbox(two, ROOM_B) == [] and await other_room_log(two) == []
    assert "Deconfliction hits: 0" in (await b_ok(two, "!deconflict list", LEAD_B)).text


async def test_five_rounds_of_seize_and_undo_tell_nothing_and_a_kept_record_tells_once(
        two: Harness) -> None:
    await b_ok(two, "!seize domain probe.example")
    for _ in range(5):
        await two.ok("!seize domain probe.example", sender=OFFICER)
        two.clock.advance(minutes=1)
        await two.ok("!undo", sender=OFFICER)
        assert await release(two, timedelta(minutes=1)) == []
    assert await outbox(two, ROOM_B) == [] and await other_room_log(two) == []
    await two.ok("!seize domain probe.example", sender=OFFICER)
    assert await release(two, GRACE - timedelta(seconds=1)) == []
    [notice] = told(await release(two, timedelta(seconds=1)), ROOM_B)
    assert notice.startswith(f"⚠️ deconfliction hit {label_in(notice)} on your S-1")
    assert len(await other_room_log(two)) == 1
    assert await release(two, timedelta(hours=1)) == []


async def test_the_same_value_recorded_again_by_the_same_operation_tells_once(
        two: Harness) -> None:
    await b_ok(two, "!seize domain again.example")
    await two.ok("!seize domain again.example", sender=OFFICER)
    d = await hit(two)
    await two.ok("!undo", sender=OFFICER)  # told already: the hit stays
    reply = await two.ok("!seize domain again.example", sender=OFFICER)
    assert f"(deconfliction: S-2 is also in {d}: that operation is not told again)" \
        in reply.text
    server = await two.ok("!seize server again.example:443", sender=OFFICER)  # its host
    assert f"S-3 is also in {d}" in server.text
    assert await release(two, timedelta(hours=2)) == []
    assert len(await outbox(two, ROOM_B)) == 1 and len(await other_room_log(two)) == 1


async def test_a_value_recorded_twice_within_the_grace_period_is_one_hit(
        two: Harness) -> None:
    await b_ok(two, "!seize domain twice-held.example")
    await two.ok("!seize domain twice-held.example", sender=OFFICER)
    reply = await two.ok("!seize server twice-held.example:8443", sender=OFFICER)
    assert ("(deconfliction: S-2 is also in a hit still in its grace period: that operation "
            "is not told again)") in reply.text
    assert len(told(await release(two), ROOM_B)) == 1


async def test_the_cap_refuses_lookups_beyond_ten_hits_an_hour_with_the_reason(
        two: Harness) -> None:
    for i in range(deconflict.HITS_PER_HOUR + 1):
        await b_ok(two, f"!seize domain cap{i}.example")
    first = two.clock.now()
    for i in range(deconflict.HITS_PER_HOUR):
        reply = await two.ok(f"!seize domain cap{i}.example", sender=OFFICER)
        assert "hit: S-" in reply.text
        two.clock.advance(minutes=1)
    over = await two.ok(f"!seize domain cap{deconflict.HITS_PER_HOUR}.example", sender=OFFICER)
    assert ("⏸ deconfliction: S-11 was not compared with other operations and nobody was "
            "told: this operation has used its deconfliction for the hour (at most 10 hits "
            "and 300 lookups an hour") in over.text
    assert "Lookups resume at 241300ZNOV26" in over.text and first.hour == 12
    miss = await two.ok("!seize domain nowhere.example", sender=OFFICER)  # a miss alike
    assert "⏸ deconfliction: S-12 was not compared" in miss.text
    assert len(told(await release(two), ROOM_B)) == deconflict.HITS_PER_HOUR
    two.clock.current = first + timedelta(hours=1, seconds=1)
    await two.ok("!undo", sender=OFFICER)
    back = await two.ok("!seize domain nowhere.example", sender=OFFICER)
    assert "deconfliction" not in back.text


async def test_a_held_hit_survives_a_restart_and_is_told_when_due(two: Harness) -> None:
    await b_ok(two, "!seize domain restart.example")
    await two.ok("!seize domain restart.example", sender=OFFICER)
    path = two.db.path
    await two.db.close()  # the bot stops inside the grace period
    two.db = await Database.open(path)
    sched = SitrepScheduler()
    sent: list[Post] = []
    sched.bot = SimpleNamespace(db=two.db, clock=two.clock,  # type: ignore[assignment]
                                send_post=sent.append)
    two.clock.advance(minutes=5)
    await sched.post_deconfliction()
    assert sent == []
    two.clock.advance(minutes=5)
    await sched.post_deconfliction()
    assert sorted(p.room_id for p in sent) == sorted([ROOM_B, two.room])
    assert [p.id for p in await Outbox(two.db).unsent()] == [p.id for p in sent]
    await sched.post_deconfliction()
    assert len(sent) == 2


async def test_held_hits_are_dropped_untold_when_deconfliction_is_turned_off(
        two: Harness) -> None:
    await b_ok(two, "!seize domain offlater.example")
    await two.ok("!seize domain offlater.example", sender=OFFICER)
    two.clock.advance(minutes=11)
    assert await two.db.write(lambda tx: deconflict.release_due(tx, two.clock.now(),
                                                                enabled=False)) == []
    assert await release(two) == [] and await other_room_log(two) == []


def test_a_hit_label_is_read_however_it_is_typed() -> None:
    assert {deconflict.hit_label(x) for x in ("D-KX-3", "dkx3", "D-kx-3", "#D-KX-3")} \
        == {"D-KX-3"}
    assert deconflict.hit_label("D-12") == deconflict.hit_label("12") == "D-12"
    with pytest.raises(ValueError, match="this needs a deconfliction hit id"):
        deconflict.hit_label("S-4")


async def _no_partner_room(tx: Tx, room_id: str) -> None:
    return None


async def _no_language(tx: Tx, room_id: str, user_id: str) -> None:
    return None


async def test_a_hit_numbered_before_pairs_keeps_its_label_d_n(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.database as database
    from storage.migrations import MIGRATIONS

    with monkeypatch.context() as before:  # a database as the previous version left it
        before.setattr(database, "MIGRATIONS", MIGRATIONS[:11])
        before.setattr(database, "LATEST", 11)
        before.setattr(languages, "of_reader", _no_language)  # that version had none
        before.setattr(partners, "live_for_room", _no_partner_room)  # nor partner rooms
        old = await Harness.open(tmp_path, Settings(deconfliction=False))
        await old.setup_operation()
        await b_ok(old, '!op init "Operation Northwind" code=NORTHWIND', LEAD_B)

        async def legacy_hit(tx: Tx) -> None:
            # S-1 in both operations, as that version stored them (written here: today's
            # /seize writes columns that version's table does not have)
            await tx.execute(
                "INSERT INTO seizures (op_id, seq, type, value, tlp, created_by, created_at, "
                "updated_at) SELECT id, 1, 'domain', 'legacy.example', 'AMBER', ?, ?, ? "
                "FROM operations", (OFFICER, "2026-11-24T12:00:00Z", "2026-11-24T12:00:00Z"))
            await tx.execute("INSERT INTO counters (op_id, kind, last) "
                             "SELECT id, 'S', 1 FROM operations")
            await tx.execute("INSERT INTO deconfliction_hits (id, created_at) VALUES (5, ?)",
                             ("2026-11-24T12:00:00Z",))
            await tx.execute(
                "INSERT INTO deconfliction_sides (hit, op_id, tbl, seq, kind, tlp, created_at) "
                "SELECT 5, id, 'seizures', 1, 'domain', 'AMBER', '2026-11-24T12:00:00Z' "
                "FROM operations")

        await old.db.write(legacy_hit)
        await old.close()
    h = await Harness.open(tmp_path, Settings(deconfliction=True))
    try:
        assert "D-5 · your S-1 (domain)" in (await h.ok("!deconflict list")).text
        agreed = await h.ok("!deconflict share D-5")
        assert "D-5: your agreement is recorded" in agreed.text
        await h.ok("!seize domain new.example", sender=OFFICER)
        await b_ok(h, "!seize domain new.example")
        [notice] = told(await release(h), h.room)
        assert re.match(r"⚠️ deconfliction hit D-[A-Z]{2}-1 on your S-2", notice), notice
    finally:
        await h.close()
