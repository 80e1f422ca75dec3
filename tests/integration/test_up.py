"""`opsroom up` gives a new user a working homeserver, bot and demo accounts."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import pytest
from nio import AsyncClient, AsyncClientConfig

from bot.crypto.cross_signing import ensure_cross_signed
from tests.integration.matrix_helpers import TestClient

pytestmark = pytest.mark.integration


async def test_up_prints_accounts_that_work_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "up", "--dir", str(tmp_path / "up"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    printed = ""
    while "Ctrl-C stops" not in printed:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert line, f"opsroom up ended early:\n{printed}"
        printed += line.decode()
    homeserver = re.search(r"Homeserver:\s+(http://127\.0\.0\.1:\d+)", printed).group(1)
    password = re.search(r"Demo lead:\s+lead\s+password (\S+)", printed).group(1)
    nio = AsyncClient(homeserver, "@lead:localhost", store_path=str(tmp_path),
                      config=AsyncClientConfig(encryption_enabled=True))
    await nio.login(password)
    lead = TestClient(nio)
    await lead.sync(0)
    await ensure_cross_signed(nio, password, tmp_path / "lead-keys")  # as Element does
    room = await lead.create_room(invite=["@opsroom:localhost"])
    await lead.wait_joined(room, "@opsroom:localhost")
    reply, _ = await lead.command(room, "!help")
    assert "opsroom commands" in reply.body
    await lead.close()
    proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    rest = (await proc.stdout.read()).decode()
    assert "stopped" in rest
