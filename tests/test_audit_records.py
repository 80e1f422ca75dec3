"""Record rows held against the audit log (storage/witness.py): a row edited, added or
deleted with the sqlite3 CLI is named by /audit verify and `opsroom audit verify`, and
stops every export until a lead acknowledges it with /audit accept; the acknowledged
rows stay out of exports.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import cli
from commands.core.types import Settings
from exports.build import build_export
from tests.export_text import export_text
from tests.harness import OFFICER, ROOM, Harness, write_cli_config
from tests.test_deconfliction import label_in, release, told

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
SECRET = "red-only-secret.example"


def sqlite_cli(h: Harness, *statements: str) -> None:
    """What the issue's author did: edit the file with the sqlite3 CLI, beside the bot."""
    with sqlite3.connect(h.db.path) as raw:
        for statement in statements:
            raw.execute(statement)


async def seized(h: Harness) -> None:
    await h.ok(f"!seize domain {SECRET} tlp=RED", sender=OFFICER)
    await h.ok("!seize ip 203.0.113.7 tlp=GREEN", sender=OFFICER)
    await h.ok("!arrest add FR-2026-1 country=FR agency=FR-OFAC tlp=GREEN")


async def exported(h: Harness, tlp: str = "GREEN", fmt: str = "md") -> tuple[str, str]:
    """The /export reply and the file's text."""
    reply = await h.ok(f"!export {fmt} tlp={tlp}")
    assert reply.attachment is not None and reply.attachment.path is not None
    text = export_text(fmt, reply.attachment.path.read_bytes())
    reply.attachment.discard()
    return reply.text, text


async def test_a_red_seizure_edited_to_green_behind_the_log_is_named_and_not_exported(
        h: Harness) -> None:
    """The issue's reproduction: before, verify said intact and the GREEN export carried
    the formerly RED seizure."""
    await seized(h)
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN', value='decoy.example' WHERE seq=1",
               "DELETE FROM arrests WHERE seq=1")

    verify = await h.fails("!audit verify")
    assert "FAILED" in verify.text
    assert "S-1 (seized item): tlp, value changed behind the audit log" in verify.text
    assert "A-1 (arrest): deleted behind the audit log" in verify.text
    assert "/audit accept" in verify.text

    refused = await h.fails("!export md tlp=GREEN")
    assert refused.attachment is None
    assert "export refused, nothing was exported" in refused.text
    assert "S-1 (seized item): tlp, value changed behind the audit log" in refused.text
    assert "A lead can acknowledge them with /audit accept" in refused.text


async def test_after_a_lead_acknowledges_exports_run_and_leave_the_tampered_row_out(
        h: Harness) -> None:
    await seized(h)
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN', value='decoy.example' WHERE seq=1")
    await h.fails("!audit accept", sender=OFFICER)  # lead-only
    await h.fails("!export md tlp=GREEN")

    accepted = await h.ok("!audit accept")
    assert "Acknowledged 1 change made behind the audit log" in accepted.text
    assert "S-1 (seized item): tlp, value changed" in accepted.text
    [ack] = await h.rows("SELECT * FROM audit_acks")
    [entry] = await h.rows("SELECT * FROM audit_log WHERE tbl='audit_acks'")
    assert entry["sender"] == "@lead:localhost" and entry["action"] == "insert"
    assert ack["tlp"] == "RED"  # the row was RED in the log: no lower export shows the ack

    reply, text = await exported(h, "GREEN")
    assert "Left out, changed behind the audit log (acknowledged by a lead): S-1" in reply
    assert "decoy.example" not in text and SECRET not in text
    assert "| S-2 | ip |" in text  # the untouched GREEN record is still there
    _, red = await exported(h, "RED", "json")
    assert "decoy.example" not in red  # left out at every level: the log never recorded it

    verify = await h.ok("!audit verify")
    assert "✅ audit log intact" in verify.text
    assert "acknowledged by a lead (left out of exports): S-1 (seized item)" in verify.text
    await h.fails("!audit accept")  # nothing new


async def test_a_new_change_after_the_acknowledgement_is_found_again(h: Harness) -> None:
    await seized(h)
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN' WHERE seq=1")
    await h.ok("!audit accept")
    await exported(h)
    sqlite_cli(h, "UPDATE seizures SET value='other.example' WHERE seq=1")
    refused = await h.fails("!export")
    assert "S-1 (seized item): tlp, value changed behind the audit log" in refused.text


async def test_an_inserted_row_is_named_and_blocks_the_export(h: Harness) -> None:
    await seized(h)
    sqlite_cli(h, "INSERT INTO seizures (op_id, seq, type, value, tlp, created_by, created_at,"
                  " updated_at) SELECT op_id, 9, 'domain', 'planted.example', 'CLEAR', "
                  "created_by, created_at, updated_at FROM seizures WHERE seq=1")
    verify = await h.fails("!audit verify")
    assert "S-9 (seized item): added behind the audit log (no entry records it)" in verify.text
    refused = await h.fails("!export json tlp=CLEAR")
    assert "S-9 (seized item): added behind the audit log" in refused.text
    await h.ok("!audit accept")
    _, text = await exported(h, "CLEAR", "json")
    assert "planted.example" not in text


async def test_a_row_changed_by_commands_and_undo_is_not_flagged(h: Harness) -> None:
    await seized(h)
    await h.ok("!seize status S-2 seized", sender=OFFICER)
    await h.ok('!task add "image servers" tlp=RED', sender=OFFICER)
    await h.ok('!task edit T-1 text="image all servers"', sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)  # the status change
    await h.ok("!rollcall")
    await h.ok("!ready")
    await h.ok("!sitrep every 6h")
    await h.ok('!sitrep note "hold"')
    await h.ok("!op phase action")
    verify = await h.ok("!audit verify")
    assert "✅ audit log intact" in verify.text
    assert "behind the audit log" not in verify.text
    reply, text = await exported(h, "GREEN")
    assert "| S-2 | ip |" in text and "Left out" not in reply
    await h.fails("!audit accept")


async def test_a_change_laundered_by_a_later_command_is_still_named(h: Harness) -> None:
    """A command that changes the tampered row writes the tampered values into its
    images; the before-image no longer following the log's last image still tells."""
    await seized(h)
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN' WHERE seq=1")
    await h.ok("!seize status S-1 seized", sender=OFFICER)
    verify = await h.fails("!audit verify")
    assert "S-1 (seized item): tlp changed behind the audit log before entry #" in verify.text
    await h.fails("!export md tlp=GREEN")
    await h.ok("!audit accept")
    _, text = await exported(h, "GREEN")
    assert SECRET not in text


def test_opsroom_audit_verify_and_export_name_the_changes_and_refuse_until_acknowledged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def with_harness(step: Callable[[Harness], Awaitable[object]]) -> None:
        async def run() -> None:
            h = await Harness.open(tmp_path)
            try:
                await step(h)
            finally:
                await h.close()
        asyncio.run(run())

    async def record(h: Harness) -> None:
        await h.setup_operation()
        await seized(h)

    with_harness(record)
    config = write_cli_config(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with_harness(lambda h: asyncio.sleep(0, sqlite_cli(
        h, "UPDATE seizures SET tlp='GREEN', value='decoy.example' WHERE seq=1",
        "DELETE FROM arrests WHERE seq=1")))

    assert cli.main(["audit", "verify", "-c", str(config), "--local"]) == 1
    out = capsys.readouterr().out
    assert "S-1 (seized item): tlp, value changed behind the audit log" in out
    assert "A-1 (arrest): deleted behind the audit log" in out
    assert "/audit accept" in out

    export = ["export", "-c", str(config), "--room", ROOM, "--tlp", "GREEN", "-o", str(out_dir)]
    assert cli.main(export) == cli.EXIT_TAMPERED
    err = capsys.readouterr().err
    assert "export refused, nothing was exported" in err and "A-1 (arrest)" in err
    assert not list(out_dir.iterdir())

    with_harness(lambda h: h.ok("!audit accept"))
    assert cli.main(["audit", "verify", "-c", str(config), "--local"]) == 0
    assert cli.main(export) == 0
    captured = capsys.readouterr()
    assert "left out, changed behind the audit log (acknowledged by a lead): A-1" in captured.err
    [file] = out_dir.iterdir()
    text = file.read_text()
    assert "decoy.example" not in text and SECRET not in text and "| S-2 | ip |" in text


async def test_an_untouched_operation_verifies_and_exports_as_before(h: Harness) -> None:
    await seized(h)
    assert "✅ audit log intact" in (await h.ok("!audit verify")).text
    attachment, summary = await build_export(h.db, ROOM, "md", "GREEN", NOW)
    assert summary.left_out == ()
    attachment.discard()
    await h.fails("!audit accept")


async def test_a_closed_operation_can_still_acknowledge_and_export(h: Harness) -> None:
    await seized(h)
    await h.ok("!op phase closed")
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN' WHERE seq=1")
    await h.fails("!export md tlp=GREEN")
    await h.ok("!audit accept")
    _, text = await exported(h, "GREEN")
    assert SECRET not in text and "| S-2 | ip |" in text
    await h.fails('!task add "after closing"')  # the record stays final otherwise


async def test_a_deconfliction_hit_and_introduction_leave_both_operations_intact(
        tmp_path: Path) -> None:
    """Each side of a hit is changed from the other room's command, audited in its own."""
    h = await Harness.open(tmp_path, Settings(deconfliction=True))
    other, other_lead = "!other-op:localhost", "@lead-b:localhost"
    try:
        await h.setup_operation()
        await h.ok('!op init "Operation Northwind" code=NORTHWIND', sender=other_lead,
                   room=other, power=100)
        await h.ok("!seize domain shared.example", sender=OFFICER)
        await h.ok("!seize domain shared.example", sender=other_lead, room=other, power=100)
        released = await release(h)  # the grace period passes: the hit is made and told
        [mine], [theirs] = told(released, ROOM), told(released, other)
        await h.ok(f"!deconflict share {label_in(mine)}")
        await h.ok(f"!deconflict share {label_in(theirs)}", sender=other_lead, room=other,
                   power=100)
        for room, lead in ((ROOM, "@lead:localhost"), (other, other_lead)):
            verify = await h.ok("!audit verify", sender=lead, room=room, power=100)
            assert "✅ audit log intact" in verify.text, verify.text
            await h.fails("!audit accept", sender=lead, room=room, power=100)
    finally:
        await h.close()


async def test_undoing_the_acknowledgement_refuses_exports_again(h: Harness) -> None:
    await seized(h)
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN' WHERE seq=1")
    await h.ok("!audit accept")
    await exported(h)
    undone = await h.ok("!undo")
    assert "audit acknowledgement" in undone.text
    refused = await h.fails("!export md tlp=GREEN")
    assert "S-1 (seized item): tlp changed behind the audit log" in refused.text


async def test_a_column_added_by_a_later_migration_is_no_mismatch_until_it_is_edited(
        h: Harness) -> None:
    await seized(h)
    sqlite_cli(h, "ALTER TABLE seizures ADD COLUMN registrar TEXT DEFAULT 'unknown'")
    await h.ok("!seize status S-2 seized", sender=OFFICER)  # its before-image has the column
    assert "✅ audit log intact" in (await h.ok("!audit verify")).text
    sqlite_cli(h, "UPDATE seizures SET registrar='Evil Registrar' WHERE seq=1")
    verify = await h.fails("!audit verify")
    assert "S-1 (seized item): registrar changed behind the audit log" in verify.text


@pytest.mark.parametrize("fmt", ["md", "json", "csv", "stix", "misp", "pdf"])
async def test_every_format_of_an_acknowledged_export_leaves_the_tampered_row_out(
        h: Harness, fmt: str) -> None:
    await seized(h)
    await h.ok("!takedown add S-1 agency=FR-OFAC tlp=GREEN")
    sqlite_cli(h, "UPDATE seizures SET tlp='GREEN', value='decoy.example' WHERE seq=1")
    await h.ok("!audit accept")
    _, red = await exported(h, "RED", fmt)
    assert "decoy" not in red  # at no level: the log never recorded it
    _, green = await exported(h, "GREEN", fmt)
    assert "decoy" not in green and "red-only-secret" not in green


def test_a_column_a_migration_backfilled_is_not_a_change_in_images_from_before_it() -> None:
    """Migration 12 gave every old deconfliction hit its label `D-n` from its number: the
    hit's images from before say nothing of a label, and that is no tampering; a column
    added with a DEFAULT is still compared with it."""
    from storage.witness import _UNWITNESSED, BACKFILLED, _differing

    assert ("deconfliction_sides", "label") in BACKFILLED
    old_image = {"id": 1, "hit": 5, "seq": 7}
    defaults = {"label": _UNWITNESSED, "deconflict_red": 0}
    assert _differing(old_image, {**old_image, "label": "D-5"}, defaults) == ()
    assert _differing(old_image, {**old_image, "deconflict_red": 1}, defaults) == (
        "deconflict_red",)
    assert _differing({**old_image, "label": "D-5"}, {**old_image, "label": "D-6"},
                      defaults) == ("label",), "once an image has it, it is witnessed"
