"""/board in an encrypted room: an officer receives an encrypted m.image, downloads it and
decrypts it (the picture and its thumbnail) into PNGs of the size the event states."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio.crypto import decrypt_attachment
from PIL import Image

from bot.dev_homeserver import LocalSynapse
from bot.scheduler import SitrepScheduler
from storage.codec import from_db_time
from tests.clock import FixedClock
from tests.integration.matrix_helpers import (
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration


async def fetch(client: TestClient, file: dict[str, Any]) -> bytes:
    resp = await client.nio.download(mxc=file["url"])
    assert not resp.body.startswith(b"\x89PNG"), "the media repository must hold ciphertext"
    return decrypt_attachment(resp.body, file["key"]["k"], file["hashes"]["sha256"],
                              file["iv"])


async def test_the_board_arrives_as_an_encrypted_image_an_officer_can_decrypt(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    officer = await make_client(synapse, f"officer-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id, officer.user_id])
        await officer.nio.join(room)
        await officer.sync()
        await lead.wait_joined(room, config.matrix.user_id)
        for line in ['!op init "Operation Picture" code=PICTURE',
                     "!agency add NL-POL country=NL tz=Europe/Amsterdam",
                     f"!member {officer.user_id} agency=NL-POL",
                     "!hhour in 2h",
                     "!takedown add forum.example agency=NL-POL at=H",
                     "!takedown add shop.example agency=NL-POL at=H+30m"]:
            reply, _ = await lead.command(room, line)
            assert "⚠️" not in reply.body, reply.body
        await officer.command(room, "!takedown done K-1")
        event_id = await officer.send_text(room, "!board")

        def image_reply(r: str, e: object) -> bool:
            content = getattr(e, "source", {}).get("content", {})
            return content.get("msgtype") == "m.image" and is_reply_to(e, event_id)

        event = await officer.wait_for(image_reply, timeout=60)
        text = await officer.wait_for(lambda r, e: is_reply_to(e, event_id) and
                                      "Action-day board" in getattr(e, "body", ""))
    assert "2 takedowns: 1 planned · 1 done" in text.body
    assert event.decrypted, "the image event itself must be end-to-end encrypted"
    content = event.source["content"]
    info = content["info"]
    assert "url" not in content and "thumbnail_url" not in info, "no plain upload"
    assert content["body"].startswith("PICTURE-board-") and content["body"].endswith(".png")
    assert info["mimetype"] == "image/png"
    picture = await fetch(officer, content["file"])
    assert len(picture) == info["size"]
    image = Image.open(io.BytesIO(picture))
    assert image.format == "PNG" and image.size == (info["w"], info["h"])
    thumb_info = info["thumbnail_info"]
    thumbnail = await fetch(officer, info["thumbnail_file"])
    assert len(thumbnail) == thumb_info["size"] and thumb_info["mimetype"] == "image/png"
    small = Image.open(io.BytesIO(thumbnail))
    assert small.format == "PNG" and small.size == (thumb_info["w"], thumb_info["h"])
    await lead.close()
    await officer.close()


async def test_the_board_posts_itself_at_h_minus_15m_as_an_encrypted_image(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    """Through the outbox and the runtime's sender, with a clock the test moves."""
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    clock = FixedClock(datetime.now(UTC))
    async with running_bot(config, services=[SitrepScheduler()], clock=clock) as bot:
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        for line in ['!op init "Operation Clock" code=CLOCK',
                     "!agency add FR-OFAC country=FR tz=Europe/Paris",
                     "!hhour in 2h", "!takedown add forum.example agency=FR-OFAC at=H"]:
            await lead.command(room, line)
        [op] = await bot.db.read(lambda tx: tx.all("SELECT hhour FROM operations"))
        clock.current = from_db_time(op["hhour"]) - timedelta(minutes=14)

        def posted_image(r: str, e: object) -> bool:
            content = getattr(e, "source", {}).get("content", {})
            return r == room and content.get("msgtype") == "m.image"

        event = await lead.wait_for(posted_image, timeout=60)
        for _ in range(3):
            await lead.sync()
        assert len(lead.seen(posted_image)) == 1, "posted once"
    info = event.source["content"]["info"]
    picture = Image.open(io.BytesIO(await fetch(lead, event.source["content"]["file"])))
    assert event.decrypted and picture.size == (info["w"], info["h"])
    assert event.source["content"]["body"].startswith("CLOCK-board-")
    await lead.close()
