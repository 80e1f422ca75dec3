"""A database a newer opsroom migrated stops every `opsroom` command that would open it,
with one line naming both versions, instead of a traceback or a run that writes rows the
newer schema does not expect."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.database import Database
from storage.migrations import LATEST

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    asyncio.run(_migrated(data / "opsroom.db"))
    with sqlite3.connect(data / "opsroom.db") as raw:
        raw.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    (LATEST + 2, "deconfliction hits"))
    path = tmp_path / "config.toml"
    # Port 9 on loopback: nothing answers; the database is checked before any request.
    path.write_text('[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@bot:localhost"\n'
                    f'password = "x"\n\n[storage]\ndata_dir = "{data}"\n\n'
                    '[access]\nallowed_inviters = ["@*:localhost"]\n')
    path.chmod(0o600)
    return path


async def _migrated(path: Path) -> None:
    await (await Database.open(path)).close()


@pytest.mark.parametrize("command", [
    ["run"], ["check-config"], ["audit", "verify", "--local"],
    ["export", "--room", "!r:localhost"],
])
def test_every_command_on_a_newer_database_exits_2_naming_both_versions(
        config_file: Path, command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", *command, "-c", str(config_file)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (f"is at version {LATEST + 2} (deconfliction hits), this opsroom knows up to "
            f"{LATEST}: upgrade opsroom or restore a backup") in result.stderr
    assert result.stdout == ""
