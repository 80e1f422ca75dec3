"""Erasure by crypto-shredding (E-n): what a lead or the retention policy erases reads as
"[erased]" everywhere, cannot be changed or brought back, leaves the counts and the audit
chain as they were, and survives a crash half way."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import stix2

from bot import erasure as run
from commands import Reply
from exports.build import build_export
from exports.pdf_charts import chart_data
from exports.snapshot import load
from storage import audit, consultations, erasures, sealing
from storage.audit import Actor
from storage.database import Database, read_only_sync
from storage.keystore import KeyStore, KeyStoreError, default_paths
from storage.retention import DEFAULT_PERIODS
from tests.export_text import export_text
from tests.harness import OFFICER, Harness

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(tmp_path: Path):  # type: ignore[no-untyped-def]
    harness = await Harness.open(tmp_path)
    await harness.setup_operation()
    yield harness
    await harness.close()


class Room:
    """What the runtime would post and redact."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Reply]] = []
        self.redacted: list[str] = []

    async def post(self, room_id: str, reply: Reply) -> None:
        self.posts.append((room_id, reply))

    async def redact(self, room_id: str, event_ids: list[str]) -> int:
        self.redacted += event_ids
        return len(event_ids)


async def _finish(h: Harness, room: Room | None = None) -> list[int]:
    room = room or Room()
    return await run.finish_all(h.db, h.clock.now(), room.post, room.redact)


async def _two_suspects(h: Harness) -> None:
    await h.ok('!arrest add NL-SUSPECT-0001 country=FR agency=FR-OFAC charge="Fraudulentia"',
               sender=OFFICER)
    await h.ok("!arrest add NL-SUSPECT-0002 country=DE agency=DE-BKA", sender=OFFICER)


async def _verify(h: Harness) -> audit.VerifyResult:
    return await h.db.read(lambda tx: audit.verify_room(tx, h.room))


async def test_an_erased_suspect_reads_as_erased_and_the_room_is_told_why_and_by_whom(
        h: Harness) -> None:
    await _two_suspects(h)
    started = await h.ok('!erase A-1 "acquitted, notice of the prosecutor"')
    assert "E-1" in started.text and "A-1" in started.text
    room = Room()
    await _finish(h, room)
    listing = (await h.ok("!arrest list")).text
    assert "NL-SUSPECT-0001" not in listing and "Fraudulentia" not in listing
    assert sealing.ERASED in listing and "NL-SUSPECT-0002" in listing
    [(room_id, told)] = room.posts
    assert room_id == h.room
    assert told.text.startswith("E-1: erased 1 record (A-1) — acquitted, notice of the "
                                "prosecutor — @lead:localhost;")
    assert "members' clients may still hold copies" in told.text


async def test_an_erasure_is_finished_and_told_once(h: Harness) -> None:
    await _two_suspects(h)
    await h.ok('!erase A-1 "acquitted"')
    room = Room()
    await _finish(h, room)
    await _finish(h, room)
    assert len(room.posts) == 1
    [row] = await h.rows("SELECT state FROM erasures")
    assert row["state"] == "done"


async def test_changing_an_erased_record_is_refused_with_the_reason(h: Harness) -> None:
    await h.ok('!task add "Interview CANARY-Jane Doe"')
    await h.ok('!erase T-1 "the witness withdrew"')
    await _finish(h)
    refused = await h.fails('!task edit T-1 text="Interview someone else"')
    assert "T-1 was erased: its personal data is gone" in refused.text, refused.text
    assert "internal error" not in refused.text


async def test_undoing_a_change_to_an_erased_record_or_an_erasure_is_refused(h: Harness) -> None:
    await h.ok('!task add "Interview Jane Doe"', sender=OFFICER)
    await h.ok('!erase T-1 "the witness withdrew"')
    await _finish(h)
    refused = await h.fails("!undo", sender=OFFICER)
    assert "T-1 was erased since your last change" in refused.text
    refused = await h.fails("!undo")
    assert "an erasure cannot be undone" in refused.text
    assert len(await h.rows("SELECT id FROM tasks")) == 1


@pytest.mark.parametrize("purge", [False, True])
async def test_counts_stay_and_the_audit_chain_verifies_after_an_erasure(
        h: Harness, purge: bool) -> None:
    await _two_suspects(h)
    await h.ok("!arrest add NL-SUSPECT-0003 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok('!tally searches +12 "at the house of NL-SUSPECT-0001" country=FR')
    await h.ok("!seize account suspect@mail.example subject=suspect")
    before_sitrep = (await h.ok("!sitrep")).text
    before_tallies = (await h.ok("!tally list")).text
    await h.ok('!erase suspect "review period lapsed"' + (" purge" if purge else ""))
    await _finish(h)
    assert (await h.ok("!tally list")).text == before_tallies
    after_sitrep = (await h.ok("!sitrep")).text
    assert _counts(after_sitrep) == _counts(before_sitrep)
    assert "Arrests: 3 · FR 2, DE 1" in _counts(after_sitrep)
    assert "NL-SUSPECT" not in after_sitrep
    result = await _verify(h)
    assert result.ok, result.problems
    assert result.sealed_unreadable > 0
    [erasure] = await h.rows("SELECT * FROM erasures")
    assert json.loads(erasure["counts"]) == {"arrests": 3, "seizures": 1}
    assert bool(erasure["purged"]) is purge
    assert "suspect@mail.example" not in json.dumps(erasure)


def _counts(sitrep: str) -> list[str]:
    """The sitrep's lines of numbers (arrests by country, seized items …)."""
    lines = [re.sub(r" \([+-]?\d+ since last\)", "", line) for line in sitrep.splitlines()]
    return [line for line in lines if line.startswith(("Arrests:", "Seized", "Tallies"))]


async def _reopen(h: Harness) -> None:
    """The bot killed and started again: the database and key store opened anew."""
    path = h.db.path
    await h.db.close()
    h.db = await Database.open(path)
    h.dispatcher.db = h.db


async def test_an_erasure_cut_short_after_its_first_step_is_finished_at_the_next_start(
        h: Harness) -> None:
    await _two_suspects(h)
    [key_id, _] = [r["subject_key"] for r in await h.rows("SELECT subject_key FROM arrests "
                                                         "ORDER BY seq")]
    await h.ok('!erase A-1 "acquitted"')
    await _reopen(h)  # killed before the keys were destroyed
    assert h.db.keys.aead(key_id) is not None
    room = Room()
    await _finish(h, room)
    assert h.db.keys.aead(key_id) is None
    assert "NL-SUSPECT-0001" not in (await h.ok("!arrest list")).text
    assert len(room.posts) == 1
    await _assert_applied_once(h)


async def test_an_erasure_cut_short_after_destroying_the_keys_is_finished_and_not_repeated(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await _two_suspects(h)
    await h.ok('!erase A-1 "acquitted"')

    async def killed(self: Database) -> None:
        raise RuntimeError("killed during VACUUM")

    monkeypatch.setattr(Database, "compact", killed)
    with pytest.raises(RuntimeError, match="killed"):
        await _finish(h)
    [row] = await h.rows("SELECT state FROM erasures")
    assert row["state"] == "keys_destroyed"
    monkeypatch.undo()
    await _reopen(h)
    room = Room()
    await _finish(h, room)
    await _finish(h, room)
    [row] = await h.rows("SELECT state, finished_at FROM erasures")
    assert row["state"] == "done" and row["finished_at"]
    assert len(room.posts) == 1
    await _assert_applied_once(h)


async def _assert_applied_once(h: Harness) -> None:
    marks = await h.rows("SELECT row_id FROM audit_log WHERE tbl='arrests' AND action='update'")
    assert [m["row_id"] for m in marks] == [1]
    states = await h.rows("SELECT after FROM audit_log WHERE tbl='erasures' ORDER BY n")
    assert [json.loads(s["after"])["state"] for s in states] == [
        "started", "keys_destroyed", "done", "done"]  # the last: told the room
    assert (await _verify(h)).ok


async def test_the_scheduler_erases_at_the_due_date_and_not_a_minute_before(h: Harness) -> None:
    await _two_suspects(h)
    await h.ok('!seize account victim@mail.example subject=victim')
    await h.ok("!op phase closed")
    h.clock.advance(days=365, minutes=-1)  # a minute before the victims' period ends
    assert await run.erase_due(h.db, h.clock.now()) == 0
    assert await h.rows("SELECT id FROM erasures") == []
    h.clock.advance(minutes=1)
    assert await run.erase_due(h.db, h.clock.now()) == 1
    room = Room()
    await _finish(h, room)
    [erasure] = await h.rows("SELECT * FROM erasures")
    assert (erasure["scope"], erasure["approver"], erasure["reason"]) == (
        "victim", "retention policy", "review period lapsed")
    assert "victim@mail.example" not in (await h.ok("!seize list")).text
    assert "NL-SUSPECT-0001" in (await h.ok("!arrest list")).text  # suspects: 3 years
    [(_, told)] = room.posts
    assert told.text.startswith("E-1: erased 1 record of the category victim (S-1) — review "
                                "period lapsed — retention policy;")
    assert await run.erase_due(h.db, h.clock.now()) == 0  # never twice
    assert DEFAULT_PERIODS["suspect"] == "3y"


async def test_a_backup_taken_before_the_erasure_does_not_open_the_erased_subject(
        h: Harness, tmp_path: Path) -> None:
    await _two_suspects(h)
    erased, kept = [r["subject_key"] for r in await h.rows("SELECT subject_key FROM arrests "
                                                           "ORDER BY seq")]
    keys_path, kek_path = default_paths(h.db.path)
    h.db.keys.commit()
    backup = tmp_path / "backup"
    backup.mkdir()
    for source in (h.db.path, keys_path, kek_path):
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                shutil.copy(f"{source}{suffix}", backup / f"{source.name}{suffix}")
    old_kek = (backup / kek_path.name).read_text().split(":")[1].strip()
    await h.ok('!erase A-1 "acquitted"')
    await _finish(h)
    # the old key store, with the erased key still in it, and the KEK in force now
    old_store = KeyStore(backup / keys_path.name, kek_path, read_only=True)
    try:
        with pytest.raises(KeyStoreError, match="do not belong together"):
            old_store.aead(erased)
    finally:
        old_store.close()
    with sqlite3.connect(backup / h.db.path.name) as old_db:
        [(blob,)] = old_db.execute("SELECT ref FROM arrests WHERE seq=1").fetchall()
    assert sealing.is_sealed(blob)  # the old copy holds only ciphertext
    assert h.db.keys.aead(kept) is not None
    assert "NL-SUSPECT-0002" in (await h.ok("!arrest list")).text
    assert old_kek not in kek_path.read_text()  # the old KEK is gone
    assert not list(kek_path.parent.glob(f"{kek_path.name}*.new"))


async def _exported(h: Harness, fmt: str) -> str:
    attachment, _ = await build_export(h.db, h.room, fmt, "AMBER", h.clock.now())
    try:
        return export_text(fmt, attachment.read())
    finally:
        attachment.discard()


async def test_exports_show_an_erased_record_by_its_number_and_leave_erased_indicators_out(
        h: Harness) -> None:
    await h.ok("!seize ip 203.0.113.9 subject=suspect")
    await h.ok("!seize domain evil.example")
    await h.ok("!takedown add S-1 agency=FR-OFAC at=2026-11-25T04:00Z")
    await h.ok('!erase S-1 "acquitted"')
    await _finish(h)
    for fmt in ("md", "json", "csv", "pdf"):
        text = await _exported(h, fmt)
        assert "203.0.113.9" not in text, fmt
        assert "evil.example" in text or "evil[.]example" in text, (fmt, text)
        assert sealing.ERASED in text, fmt
    bundle = json.loads(await _exported(h, "stix"))
    stix2.parse(bundle, allow_custom=True)
    observed = [o.get("value") for o in bundle["objects"]
                if o["type"] in ("ipv4-addr", "domain-name", "url", "infrastructure")]
    assert observed == ["evil.example"]  # the erased address is not an indicator any more
    misp = json.loads(await _exported(h, "misp"))
    assert [a["value"] for a in misp["Event"]["Attribute"]] == ["evil.example"]


async def test_a_country_with_fewer_than_3_arrests_one_erased_is_not_named_in_the_chart(
        h: Harness) -> None:
    await h.ok("!arrest add FR-1 country=FR agency=FR-OFAC")
    for n in range(3):
        await h.ok(f"!arrest add DE-{n} country=DE agency=DE-BKA")
    await h.ok("!arrest add NL-1 country=NL agency=FR-OFAC")  # few, none erased: shown
    await h.ok("!arrest add DE-9 country=DE agency=DE-BKA")
    await h.ok('!erase A-1,A-6 "acquitted"')
    await _finish(h)
    with read_only_sync(h.db.path) as conn:
        data = chart_data(load(conn, h.room, "AMBER", "2026-11-25T06:00:00Z"), limit=500)
    assert data.arrests_by_country == {"DE": 4, "NL": 1, "fewer than 3 each": 1}


async def test_a_lead_erases_in_a_closed_operation_and_nobody_else_erases(h: Harness) -> None:
    await _two_suspects(h)
    await h.ok("!op phase closed")
    refused = await h.fails('!erase A-1 "acquitted"', sender=OFFICER)
    assert "only a lead" in refused.text
    assert "A-9 does not exist" in (await h.fails('!erase A-9 "acquitted"')).text
    assert "neither a category" in (await h.fails('!erase Q-1 "acquitted"')).text
    assert await h.rows("SELECT id FROM erasures") == []
    await h.ok('!erase A-1 "acquitted"')
    await _finish(h)
    assert "A-1 is erased already" in (await h.fails('!erase A-1 "again"')).text
    assert "nothing to erase" in (await h.fails('!erase witness "none"')).text


async def test_records_are_marked_in_batches_and_one_marked_cannot_change_before_its_key_goes(
        h: Harness) -> None:
    await h.ok('!task add "Interview witness one" subject=witness')
    await h.ok('!task add "Interview witness two" subject=witness')
    await h.ok('!erase witness "the case was dropped"')
    actor = Actor(room_id=h.room, sender="@opsroom", event_id="opsroom:erasure:1",
                  command="erasure E-1: marking", at="2026-11-24T12:00:00Z")
    assert await h.db.write(lambda tx: erasures.mark_batch(tx, 1, limit=1), actor) == 1
    refused = await h.fails('!task edit T-1 text="Interview someone"')
    assert "T-1 was erased" in refused.text
    assert "Interview witness two" in (await h.ok("!task list")).text  # not marked yet
    await _reopen(h)  # killed between two batches
    await _finish(h)
    listing = (await h.ok("!task list")).text
    assert "witness one" not in listing and "witness two" not in listing
    assert [r["erased_by"] for r in await h.rows("SELECT erased_by FROM tasks")] == [1, 1]


async def test_after_a_purge_neither_the_ciphertext_nor_the_wrapped_key_is_in_any_file(
        h: Harness) -> None:
    await _two_suspects(h)
    [row] = await h.db.read(lambda tx: tx.runner.fetchall(
        "SELECT ref, subject_key FROM arrests WHERE seq=1", ()))
    blob, key_id = bytes(row[0]), int(row[1])
    [(wrapped,)] = h.db.keys._conn.execute("SELECT wrapped FROM subject_keys WHERE id=?",
                                           (key_id,)).fetchall()
    await h.ok('!erase A-1 "acquitted" purge')
    await _finish(h)
    traces = {"ciphertext": blob[-24:], "token": blob[-24:].hex().upper().encode(),
              "wrapped key": bytes(wrapped)}
    data_dir = h.db.path.parent
    for path in sorted(data_dir.iterdir()):
        if path.is_file():
            content = path.read_bytes()
            assert [what for what, trace in traces.items() if trace in content] == [], path.name
    assert (await _verify(h)).ok


async def test_the_rooms_the_records_were_disclosed_to_are_named_for_notification(
        h: Harness) -> None:
    await _two_suspects(h)

    async def disclosed(tx):  # type: ignore[no-untyped-def]
        for room in ("!other-op:localhost", h.room):  # shared with another operation; a file
            await consultations.append(tx, consultations.Consultation(
                room_id=h.room, at="2026-11-24T12:00:00Z", sender="@lead:localhost",
                device=None, event_id=None, verb=consultations.DISCLOSE, scope="/export",
                records=2, members_hash="0" * 64, purpose="JIT", shown=b"A-1 A-2",
                recipients=room))

    await h.db.write(disclosed)
    await h.ok('!erase A-1 "acquitted"')
    room = Room()
    await _finish(h, room)
    [(_, told)] = room.posts
    assert ("Records of this operation were disclosed to !other-op:localhost: tell them of "
            "the erasure") in told.text
    assert told.text.count(h.room) == 0


async def test_a_held_record_is_erased_only_once_every_hold_on_it_is_released(
        h: Harness) -> None:
    await _two_suspects(h)
    await h.ok('!hold add "123 Js 45/26, tribunal judiciaire de Paris" A-1')
    await h.ok('!hold add "2026/77 JIT evidence" A-1')
    refused = await h.fails('!erase A-1 "acquitted"')
    assert "A-1 is under a legal hold" in refused.text
    assert await h.rows("SELECT id FROM erasures") == []
    await h.ok("!op phase closed")
    h.clock.advance(days=3 * 366)  # the suspects' period is over, nobody acts
    assert await run.erase_due(h.db, h.clock.now()) == 1
    await _finish(h)
    listing = (await h.ok("!arrest list held=yes")).text
    assert "NL-SUSPECT-0001" in listing and "NL-SUSPECT-0002" not in listing
    await h.ok('!hold release H-1 "case closed"')
    assert await run.erase_due(h.db, h.clock.now()) == 0  # the second hold still holds it
    assert "NL-SUSPECT-0001" in (await h.ok("!arrest list held=yes")).text
    await h.ok('!hold release H-2 "evidence no longer needed"')
    assert await run.erase_due(h.db, h.clock.now()) == 1
    await _finish(h)
    assert "NL-SUSPECT-0001" not in (await h.ok("!arrest list")).text


async def test_erasing_a_category_keeps_its_held_records_and_says_how_many(h: Harness) -> None:
    await _two_suspects(h)
    await h.ok('!hold add "123 Js 45/26" A-2')
    reply = await h.ok('!erase suspect "acquitted"')
    assert "1 record under a legal hold is kept" in reply.text
    await _finish(h)
    listing = (await h.ok("!arrest list held=yes")).text
    assert "NL-SUSPECT-0001" not in listing and "NL-SUSPECT-0002" in listing
