"""Languages in real encrypted rooms: who reads what, and Arabic as Element shows it.

A French officer and a Spanish officer in an Arabic room each read their own replies in
their language, while the sitrep posted to the whole room is Arabic. And an Arabic sitrep
received by the strict matrix-js-sdk client, its HTML put through Element's sanitiser
settings, still reads right to left with its identifiers left to right, though Element
keeps no `dir` attribute.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dev_homeserver import LocalSynapse
from bot.scheduler import SitrepScheduler
from commands.core.direction import LRI, PDI, RLM
from tests.clock import FixedClock
from tests.integration.matrix_helpers import make_client, register_bot, running_bot
from tests.integration.strict_client import run_strict_client
from tests.languages import english_left, languages_seen

pytestmark = pytest.mark.integration


async def test_each_officer_reads_their_language_and_the_room_reads_arabic(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    french = await make_client(synapse, f"fr-{unique}", tmp_path)
    spanish = await make_client(synapse, f"es-{unique}", tmp_path)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = FixedClock(now + timedelta(minutes=1, seconds=10))
    async with running_bot(config, services=[SitrepScheduler()], clock=clock):
        room = await lead.create_room(
            invite=[config.matrix.user_id, french.user_id, spanish.user_id])
        for officer in (french, spanish):
            await officer.nio.join(room)
            await officer.sync()
        for user in (config.matrix.user_id, french.user_id, spanish.user_id):
            await lead.wait_joined(room, user)
        await lead.command(room, '!op init "Operation Qamar" code=QAMAR lang=ar')
        await lead.command(room, "!agency add CO-DIJIN country=CO tz=America/Bogota lang=es")
        await lead.command(room, f"!member {spanish.user_id} agency=CO-DIJIN")

        mine, _ = await french.command(room, "!lang fr")
        assert languages_seen(mine.body) == {"fr"}, mine.body
        replies = {
            "fr": (await french.command(room, '!task add "Saisir le serveur fra-2"'))[0],
            "es": (await spanish.command(room, '!task add "Incautar el monedero"'))[0],
            "ar": (await lead.command(room, "!task list"))[0],
        }
        for lang, reply in replies.items():
            assert languages_seen(reply.body) == {lang}, (lang, english_left(reply.body),
                                                          reply.body)
        mistake, _ = await spanish.command(room, "!task add")
        assert languages_seen(mistake.body) == {"es"}, mistake.body

        await lead.command(room, '!sitrep cron "* * * * *"')
        clock.advance(seconds=65)
        sitrep = await french.wait_for(
            lambda r, e: r == room and e.sender == config.matrix.user_id
            and "QAMAR" in getattr(e, "body", "") and not _is_reply(e))
        assert languages_seen(sitrep.body) == {"ar"}, sitrep.body
        assert sitrep.body.startswith(RLM)
    for client in (lead, french, spanish):
        await client.close()


def _is_reply(event: object) -> bool:
    content = getattr(event, "source", {}).get("content", {})
    return "m.in_reply_to" in content.get("m.relates_to", {})


def first_strong(text: str) -> str:
    """The direction `dir="auto"` gives an element (HTML's rule: its first character of
    bidi class L, R or AL, skipping what is inside isolates): "rtl" or "ltr"."""
    depth = 0
    for ch in text:
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif depth == 0 and unicodedata.bidirectional(ch) in ("R", "AL"):
            return "rtl"
        elif depth == 0 and unicodedata.bidirectional(ch) == "L":
            return "ltr"
    return "ltr"


async def test_the_arabic_sitrep_keeps_its_direction_in_elements_html(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    await synapse.register_user(f"element-{unique}", "pw-element")
    async with running_bot(config):
        result = await run_strict_client(
            synapse.base_url, f"element-{unique}", "pw-element", config.matrix.user_id,
            '!op init "Operation Qamar" code=QAMAR lang=ar', expect="QAMAR",
            then="!sitrep", then_expect="QAMAR")
    assert result.ok, (result.data, result.stderr)
    shown = result.data["shown"]
    assert "dir=" not in shown  # Element keeps no dir attribute: the marks must do it
    text = html.unescape(re.sub(r"<[^>]+>", "\n", shown))
    assert first_strong(text) == "rtl", text[:200]
    assert languages_seen(text) == {"ar"}, text
    # Identifiers read left to right inside the Arabic text: each one is isolated.
    for identifier in ("QAMAR", "TLP:AMBER"):
        assert f"{LRI}" in text and identifier in text
        at = text.index(identifier)
        assert text.rfind(LRI, 0, at) > text.rfind(PDI, 0, at), (identifier, text)
