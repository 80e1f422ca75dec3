"""The audit head posted in the room, and /audit verify holding the database against it.

The room's history is a list here (`RoomLog`, the WitnessSource the runtime would give):
what the bot posted, kept as the bot posted it. tests/integration/test_audit_witness.py
reads the real thing from Synapse.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot import cli
from commands.core.timeparse import format_dtg
from commands.core.types import Reply, RoomHeads, WitnessedHead, WitnessUnavailable
from commands.witness import WITNESS_KEY, Missing, Rewritten, compare, parse_head
from storage import audit
from tests.audit_tamper import rewrite_entry, truncate_after
from tests.harness import OFFICER, ROOM, Harness, write_cli_config

HEX = "ab" * 32


class RoomLog:
    """The room's history as far as witnesses go: every head the bot posted, in order."""

    def __init__(self) -> None:
        self.posted: list[WitnessedHead] = []
        self.ids = itertools.count(1)
        self.down: str | None = None

    def keep(self, reply: Reply, at: datetime) -> WitnessedHead | None:
        head = parse_head(reply.extra_content or {})
        if head is None:
            return None
        witnessed = WitnessedHead(head.n, head.hash, f"$post{next(self.ids)}", at)
        self.posted.append(witnessed)
        return witnessed

    async def heads(self, room_id: str) -> RoomHeads:
        if self.down:
            raise WitnessUnavailable(self.down)
        return RoomHeads(list(reversed(self.posted)))


async def posted(h: Harness, room: RoomLog, body: str) -> WitnessedHead:
    """Run a command whose reply witnesses the head, as the bot would post it."""
    reply = await h.ok(body)
    witnessed = room.keep(reply, h.clock.now())
    assert witnessed is not None, f"{body!r} carried no audit head: {reply.extra_content}"
    return witnessed


def in_room(h: Harness) -> RoomLog:
    room = RoomLog()
    h.dispatcher.witness = room
    return room


async def test_audit_verify_states_the_head_in_text_and_content(h: Harness) -> None:
    in_room(h)
    reply = await h.ok("!audit verify")
    [head] = await h.rows("SELECT n, hash FROM audit_heads")
    assert f"Audit head #{head['n']} · {head['hash']}" in reply.text
    assert f"<code>{head['hash']}</code>" in reply.html
    assert reply.extra_content == {WITNESS_KEY: head}


async def test_intact_log_matches_every_witnessed_head_and_later_entries_are_fine(
        h: Harness) -> None:
    room = in_room(h)
    first = await posted(h, room, "!sitrep")
    await h.ok('!task add "image servers"', sender=OFFICER)
    h.clock.advance(hours=1)
    second = await posted(h, room, "!audit verify")
    await h.ok('!task add "brief press"', sender=OFFICER)  # after the last witness
    reply = await h.ok("!audit verify")
    assert "✅ audit log intact" in reply.text
    assert (f"matches every head posted in this room (2, newest #{second.n} at "
            f"{format_dtg(second.at)})") in reply.text
    assert second.n == first.n + 1


async def test_rewrite_with_recomputed_hashes_is_named_from_the_room(h: Harness) -> None:
    room = in_room(h)
    before = await posted(h, room, "!sitrep")
    await h.ok('!task add "image servers"', sender=OFFICER)
    await h.ok('!task add "brief press"', sender=OFFICER)
    witness = await posted(h, room, "!audit verify")
    await h.ok('!task add "after the witness"', sender=OFFICER)
    rewrite_entry(h.db.path, ROOM, before.n + 1, '{"text":"nothing happened"}')
    # The chain alone cannot tell: every hash was recomputed.
    assert (await h.db.read(lambda tx: audit.verify_room(tx, ROOM))).ok

    reply = await h.fails("!audit verify")
    assert "FAILED" in reply.text
    assert (f"entries #{before.n + 1}..#{witness.n} rewritten after they were witnessed in "
            f"the room at {format_dtg(witness.at)} / {witness.event_id}") in reply.text
    assert witness.hash[:16] in reply.text
    assert reply.extra_content is None  # a failed head is not posted as a witness
    assert "not posted as a witness" in reply.text


async def test_rewrite_is_still_found_after_the_bot_posted_the_rewritten_head(
        h: Harness) -> None:
    room = in_room(h)
    await h.ok('!task add "image servers"', sender=OFFICER)
    original = await posted(h, room, "!sitrep")
    rewrite_entry(h.db.path, ROOM, 2, '{"code":"XX-FAKE"}')
    h.clock.advance(hours=6)
    later = await posted(h, room, "!sitrep")  # the next sitrep witnesses the rewritten chain
    assert later.n == original.n and later.hash != original.hash
    reply = await h.fails("!audit verify")
    assert (f"entries #1..#{original.n} rewritten after they were witnessed in the room at "
            f"{format_dtg(original.at)} / {original.event_id}") in reply.text


async def test_entries_deleted_after_they_were_witnessed_are_named(h: Harness) -> None:
    room = in_room(h)
    await h.ok('!task add "image servers"', sender=OFFICER)
    await h.ok('!task add "brief press"', sender=OFFICER)
    witness = await posted(h, room, "!audit verify")
    truncate_after(h.db.path, ROOM, witness.n - 2)
    assert (await h.db.read(lambda tx: audit.verify_room(tx, ROOM))).ok
    reply = await h.fails("!audit verify")
    assert (f"entries #{witness.n - 1}..#{witness.n} were witnessed in the room at "
            f"{format_dtg(witness.at)} / {witness.event_id} but are no longer in the "
            "database") in reply.text


async def test_unreadable_history_still_checks_the_chain_and_says_so(h: Harness) -> None:
    room = in_room(h)
    room.down = "the homeserver could not be reached"
    reply = await h.ok("!audit verify")
    assert "✅ audit log intact" in reply.text
    assert ("Not compared with the room's history (the homeserver could not be reached): "
            "local chain only") in reply.text
    with sqlite3.connect(h.db.path) as raw:
        raw.execute("UPDATE audit_log SET command='!x' WHERE n=2")
    assert "entry #2 was altered" in (await h.fails("!audit verify")).text


async def test_first_verify_in_a_room_says_there_is_nothing_to_compare_yet(
        h: Harness) -> None:
    in_room(h)
    reply = await h.ok("!audit verify")
    assert "no audit head posted in this room yet" in reply.text


async def test_verify_reply_lost_in_a_crash_is_checked_again_at_restart(h: Harness) -> None:
    room = in_room(h)
    original = await posted(h, room, "!sitrep")
    await h.send("!audit verify", event_id="$verify")  # committed; the bot died unsent
    rewrite_entry(h.db.path, ROOM, 3, '{"code":"XX-FAKE"}')
    [stored] = [reply for _, event_id, reply in await h.dispatcher.undelivered()
                if event_id == "$verify"]
    reply = await h.dispatcher.finish(stored)
    assert not reply.ok and f"entries #1..#{original.n} rewritten" in reply.text


def test_compare_narrows_the_rewrite_to_between_two_witnesses() -> None:
    at = datetime.fromisoformat("2026-11-24T12:00:00+00:00")
    hashes = {n: f"{n:064x}" for n in range(1, 21)}
    good5 = WitnessedHead(5, hashes[5], "$a", at)
    bad9 = WitnessedHead(9, HEX, "$b", at)
    bad12 = WitnessedHead(12, "cd" * 32, "$c", at)
    gone25 = WitnessedHead(25, "ef" * 32, "$d", at)
    check = compare(hashes, [gone25, bad12, bad9, good5])
    assert check.problems == [Rewritten(6, 9, bad9, hashes[9], later=1),
                              Missing(21, 25, gone25)]
    assert check.matched == 1 and not check.ok
    assert compare(hashes, [good5]).ok


def test_malformed_heads_are_no_witness() -> None:
    assert parse_head({WITNESS_KEY: {"n": 3, "hash": HEX}}) == audit.Head(3, HEX)
    for bad in ({"n": 0, "hash": HEX}, {"n": True, "hash": HEX}, {"n": "3", "hash": HEX},
                {"n": 3, "hash": HEX[:-1]}, {"n": 3, "hash": HEX.upper()}, "3", None):
        assert parse_head({WITNESS_KEY: bad}) is None
    assert parse_head({"body": "no head"}) is None


def test_cli_without_a_bot_session_checks_the_chain_and_says_the_room_was_not_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def record() -> None:
        h = await Harness.open(tmp_path)
        await h.setup_operation()
        await h.close()

    asyncio.run(record())
    config = write_cli_config(tmp_path)
    assert cli.main(["audit", "verify", "-c", str(config)]) == cli.EXIT_NOT_WITNESSED
    out = capsys.readouterr()
    assert f"{ROOM}: intact (6 entries)" in out.out
    assert "not compared with the room's history: no bot session in" in out.out
    assert "checking the local chain only" in out.err
    assert cli.main(["audit", "verify", "-c", str(config), "--local"]) == 0
