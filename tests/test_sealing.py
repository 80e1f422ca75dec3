"""Personal values sealed per subject: never on disk in clear, readable while their key
lives, "[erased]" once it is destroyed, and an audit chain that still verifies, and still
catches tampering, afterwards."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storage import audit, sealing, witness
from storage.keystore import KeyStore, default_paths
from storage.tx import Tx
from tests.harness import OFFICER, Harness

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(tmp_path: Path):  # type: ignore[no-untyped-def]
    harness = await Harness.open(tmp_path)
    await harness.setup_operation()
    yield harness
    await harness.close()


async def _keys_of(h: Harness, table: str) -> list[int]:
    return [r["subject_key"] for r in await h.rows(f"SELECT subject_key FROM {table} ORDER BY seq")]


async def _verify(h: Harness) -> audit.VerifyResult:
    return await h.db.read(lambda tx: audit.verify_room(tx, h.room))


async def _raw(h: Harness, sql: str) -> list[tuple[object, ...]]:
    """Rows as SQLite stores them, not opened."""
    async def q(tx: Tx) -> list[tuple[object, ...]]:
        return [tuple(r) for r in await tx.runner.fetchall(sql, ())]
    return await h.db.read(q)


async def test_a_suspect_reference_is_read_back_but_never_stored_in_clear(h: Harness) -> None:
    await h.ok('!arrest add NL-CANARY-0001 country=FR agency=FR-OFAC charge="Fraudulentia" '
               'assessment="Probably-the-admin"', sender=OFFICER)
    assert "NL-CANARY-0001" in (await h.ok("!arrest list")).text
    [row] = await h.rows("SELECT * FROM arrests")
    assert (row["ref"], row["charge"], row["assessment"]) == (
        "NL-CANARY-0001", "Fraudulentia", "Probably-the-admin")
    assert row["subject_category"] == "suspect"
    # Neither the record nor its audit entry (the images and the command line) hold the
    # values in clear; the stored reply does until an erasure blanks it (test_erasure).
    stored = repr(await _raw(h, "SELECT * FROM arrests")) + repr(
        await _raw(h, "SELECT * FROM audit_log"))
    for value in ("NL-CANARY-0001", "Fraudulentia", "Probably-the-admin"):
        assert value not in stored
    # The audit log holds the sealed bytes, not the text.
    [entry] = await h.rows("SELECT after FROM audit_log WHERE tbl='arrests'")
    assert "CANARY" not in entry["after"] and sealing.TOKEN in json.loads(entry["after"])["ref"]


async def test_each_record_has_its_own_key_and_the_category_its_command_gave(h: Harness) -> None:
    await h.ok("!seize account victim@mail.example subject=victim", sender=OFFICER)
    await h.ok("!seize domain evil.example", sender=OFFICER)
    first, second = await _keys_of(h, "seizures")
    assert first != second
    rows = await h.rows("SELECT subject_category FROM seizures ORDER BY seq")
    assert [r["subject_category"] for r in rows] == ["victim", "other"]


async def test_a_destroyed_key_erases_the_values_and_the_chain_still_verifies(h: Harness) -> None:
    await h.ok("!arrest add NL-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!arrest add NL-2026-0002 country=FR agency=FR-OFAC", sender=OFFICER)
    first, _ = await _keys_of(h, "arrests")
    assert (await _verify(h)).sealed_unreadable == 0
    h.db.keys.destroy([first])
    listing = (await h.ok("!arrest list")).text
    assert "NL-2026-0001" not in listing and sealing.ERASED in listing
    assert "NL-2026-0002" in listing
    result = await _verify(h)
    assert result.ok, result.problems
    assert result.sealed_unreadable == 1
    assert "1 entry holds erased personal data" in (await h.ok("!audit verify")).text


async def test_flipping_a_sealed_byte_in_the_log_fails_verification(h: Harness) -> None:
    await h.ok("!arrest add NL-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)

    async def flip(tx: Tx) -> None:
        after = await tx.scalar("SELECT after FROM audit_log WHERE tbl='arrests'")
        image = json.loads(after)
        token = image["ref"]
        image["ref"] = token[:-1] + ("0" if token[-1] != "0" else "1")
        await tx.execute("UPDATE audit_log SET after=? WHERE tbl='arrests'",
                         (audit.canonical(image),))

    await h.db.write(flip)
    assert not (await _verify(h)).ok


async def test_sealed_values_swapped_between_two_records_are_caught(h: Harness) -> None:
    await h.ok("!arrest add NL-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)
    await h.ok("!arrest add NL-2026-0002 country=FR agency=FR-OFAC", sender=OFFICER)

    async def swap(tx: Tx) -> None:
        raw = await tx.runner.fetchall("SELECT id, ref FROM arrests ORDER BY id", ())
        (id1, ref1), (id2, ref2) = [tuple(r) for r in raw]
        await tx.execute("UPDATE arrests SET ref=? WHERE id=?", (ref2, id1))
        await tx.execute("UPDATE arrests SET ref=? WHERE id=?", (ref1, id2))

    await h.db.write(swap)
    # A value under another record's header does not open there...
    rows = await h.rows("SELECT ref FROM arrests ORDER BY seq")
    assert [r["ref"] for r in rows] == ["NL-2026-0002", "NL-2026-0001"]  # the AAD is the key's
    # ...and the witness of the records against the log names both rows.
    found = await h.db.read(lambda tx: witness.check(tx, h.room))
    assert {m.row_id for m in found.mismatches} == {1, 2}


async def test_a_purged_image_verifies_only_where_an_erasure_names_it(h: Harness) -> None:
    await h.ok("!arrest add NL-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)

    async def purge(tx: Tx) -> None:
        after = await tx.scalar("SELECT after FROM audit_log WHERE tbl='arrests'")
        await tx.execute("UPDATE audit_log SET after=? WHERE tbl='arrests'",
                         (sealing.digested(after),))

    await h.db.write(purge)
    result = await _verify(h)
    # the hash still matches (the chain hashes digests), but no erasure accounts for it
    assert result.problems == [f"entry #{await _n_of(h, 'arrests')} lost its sealed values, "
                               "and no erasure names it"]


async def _n_of(h: Harness, table: str) -> int:
    [row] = await h.rows("SELECT n FROM audit_log WHERE tbl=?", (table,))
    return int(row["n"])


async def test_a_key_store_copied_before_a_rotation_opens_nothing_with_the_new_kek(
        h: Harness, tmp_path: Path) -> None:
    await h.ok("!arrest add NL-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)
    [key_id] = await _keys_of(h, "arrests")
    keys_path, kek_path = default_paths(h.db.path)
    h.db.keys.commit()
    backup = tmp_path / "backup.keys"
    shutil.copy(keys_path, backup)
    shutil.copy(f"{keys_path}-wal", f"{backup}-wal")
    h.db.keys.destroy([key_id])
    h.db.keys.rotate()
    old = KeyStore(backup, kek_path, read_only=True)
    with pytest.raises(Exception, match="do not belong together"):
        old.aead(key_id)
    old.close()
    assert h.db.keys.aead(key_id) is None


async def test_an_export_worker_forgets_a_key_the_bot_destroyed(h: Harness) -> None:
    """The export worker is another process with its own key cache: after an erasure in
    the bot, its next export must not open the erased values from memory."""
    await h.ok("!arrest add FR-2026-0001 country=FR agency=FR-OFAC", sender=OFFICER)
    [key_id] = await _keys_of(h, "arrests")
    h.db.keys.commit()
    keys_path, kek_path = default_paths(h.db.path)
    worker = KeyStore(keys_path, kek_path, read_only=True)
    worker.refresh()
    assert worker.aead(key_id) is not None  # cached now
    h.db.keys.destroy([key_id])
    worker.refresh()  # what every export's connection does first
    assert worker.aead(key_id) is None
    worker.close()
