"""A command is applied at most once, and nothing acknowledged is ever lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from storage import audit
from storage.database import Database
from tests.failing_commit import commit_fails
from tests.harness import OFFICER, Harness

ROOT = Path(__file__).resolve().parent.parent


async def test_same_event_twice_gives_one_record_and_the_same_answer(h: Harness) -> None:
    first = await h.send('!task add "once"', sender=OFFICER, event_id="$same")
    second = await h.send('!task add "once"', sender=OFFICER, event_id="$same")
    assert (first.text, first.html, first.ok) == (second.text, second.html, second.ok)
    assert not second.duplicate, "not delivered yet: the runtime must still send it"
    await h.dispatcher.delivered("$same")
    third = await h.send('!task add "once"', sender=OFFICER, event_id="$same")
    assert third.duplicate and third.text == first.text
    assert len(await h.rows("SELECT * FROM tasks")) == 1


async def test_errors_are_also_answered_once(h: Harness) -> None:
    first = await h.send("!task add", event_id="$bad")
    again = await h.send("!task add", event_id="$bad")
    assert not first.ok and again.text == first.text


async def test_redelivery_after_restart_changes_nothing(tmp_path: Path) -> None:
    h = await Harness.open(tmp_path)
    await h.setup_operation()
    reply = await h.send('!task add "before restart"', event_id="$r1")
    await h.close()
    h2 = await Harness.open(tmp_path)
    again = await h2.send('!task add "before restart"', event_id="$r1")
    assert again.text == reply.text
    assert len(await h2.rows("SELECT * FROM tasks")) == 1
    await h2.close()


async def test_failure_before_commit_leaves_neither_record_nor_event(h: Harness) -> None:
    with commit_fails(h.db, OSError("power cut between the mutation and the commit")):
        reply = await h.send('!task add "lost?"', event_id="$crash")
    assert not reply.ok and "nothing was recorded" in reply.text
    assert await h.rows("SELECT * FROM tasks") == []
    assert await h.rows("SELECT * FROM processed_events WHERE event_id='$crash'") == []
    retried = await h.send('!task add "lost?"', event_id="$crash")
    assert retried.ok
    assert len(await h.rows("SELECT * FROM tasks")) == 1


async def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.kill_worker", str(tmp_path), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    acked: list[str] = []
    while len(acked) < 300:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line, "worker died"
        acked.append(line.decode().strip())
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    tail = (await proc.stdout.read()).decode().split()
    acked += tail
    db = await Database.open(tmp_path / "data" / "opsroom.db")
    try:
        stored = {r["event_id"] for r in await db.read(
            lambda tx: tx.all("SELECT event_id FROM processed_events"))}
        missing = [e for e in acked if e not in stored]
        assert missing == [], f"acknowledged but lost: {missing[:5]}"
        tasks = await db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM tasks"))
        assert tasks >= len(acked)
        results = await db.read(audit.verify_all)
        assert all(r.ok for r in results), [r.problems for r in results]
    finally:
        await db.close()


@pytest.mark.parametrize("n", [50])
async def test_concurrent_commands_are_each_applied_once(h: Harness, n: int) -> None:
    events = [f"$c{i}" for i in range(n)]
    replies = await asyncio.gather(*(h.send(f'!task add "t{i}"', event_id=e)
                                     for i, e in enumerate(events + events)))
    assert all(r.ok for r in replies)
    seqs = [r["seq"] for r in await h.rows("SELECT seq FROM tasks ORDER BY seq")]
    assert seqs == list(range(1, n + 1))
