"""Shared fixtures: one real Synapse per test session, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from tests.harness import Harness


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    hs = LocalSynapse(tmp_path_factory.mktemp("synapse"))
    asyncio.run(hs.start())
    yield hs
    asyncio.run(hs.stop())


_names = itertools.count(1)


@pytest.fixture
def unique() -> Iterator[str]:
    """A fresh suffix per test so users and rooms never collide within the session."""
    yield f"t{next(_names)}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "bot-data"


@pytest.fixture
async def h(tmp_path: Path) -> Iterator[Harness]:
    """A dispatcher on a fresh database with operation FIREBREAK set up (see harness)."""
    harness = await Harness.open(tmp_path)
    await harness.setup_operation()
    yield harness
    await harness.close()


@pytest.fixture
async def bare(tmp_path: Path) -> Iterator[Harness]:
    """A dispatcher on a fresh database, room not yet bound to an operation."""
    harness = await Harness.open(tmp_path)
    yield harness
    await harness.close()
