"""Exports wait in the slow-work queue, not in front of other commands (bot.slow_work).

The export's real builder runs behind a gate the test opens, so "while the export is
still being built" is a state the test holds, not a race it hopes to win.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.dev_homeserver import LocalSynapse
from commands import export
from commands.core.types import Reply
from tests.integration.matrix_helpers import (
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


class Gate:
    """Export files are built only once the gate is open."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = asyncio.Event()
        self.waiting = 0
        real = export.builder

        def gated(*args: Any, **kwargs: Any) -> Callable[[], Awaitable[Reply]]:
            build = real(*args, **kwargs)

            async def held() -> Reply:
                self.waiting += 1
                await self.open.wait()
                return await build()

            return held

        monkeypatch.setattr(export, "builder", gated)


def file_reply_to(event_id: str) -> Callable[[str, Any], bool]:
    def match(room: str, event: Any) -> bool:
        content = getattr(event, "source", {}).get("content", {})
        return content.get("msgtype") == "m.file" and is_reply_to(event, event_id)

    return match


def body(event: Any) -> str:
    return event.source["content"]["body"]


async def operation_room(lead: TestClient, bot_id: str, code: str) -> str:
    room = await lead.create_room(invite=[bot_id])
    await lead.wait_joined(room, bot_id)
    await lead.command(room, f'!op init "Operation {code.title()}" code={code}')
    return room


async def test_other_rooms_and_quick_commands_are_answered_while_an_export_is_built(
        synapse: LocalSynapse, unique: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    config = dataclasses.replace(await register_bot(synapse, unique, tmp_path / "bot"),
                                 slow_workers=1)
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        busy = await operation_room(lead, config.matrix.user_id, "BUSY")
        other = await operation_room(lead, config.matrix.user_id, "OTHER")
        first = await lead.send_text(busy, "!export md")
        second = await lead.send_text(busy, "!export json")
        queued = await lead.wait_for(lambda r, e: is_reply_to(e, second))
        assert body(queued).startswith("⏳ queued, 1 ahead"), body(queued)

        reply, _ = await lead.command(other, '!task add "Image server fra-2"')
        assert "T-1 created" in body(reply), "another room is answered meanwhile"
        reply, _ = await lead.command(busy, "!seize domain evil[.]example")
        assert "S-1" in body(reply), "so is a quick command in the exporting room"
        assert gate.waiting == 1, "one worker: the second export has not started"
        assert lead.seen(file_reply_to(first)) == [], "the first file is still being built"

        gate.open.set()
        await lead.wait_for(file_reply_to(second))
        files = [e for r, e in lead.events
                 if file_reply_to(first)(r, e) or file_reply_to(second)(r, e)]
        assert [f.source["content"]["body"].rsplit(".", 1)[1] for f in files] == ["md", "json"]
    await lead.close()


async def test_an_export_stopped_mid_build_brings_its_file_after_restart(
        synapse: LocalSynapse, unique: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing acknowledged is lost: the queue is in memory, the stored reply is not."""
    gate = Gate(monkeypatch)
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await operation_room(lead, config.matrix.user_id, "RESTART")
        export_id = await lead.send_text(room, "!export md")
        await lead.wait_for(lambda r, e: gate.waiting > 0)  # the build has begun
    gate.open.set()
    async with running_bot(config):
        event = await lead.wait_for(file_reply_to(export_id), 30)
        assert body(event).startswith("RESTART-") and body(event).endswith(".md")
    await lead.close()
