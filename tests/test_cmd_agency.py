"""/agency add, /agency list and /member: who takes part, and whose clock a member reads."""

from __future__ import annotations

import json

import pytest

from tests.harness import LEAD, OFFICER, OTHER, Harness


async def test_add_normalises_and_stores_the_agency(h: Harness) -> None:
    reply = await h.ok('!agency add nl-pol country=nl tz=europe/amsterdam "Politie"')
    assert reply.text == "Agency NL-POL (Politie) · NL · Europe/Amsterdam"
    [row] = await h.rows("SELECT code, country, tz, name, created_by FROM agencies "
                         "WHERE code='NL-POL'")
    assert row == {"code": "NL-POL", "country": "NL", "tz": "Europe/Amsterdam",
                   "name": "Politie", "created_by": LEAD}
    [entry] = await h.rows("SELECT action, after FROM audit_log WHERE tbl='agencies' "
                           "ORDER BY id DESC LIMIT 1")
    assert entry["action"] == "insert" and json.loads(entry["after"])["code"] == "NL-POL"


async def test_add_is_lead_only(h: Harness) -> None:
    reply = await h.fails("!agency add NL-POL country=NL tz=Europe/Amsterdam", sender=OFFICER)
    assert "only a lead (power level 50 or more) can register a participating agency" in reply.text
    assert len(await h.rows("SELECT * FROM agencies")) == 2


async def test_add_twice_is_refused(h: Harness) -> None:
    reply = await h.fails("!agency add de-bka country=DE tz=Europe/Berlin")
    assert "agency DE-BKA is already registered" in reply.text
    assert len(await h.rows("SELECT * FROM agencies")) == 2


@pytest.mark.parametrize(("line", "fragment"), [
    ("!agency add NL-POL country=UK tz=Europe/London", "the United Kingdom is GB"),
    ("!agency add NL-POL country=XX tz=Europe/London", "not an ISO 3166 alpha-2"),
    ("!agency add NL-POL country=NLD tz=Europe/London", "not an ISO 3166 alpha-2"),
    ("!agency add NL-POL country=NL tz=Mars/Base", "not an IANA time zone"),
    ("!agency add NL-POL country=NL tz=CET+1", "not an IANA time zone"),
    ("!agency add NL-POL country=NL", "missing tz=Zone"),
    ("!agency add NL-POL tz=Europe/Amsterdam", "missing country=CC"),
    ("!agency add country=NL tz=Europe/Amsterdam", "missing CODE"),
    ("!agency add NL_POL country=NL tz=Europe/Amsterdam", "is not a code"),
    ("!agency add -NL country=NL tz=Europe/Amsterdam", "is not a code"),
    ("!agency add NL-POL country=NL tz=Europe/Amsterdam Politie Nederland",
     "unexpected 'Nederland'"),
    ("!agency add NL-POL country=NL tz=Europe/Amsterdam city=Den-Haag", "unknown key city="),
])
async def test_add_validation(h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line)
    assert fragment in reply.text
    assert 'Usage: /agency add CODE country=CC tz=Zone ["name"]' in reply.text
    assert len(await h.rows("SELECT * FROM agencies")) == 2


async def test_list_for_everyone_with_member_counts_and_escaped_names(h: Harness) -> None:
    await h.ok('!agency add NL-POL country=NL tz=Europe/Amsterdam "Politie <b>NL</b>"')
    listing = await h.ok("!agency list", sender=OFFICER)
    assert listing.text.splitlines() == [
        "Agencies: 3",
        "• DE-BKA DE · Europe/Berlin · Bundeskriminalamt · 1 member",
        "• FR-OFAC FR · Europe/Paris · 2 members",
        "• NL-POL NL · Europe/Amsterdam · Politie <b>NL</b> · 0 members",
    ]
    assert "Politie &lt;b&gt;NL&lt;/b&gt;" in listing.html and "<b>NL</b>" not in listing.html


async def test_list_pages_at_twenty(h: Harness) -> None:
    for i in range(25):
        await h.ok(f"!agency add X{i:02d} country=NL tz=Europe/Amsterdam")
    first = await h.ok("!agency list")
    assert "Agencies: 27" in first.text and "… 7 more (/agency list page=2)" in first.text
    second = await h.ok("!agency list page=2")
    assert "X24" in second.text and "DE-BKA" not in second.text
    assert "(no page 3)" in (await h.ok("!agency list page=3")).text
    assert "page=: '0' is not a page number" in (await h.fails("!agency list page=0")).text


async def test_member_maps_then_moves_with_audit(h: Harness) -> None:
    new = "@anna:police.example"
    assert (await h.ok(f"!member {new} agency=de-bka")).text == f"{new} → DE-BKA"
    moved = await h.ok(f"!member {new} agency=FR-OFAC")
    assert moved.text == f"{new} moved DE-BKA → FR-OFAC"
    assert await h.rows("SELECT user_id, agency FROM members WHERE user_id=?", (new,)) == [
        {"user_id": new, "agency": "FR-OFAC"}]
    assert "already with FR-OFAC" in (await h.fails(f"!member {new} agency=FR-OFAC")).text
    entries = await h.rows("SELECT action FROM audit_log WHERE tbl='members' ORDER BY id")
    assert [e["action"] for e in entries][-2:] == ["insert", "update"]


async def test_member_mapping_decides_the_zone_bare_times_are_read_in(h: Harness) -> None:
    # OFFICER is DE-BKA (Berlin), OTHER is FR-OFAC (Paris): both CET in November
    await h.ok('!task add "berlin" due=2026-11-25T09:00', sender=OFFICER)
    await h.ok("!agency add PT-PJ country=PT tz=Europe/Lisbon")
    await h.ok(f"!member {OTHER} agency=PT-PJ")
    await h.ok('!task add "lisbon" due=2026-11-25T09:00', sender=OTHER)
    dues = [r["due"] for r in await h.rows("SELECT due FROM tasks ORDER BY seq")]
    assert dues == ["2026-11-25T08:00:00Z", "2026-11-25T09:00:00Z"]


async def test_member_refusals_and_validation(h: Harness) -> None:
    assert "only a lead" in (await h.fails(f"!member {OTHER} agency=DE-BKA",
                                           sender=OFFICER)).text
    unknown = await h.fails(f"!member {OTHER} agency=NL-POL")
    assert "agency NL-POL is not registered in this operation (known: DE-BKA, FR-OFAC)" in (
        unknown.text)
    assert "not a Matrix user ID" in (await h.fails("!member @bad agency=FR-OFAC")).text
    assert "missing @user" in (await h.fails("!member agency=FR-OFAC")).text
    assert "missing agency=CODE" in (await h.fails(f"!member {OTHER}")).text
    assert (await h.rows("SELECT agency FROM members WHERE user_id=?", (OTHER,))) == [
        {"agency": "FR-OFAC"}]
