"""An officer on another agency's homeserver works with the bot across federation.

Two Synapses on loopback federate over TLS (self-signed, see bot.dev_homeserver): the bot and
the lead live on A, the officer on B. Everything the officer sees — the room, the bot's
encrypted replies, the export file — reaches him through his own server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nio.crypto import decrypt_attachment

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import (
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration

FEDERATION_WAIT = 45.0  # joins, device lists and keys travel between servers: generous


@pytest.fixture(scope="module")
def federated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSynapse,
                                                                          LocalSynapse]]:
    a = LocalSynapse(tmp_path_factory.mktemp("synapse-a"), federation=True)
    b = LocalSynapse(tmp_path_factory.mktemp("synapse-b"), federation=True)

    async def both(action: str) -> None:
        await asyncio.gather(getattr(a, action)(), getattr(b, action)())

    asyncio.run(both("start"))
    yield a, b
    asyncio.run(both("stop"))


async def join_when_invited(client: TestClient, room_id: str) -> None:
    """Accept the invite once it has come over federation."""
    deadline = time.monotonic() + FEDERATION_WAIT
    while room_id not in client.nio.invited_rooms:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{client.user_id} was never invited to {room_id}")
        await client.sync()
    resp = await client.nio.join(room_id)
    assert getattr(resp, "room_id", None) == room_id, resp
    await client.wait_joined(room_id, client.user_id, FEDERATION_WAIT)


def body(event: Any) -> str:
    return event.source["content"]["body"]


async def test_an_officer_on_another_homeserver_records_and_gets_the_export_file(
        federated: tuple[LocalSynapse, LocalSynapse], tmp_path: Path) -> None:
    a, b = federated
    assert a.server_name != b.server_name and a.server_name.startswith("localhost:")
    config = await register_bot(a, "fed", tmp_path / "bot",
                                allowed_inviters=[f"@*:{a.server_name}"])
    lead = await make_client(a, "lead", tmp_path / "a")
    officer = await make_client(b, "officer", tmp_path / "b")
    assert officer.user_id.endswith(f":{b.server_name}")
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id, officer.user_id])
        await join_when_invited(officer, room)
        await lead.wait_joined(room, config.matrix.user_id, FEDERATION_WAIT)
        await lead.wait_joined(room, officer.user_id, FEDERATION_WAIT)
        await lead.command(room, '!op init "Operation Bridge" code=BRIDGE tlp=GREEN',
                           FEDERATION_WAIT)

        reply, _ = await officer.command(room, "!seize domain bridge-evil[.]example country=DE",
                                         FEDERATION_WAIT)
        assert reply.decrypted, "the reply must reach the remote officer end-to-end encrypted"
        assert "S-1" in body(reply) and "bridge-evil[.]example" in body(reply)
        reply, _ = await officer.command(room, "!tally searches +3 country=DE",
                                         FEDERATION_WAIT)
        assert reply.decrypted and "searches" in body(reply)

        event_id = await officer.send_text(room, "!export json")

        def file_reply(r: str, e: Any) -> bool:
            content = getattr(e, "source", {}).get("content", {})
            return content.get("msgtype") == "m.file" and is_reply_to(e, event_id)

        event = await officer.wait_for(file_reply, FEDERATION_WAIT)
    assert event.decrypted, "the file event itself must be end-to-end encrypted"
    content = event.source["content"]
    assert "url" not in content, "no plain upload in an encrypted room"
    info = content["file"]
    assert info["url"].startswith(f"mxc://{a.server_name}/"), "uploaded by the bot on A"
    # Downloaded from the officer's own server, which fetches it from A over federation.
    assert officer.nio.homeserver == b.base_url
    resp = await officer.nio.download(mxc=info["url"])
    assert b"bridge-evil" not in resp.body, "the media repositories hold only ciphertext"
    plain = decrypt_attachment(resp.body, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    exported = json.loads(plain)
    text = json.dumps(exported)
    assert "bridge-evil.example" in text and officer.user_id in text
    assert "BRIDGE" in content["body"]
    await lead.close()
    await officer.close()
