"""Runs the Node strict client (tests/strict_client) against the local Synapse."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "strict_client"


def ensure_installed() -> None:
    """`npm ci` once; the lock file pins matrix-js-sdk so every run tests the same client."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("Node 20 and npm are needed for the strict-client test")
    stamp = HERE / "node_modules" / ".opsroom-installed"
    lock = HERE / "package-lock.json"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                   check=True)
    stamp.write_text(lock.read_text())


@dataclass
class StrictResult:
    ok: bool
    data: dict
    stderr: str


async def run_strict_client(homeserver: str, user: str, password: str, bot: str, command: str,
                            expect: str = "", timeout_ms: int = 30000, room: str = "",
                            command2: str = "", then: str = "", then_expect: str = "",
                            join: str = "", wait_for: str = "") -> StrictResult:
    """With `room`: a second, unsigned session of `user` (already in that room) sends
    `command` and `command2` and reports every event of the bot it saw (`data["seen"]`).
    With `join`: joins that room (invited) instead of creating one, and sends `command`
    once a message of the bot holding `wait_for` arrived."""
    await asyncio.to_thread(ensure_installed)
    env = {**os.environ, "HS": homeserver, "USER": user, "PASSWORD": password, "BOT": bot,
           "COMMAND": command, "EXPECT": expect, "TIMEOUT_MS": str(timeout_ms), "ROOM": room,
           "COMMAND2": command2, "THEN": then, "THEN_EXPECT": then_expect,
           "JOIN": join, "WAIT_FOR": wait_for}
    proc = await asyncio.create_subprocess_exec(
        "node", "strict_client.mjs", cwd=HERE, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout_ms / 1000 + 60)
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    data = json.loads(lines[-1]) if lines else {"reason": "no output"}
    return StrictResult(ok=proc.returncode == 0 and bool(data.get("ok")), data=data,
                        stderr=err.decode()[-3000:])
