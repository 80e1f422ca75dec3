"""What a real client's room shows is what the bot runs and what it answers with."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from commands.core.visible import first_invisible
from tests.integration.matrix_helpers import make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


async def test_a_command_hidden_from_the_room_is_not_run(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Glasshouse" code=GLASS')

        # Element shows "!op"; the body and a <script> say "close the operation".
        reply, _ = await lead.command(room, "!op phase closed",
                                      html="!op<script> phase closed</script>")
        body = reply.source["content"]["body"]
        assert "Operation Glasshouse" in body and "planning" in body
        assert "FINAL REPORT" not in body
        reply, _ = await lead.command(room, "!op")
        assert "planning" in reply.source["content"]["body"], "the operation was not closed"

        # A right-to-left override never reaches the room raw, and nothing is recorded.
        reply, _ = await lead.command(room, '!task add "invoice\u202efdp.exe"')
        content = reply.source["content"]
        assert "(U+202E) after 'task add \"invoice': RIGHT-TO-LEFT OVERRIDE" in content["body"]
        assert first_invisible(content["body"]) is None
        assert first_invisible(content["formatted_body"]) is None
        reply, _ = await lead.command(room, "!task list all")
        assert "(none)" in reply.source["content"]["body"]

        # A mention whose link smuggles a second line: refused, naming it; nothing is run.
        reply, _ = await lead.command(
            room, "!member Anna agency=X",
            html='!member <a href="https://matrix.to/#/@anna:localhost%0A!op%20phase%20'
                 'closed">Anna</a> agency=X')
        body = reply.source["content"]["body"]
        assert "not a Matrix user id" in body and "!op phase closed" in body
        reply, _ = await lead.command(room, "!op")
        assert "planning" in reply.source["content"]["body"], "the operation was not closed"
    await lead.close()
