"""An Element-style client in strict mode (only cross-signed devices) can use the bot,
and could not if the bot's device were not cross-signed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.integration.matrix_helpers import register_bot, running_bot
from tests.integration.strict_client import run_strict_client

pytestmark = pytest.mark.integration


class UnsignedBot(Bot):
    """The bot as it would be without cross-signing its device."""

    async def _cross_sign(self) -> None:
        pass


async def test_strict_client_talks_to_the_cross_signed_bot(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    await synapse.register_user(f"element-{unique}", "pw-element")
    async with running_bot(config):
        result = await run_strict_client(
            synapse.base_url, f"element-{unique}", "pw-element", config.matrix.user_id,
            '!op init "Operation Strict" code=STRICT', expect="Operation Strict")
    assert result.ok, (result.data, result.stderr)
    assert result.data["encrypted"] is True


async def test_strict_client_cannot_talk_to_an_unsigned_bot(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    config = dataclasses.replace(config, undecryptable_timeout=3.0)
    await synapse.register_user(f"element-{unique}", "pw-element")
    async with running_bot(config, bot_class=UnsignedBot) as bot:
        result = await run_strict_client(
            synapse.base_url, f"element-{unique}", "pw-element", config.matrix.user_id,
            '!op init "Operation Strict" code=STRICT', expect="Operation Strict",
            timeout_ms=15000)
        recorded = await bot.db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM operations"))
    assert not result.ok, result.data
    # The bot's "could not decrypt" notice reached the client, which refused it because the
    # sending device is not cross-signed: the strict mode is what shut the bot out.
    failures = [e["failure"] for e in result.data["seen"]]
    assert "UNSIGNED_SENDER_DEVICE" in failures, result.data
    assert recorded == 0, "the bot must not have been able to read the command"
