"""/export in an encrypted room arrives as an encrypted file the client can open."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
import stix2
from nio.crypto import decrypt_attachment

from bot.dev_homeserver import LocalSynapse
from tests.integration.matrix_helpers import is_reply_to, make_client, register_bot, running_bot

pytestmark = pytest.mark.integration


def file_reply_to(event_id: str) -> Callable[[str, object], bool]:
    """The bot's m.file answering the command `event_id`."""

    def matches(room: str, event: object) -> bool:
        content = getattr(event, "source", {}).get("content", {})
        return content.get("msgtype") == "m.file" and is_reply_to(event, event_id)

    return matches


async def test_stix_export_is_an_encrypted_file_that_decrypts_and_parses(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Files" code=FILES tlp=GREEN')
        await lead.command(room, "!seize domain evil[.]example")
        event_id = await lead.send_text(room, "!export stix")
        event = await lead.wait_for(file_reply_to(event_id))
        await lead.wait_for(lambda r, e: is_reply_to(e, event_id) and
                            "1 record at or below TLP:GREEN" in getattr(e, "body", ""))
        # Sent files do not pile up on the server's disk.
        exports = config.data_dir / "exports"
        for _ in range(50):
            if not any(exports.iterdir()):
                break
            await asyncio.sleep(0.1)
        assert list(exports.iterdir()) == []
    content = event.source["content"]
    assert event.decrypted, "the file event itself must be end-to-end encrypted"
    assert "url" not in content, "no plain upload in an encrypted room"
    info = content["file"]
    assert content["body"].startswith("FILES-") and content["body"].endswith("-GREEN.stix.json")
    resp = await lead.nio.download(mxc=info["url"])
    assert b"evil.example" not in resp.body, "the media repository must hold only ciphertext"
    plain = decrypt_attachment(resp.body, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    bundle = stix2.parse(plain, allow_custom=True)
    values = [o.get("value") for o in json.loads(plain)["objects"]]
    assert "evil.example" in values and bundle.type == "bundle"
    await lead.close()


async def test_a_request_form_arrives_as_an_encrypted_docx_holding_the_rooms_values(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await lead.create_room(invite=[config.matrix.user_id])
        await lead.wait_joined(room, config.matrix.user_id)
        await lead.command(room, '!op init "Operation Forms" code=FORMS tlp=AMBER')
        await lead.command(room, "!seize ip 203.0.113.5 country=NL")
        await lead.command(room, "!preserve add ExampleHost country=NL ref=2026-PR-17 items=S-1")
        await lead.command(room, "!preserve draft P-1 form=art29")
        await lead.command(room, '!form F-1 set offence="Ransomware extortion"')
        event_id = await lead.send_text(room, "!form F-1 export docx")
        event = await lead.wait_for(file_reply_to(event_id))
    content = event.source["content"]
    assert event.decrypted and "url" not in content
    assert content["body"].endswith(".docx") and "DRAFT" in content["body"]
    info = content["file"]
    resp = await lead.nio.download(mxc=info["url"])
    assert b"ExampleHost" not in resp.body, "the media repository must hold only ciphertext"
    plain = decrypt_attachment(resp.body, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    document = docx.Document(io.BytesIO(plain))
    text = "\n".join([p.text for p in document.paragraphs] +
                     [c.text for t in document.tables for row in t.rows for c in row.cells])
    for value in ("ExampleHost", "203.0.113.5", "2026-PR-17", "Ransomware extortion"):
        assert value in text
    await lead.close()
