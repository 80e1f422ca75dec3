"""The MISP export as a partner's MISP reads it: pymisp loads it back with every indicator,
its type, TLP tag, distribution and IDS flag; nothing above the export's level is in it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymisp import MISPEvent

from bot import cli
from commands.core.validate import TLP_LEVELS
from commands.seize import STATUSES
from exports import misp
from exports.build import build_export
from exports.snapshot import load
from storage.database import read_only_sync
from tests.audit_tamper import as_if_recorded_so
from tests.harness import OFFICER, ROOM, Harness, write_cli_config

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
XMR = "4" + "A" * 94
DASH = "X" + "a" * 33
ETH = "0x" + "ab" * 20

# (command, then what MISP must hold: type, category, value, to_ids, level)
INDICATORS = [
    ("!seize domain аррӏе.com tlp=GREEN",
     ("domain", "Network activity", "xn--80ak6aa92e.com", True, "GREEN")),
    ("!seize ip 2001:DB8:0:0::1 tlp=CLEAR",
     ("ip-dst", "Network activity", "2001:db8::1", True, "CLEAR")),
    ("!seize url hxxps://evil[.]example/=cmd status=requested",
     ("url", "Network activity", "https://evil.example/=cmd", True, "AMBER")),
    ("!seize server srv[.]example:8443 status=seized",
     ("hostname|port", "Network activity", "srv.example|8443", False, "AMBER")),
    ("!seize server 198.51.100.9 status=sinkholed tlp=GREEN",
     ("ip-dst", "Network activity", "198.51.100.9", False, "GREEN")),
    ("!seize server 198.51.100.10:25 tlp=GREEN",
     ("ip-dst|port", "Network activity", "198.51.100.10|25", True, "GREEN")),
    ("!seize wallet bc1qexamplewallet tlp=GREEN",
     ("btc", "Financial fraud", "bc1qexamplewallet", True, "GREEN")),
    (f"!seize wallet {XMR} status=offline",
     ("xmr", "Financial fraud", XMR, False, "AMBER")),
    (f"!seize wallet {DASH}", ("dash", "Financial fraud", DASH, True, "AMBER")),
    (f"!seize wallet {ETH}", ("text", "Financial fraud", ETH, False, "AMBER")),
    ("!seize account crook[@]mail[.]example tlp=AMBER+STRICT",
     ("email", "Social network", "crook@mail.example", True, "AMBER+STRICT")),
    ("!seize account tg:crook", ("text", "Social network", "tg:crook", False, "AMBER")),
    ("!seize device IMEI-356938035643809", ("text", "Other", "IMEI-356938035643809", False,
                                            "AMBER")),
    ("!seize domain released.example status=released",
     ("domain", "Network activity", "released.example", False, "AMBER")),
    ("!seize domain red-only-secret.example tlp=RED",
     ("domain", "Network activity", "red-only-secret.example", True, "RED")),
]
DISTRIBUTION = {"CLEAR": 3, "GREEN": 2, "AMBER": 1, "AMBER+STRICT": 0, "RED": 0}


@pytest.fixture
async def op(h: Harness) -> Harness:
    await h.ok("!hhour 2026-11-25T04:00Z")
    for line, _ in INDICATORS:
        await h.ok(line, sender=OFFICER)
    await h.ok("!takedown add S-1 agency=FR-OFAC tlp=GREEN")  # not an indicator
    return h


async def misp_event(h: Harness, tlp: str) -> MISPEvent:
    attachment, _ = await build_export(h.db, h.room, "misp", tlp, NOW)
    event = MISPEvent()
    event.load(attachment.read())
    return event


def held(event: MISPEvent) -> list[tuple[str, str, str, bool, str]]:
    """Each attribute as (type, category, value, to_ids, level), checking that its TLP tag
    and its distribution say the same level."""
    found = []
    for a in event.attributes:
        [tag] = [t.name for t in a.tags]
        level = tag.removeprefix("tlp:").upper()
        assert tag == f"tlp:{level.lower()}" and a.distribution == DISTRIBUTION[level], a
        found.append((a.type, a.category, a.value, a.to_ids, level))
    return found


async def test_pymisp_loads_every_indicator_back_with_its_type_tag_and_ids_flag(
        op: Harness) -> None:
    event = await misp_event(op, "AMBER+STRICT")
    assert [t.name for t in event.tags] == ["tlp:amber+strict"]
    assert event.distribution == 0 and not event.published
    assert event.info.startswith("Operation Firebreak (FIREBREAK)")
    assert event.date.isoformat() == "2026-11-25"  # the action day
    expected = [want for _, want in INDICATORS if want[4] != "RED"]
    assert held(event) == expected
    assert [a.comment for a in event.attributes][:2] == ["S-1 domain · identified",
                                                         "S-2 ip · identified"]


async def test_a_red_indicator_is_not_in_a_green_misp_export(op: Harness) -> None:
    green = await misp_event(op, "GREEN")
    assert [t.name for t in green.tags] == ["tlp:green"] and green.distribution == 2
    values = [a.value for a in green.attributes]
    assert "red-only-secret.example" not in values
    assert {level for *_, level in held(green)} == {"CLEAR", "GREEN"}
    assert values == [want[2] for _, want in INDICATORS if want[4] in ("CLEAR", "GREEN")]
    red = await misp_event(op, "RED")
    assert ("domain", "Network activity", "red-only-secret.example", True, "RED") in held(red)


async def test_the_event_has_the_tag_and_distribution_of_the_exports_level(
        op: Harness) -> None:
    for level in TLP_LEVELS:
        event = await misp_event(op, level)
        assert [t.name for t in event.tags] == [f"tlp:{level.lower()}"], level
        assert event.distribution == DISTRIBUTION[level], level


async def test_the_file_is_what_pymisp_builds_for_each_record(op: Harness) -> None:
    """The writer reuses one pymisp attribute per shape; each record must come out as if it
    had its own."""
    attachment, _ = await build_export(op.db, op.room, "misp", "RED", NOW)
    written = json.loads(attachment.read())["Event"]["Attribute"]
    with read_only_sync(op.db.path) as conn:
        snap = load(conn, op.room, "RED", "2026-11-25T06:00:00Z")
        built = [json.loads(misp.attribute(s, "FIREBREAK").to_json())
                 for s in snap.indicators()]
    assert written == built and len(built) == len(INDICATORS)


async def test_every_seizure_status_has_an_ids_decision() -> None:
    assert set(misp.TO_IDS_BY_STATUS) == set(STATUSES)
    assert set(misp.DISTRIBUTION) == set(TLP_LEVELS) == set(misp.TLP_TAGS)


async def test_a_record_stored_in_unicode_before_a_labels_goes_out_as_its_a_label(
        h: Harness) -> None:
    await h.ok("!seize url https://placeholder.example/login tlp=GREEN", sender=OFFICER)

    [row] = await h.rows("SELECT id FROM seizures")
    as_if_recorded_so(h.db.path, ROOM, "seizures", row["id"], value="https://аррӏе.com/login")
    [attribute] = (await misp_event(h, "GREEN")).attributes
    assert attribute.value == "https://xn--80ak6aa92e.com/login"


async def test_export_misp_in_the_room_replies_with_the_event_file(op: Harness) -> None:
    reply = await op.ok("!export misp tlp=GREEN", sender=OFFICER)
    assert reply.attachment is not None
    assert reply.attachment.filename == "FIREBREAK-20261124T1200Z-GREEN.misp.json"
    assert reply.attachment.mimetype == "application/json"
    assert "records at or below TLP:GREEN" in reply.text
    event = MISPEvent()
    event.load(reply.attachment.read())
    assert "red-only-secret.example" not in [a.value for a in event.attributes]
    assert len(event.attributes) == sum(want[4] in ("CLEAR", "GREEN") for _, want in INDICATORS)
    assert "misp" in (await op.fails("!export docx")).text  # the usage lists it


def test_opsroom_export_format_misp_writes_the_event(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def record() -> None:
        h = await Harness.open(tmp_path)
        await h.setup_operation()
        await h.ok("!seize domain evil[.]example tlp=GREEN")
        await h.ok("!seize domain red-only-secret.example tlp=RED")
        await h.close()

    asyncio.run(record())
    config = write_cli_config(tmp_path)
    out = tmp_path / "event.json"
    assert cli.main(["export", "-c", str(config), "--room", ROOM, "--format", "misp",
                     "--tlp", "GREEN", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    event = MISPEvent()
    event.load(out.read_bytes())
    assert [(a.value, [t.name for t in a.tags]) for a in event.attributes] == [
        ("evil.example", ["tlp:green"])]
