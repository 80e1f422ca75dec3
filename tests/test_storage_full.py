"""A full or failing disk: the officer is told it is the storage (not their command) and
that nothing was recorded, the log names the database file, reads still answer, and the
bot recovers by itself once there is space again."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime import save_state
from tests.failing_commit import commit_fails
from tests.full_disk import FullDisk
from tests.harness import OFFICER, Harness

FULL = "the bot's storage is full — nothing was recorded; tell the administrator"
# Long enough that recording it needs new pages also when the fallback (max_page_count)
# makes the database, not the filesystem, full.
LONG = "Seize the wallet " + "x" * 480


@pytest.fixture
async def disk(tmp_path: Path, record_property: pytest.RecordProperty
               ) -> AsyncIterator[FullDisk]:
    disk = FullDisk(tmp_path / "fs")
    record_property("full_disk", disk.how)
    print(f"full disk made with: {disk.how}")
    try:
        yield disk
    finally:
        disk.free()
        disk.unmount()


@pytest.fixture
async def hf(disk: FullDisk) -> AsyncIterator[Harness]:
    harness = await Harness.open(disk.root)
    try:
        await harness.setup_operation()
        await harness.ok('!task add "Image server fra-2"')
        yield harness
    finally:
        await harness.close()


async def tasks(h: Harness) -> list[str]:
    return [r["text"] for r in await h.rows("SELECT text FROM tasks ORDER BY id")]


async def test_a_command_on_a_full_disk_says_the_storage_is_full_and_records_nothing(
        hf: Harness, disk: FullDisk, caplog: pytest.LogCaptureFixture) -> None:
    disk.fill(hf.db)
    with caplog.at_level(logging.ERROR):
        answer = await hf.send(f'!task add "{LONG}"', OFFICER)
    assert not answer.ok
    assert FULL in answer.text
    assert "internal error" not in answer.text
    assert str(hf.db.path) in caplog.text  # the administrator knows which file
    disk.free()
    assert await tasks(hf) == ["Image server fra-2"]


async def test_reads_still_answer_while_the_disk_is_full(hf: Harness, disk: FullDisk) -> None:
    disk.fill(hf.db)
    schedule = await hf.send("!sitrep schedule")
    assert schedule.ok
    typo = await hf.send("!task ad 3")
    assert not typo.ok and "did you mean /task add" in typo.text


async def test_records_are_not_shown_while_their_consultation_cannot_be_logged(
        hf: Harness, disk: FullDisk) -> None:
    disk.fill(hf.db)
    for line in ("!task list", "!op", "!export"):
        listing = await hf.send(line)
        assert not listing.ok and "Image server fra-2" not in listing.text
        assert "cannot log this consultation" in listing.text
    disk.free()
    assert "Image server fra-2" in (await hf.ok("!task list")).text


async def test_the_bot_recovers_by_itself_once_there_is_space(hf: Harness, disk: FullDisk
                                                              ) -> None:
    disk.fill(hf.db)
    lost = hf.incoming(f'!task add "{LONG}"')
    assert FULL in (await hf.dispatcher.handle(lost)).text
    disk.free()
    again = await hf.dispatcher.handle(lost)  # the homeserver delivers it again
    assert again.ok and "T-2 created" in again.text
    assert (await hf.ok('!task add "Next"')).text.startswith("T-3 created")
    assert await tasks(hf) == ["Image server fra-2", LONG, "Next"]


async def test_a_disk_io_error_is_named_as_such(h: Harness) -> None:
    with commit_fails(h.db, sqlite3.OperationalError("disk I/O error")):
        answer = await h.send('!task add "x"')
    assert not answer.ok
    assert "storage failed (disk I/O error) — nothing was recorded; tell the administrator" \
        in answer.text
    assert await h.rows("SELECT * FROM tasks") == []


def test_the_sync_state_not_written_for_lack_of_space_does_not_stop_the_bot(
        disk: FullDisk, caplog: pytest.LogCaptureFixture) -> None:
    path = disk.root / "runtime_state.json"
    assert save_state(path, {"next_batch": "s1"})
    with disk.full_for_files(), caplog.at_level(logging.ERROR):
        assert not save_state(path, {"next_batch": "s2" + "x" * 100_000})
    assert str(path) in caplog.text
    assert json.loads(path.read_text()) == {"next_batch": "s1"}  # the old one intact
    assert not path.with_suffix(".json.tmp").exists()
    assert save_state(path, {"next_batch": "s3"})  # space again
    assert json.loads(path.read_text()) == {"next_batch": "s3"}
