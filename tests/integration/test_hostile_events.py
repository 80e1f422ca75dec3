"""Hostile events from a room member's account, sent with plain client-API PUTs as any
member can: malformed ones must not stop intake, and floods of what is not a command
(edits, garbage ciphertext) must not make the bot post a notice each (issue 16)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiohttp
import pytest

from bot.client import GuardedClient
from bot.dev_homeserver import LocalSynapse
from bot.undecryptable import HELD_PER_SENDER
from tests.hostile_events import mutated, put, templates
from tests.integration.matrix_helpers import (
    NO_RATE_LIMIT,
    TestClient,
    is_reply_to,
    make_client,
    register_bot,
    running_bot,
)

pytestmark = pytest.mark.integration

FUZZ_EVENTS = 300
GOOD_EVERY = 10  # one well-formed command among each ten events

async def _operation(lead: TestClient, bot_id: str, code: str) -> str:
    room = await lead.create_room(invite=[bot_id])
    await lead.wait_joined(room, bot_id)
    await lead.command(room, f'!op init "Operation {code}" code={code}')
    return room


async def test_random_malformed_events_neither_stop_intake_nor_cost_a_command_its_answer(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    """Hundreds of mutated events, nine in ten malformed or meaningless, with well-formed
    commands among them: every command is answered once, the bot keeps running and its
    sync token keeps moving."""
    config = await register_bot(synapse, unique, tmp_path / "bot", sections=NO_RATE_LIMIT)
    # The lead's own client reads the malformed events back, so it must survive them too.
    lead = await make_client(synapse, f"lead-{unique}", tmp_path, client_class=GuardedClient)
    rng = random.Random(16)
    async with running_bot(config) as bot:
        room = await _operation(lead, config.matrix.user_id, "FUZZ")
        token_before = bot.state["next_batch"]
        good: list[str] = []
        sent_bad = 0
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {lead.nio.access_token}"}) as http:
            for n in range(FUZZ_EVENTS):
                if n % GOOD_EVERY == GOOD_EVERY - 1:
                    good.append(await lead.send_text(room, f'!task add "good {n}"'))
                    continue
                kind, content = rng.choice(templates(rng))
                if await put(http, synapse.base_url, room, kind, f"fuzz-{unique}-{n}",
                              mutated(rng, content)):
                    sent_bad += 1
        await lead.wait_for(lambda r, e: is_reply_to(e, good[-1]), 60)
        await asyncio.sleep(2)  # a second answer would have come by now
        # The whole timeline: a sync shows only the newest events of a busy room.
        history = await lead.history(room)
        tasks = await bot.db.read(lambda tx: tx.all("SELECT text FROM tasks ORDER BY seq"))
        running = not bot._stop.is_set()
        token_after = bot.state["next_batch"]
    # Synapse refuses some shapes itself (about 40%); the rest reach the bot.
    assert sent_bad > (FUZZ_EVENTS - len(good)) / 2, sent_bad
    replies = [sum(1 for e in history if is_reply_to(e, command)) for command in good]
    assert replies == [1] * len(good)
    assert [t["text"] for t in tasks] == [f"good {n}" for n in range(FUZZ_EVENTS)
                                          if n % GOOD_EVERY == GOOD_EVERY - 1]
    assert running
    assert token_after is not None and token_after != token_before


async def test_a_flood_of_edits_gets_one_summary_not_a_notice_each(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot",
                                sections={"limits": {"commands_per_minute": 1, "burst": 5}})
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    async with running_bot(config):
        room = await _operation(lead, config.matrix.user_id, "EDITS")
        _, command = await lead.command(room, '!task add "typo"')
        for n in range(30):
            await lead.nio.room_send(room, "m.room.message", {
                "msgtype": "m.text", "body": f'* !task add "fixed {n}"',
                "m.new_content": {"msgtype": "m.text", "body": f'!task add "fixed {n}"'},
                "m.relates_to": {"rel_type": "m.replace", "event_id": command}},
                ignore_unverified_devices=True)
        last, _ = await lead.command(room, "!task list")
        await asyncio.sleep(2)
        history = await lead.history(room)
    since = [e.event_id for e in history].index(command)
    notices = [e.source["content"]["body"] for e in history[since:]
               if e.sender == config.matrix.user_id and "body" in e.source["content"]]
    edits = [b for b in notices if b.startswith("Editing or deleting a command")]
    summaries = [b for b in notices if "answers no more of them" in b]
    # The burst's tokens, less the two commands', answer edits; then one summary, no more.
    assert len(edits) == 3, notices
    assert len(summaries) == 1, notices
    assert "too many commands" in last.source["content"]["body"], "the same bucket"


async def test_garbage_ciphertext_is_kept_only_up_to_a_bound_and_answered_once_in_bulk(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(
        synapse, unique, tmp_path / "bot",
        sections={"limits": {"commands_per_minute": 1, "burst": 5},
                  "runtime": {"undecryptable_timeout": 6}})
    lead = await make_client(synapse, f"lead-{unique}", tmp_path)
    mallory = await make_client(synapse, f"mallory-{unique}", tmp_path)
    rng = random.Random(8)
    async with running_bot(config) as bot:
        room = await _operation(lead, config.matrix.user_id, "GARBAGE")
        await lead.nio.room_invite(room, mallory.user_id)
        await mallory.nio.join(room)
        await lead.wait_joined(room, mallory.user_id)
        most_held = 0
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {mallory.nio.access_token}"}) as http:
            for n in range(60):
                session = "".join(rng.choice("ABCDEFGHIJKLMNOP") for _ in range(43))
                await put(http, synapse.base_url, room, "m.room.encrypted",
                           f"garbage-{unique}-{n}", {
                               "algorithm": "m.megolm.v1.aes-sha2", "sender_key": session,
                               "ciphertext": "AwgAEnA" + "x" * 2000, "session_id": session,
                               "device_id": "MALLORY"})
                most_held = max(most_held, await bot.db.read(lambda tx: tx.scalar(
                    "SELECT COUNT(*) FROM undecryptable_events")))
        await asyncio.sleep(1)
        most_held = max(most_held, await bot.db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM undecryptable_events")))
        await asyncio.sleep(12)  # past the timeout: every held one is given up
        answer, _ = await lead.command(room, "!task list")
        history = await lead.history(room)
        held_after = await bot.db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM undecryptable_events"))
    notices = [e.source["content"]["body"] for e in history
               if e.sender == config.matrix.user_id and "body" in e.source["content"]]
    unreadable = [b for b in notices if b.startswith("⚠️ I could not decrypt")]
    summaries = [b for b in notices if mallory.user_id in b and "answers no more" in b]
    assert most_held <= HELD_PER_SENDER
    assert held_after == 0
    # Mallory's burst answers five; the rest, and the twenty given up later, one summary.
    assert len(unreadable) == 5, notices
    assert len(summaries) == 1, notices
    assert "too many" not in answer.source["content"]["body"], "the lead is not limited"


# The reproductions 2 and 3, as sent: any member, a plain client-API PUT.
POISON = [
    ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "",
                          "ciphertext": "x", "session_id": "s", "device_id": "D"}),
    ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "k",
                          "ciphertext": "x", "session_id": "", "device_id": "D"}),
    *(("m.room.message", {"msgtype": "m.text", "body": '!task add "poison"', **extra})
      for extra in ({"m.relates_to": "x"}, {"m.relates_to": [1]},
                    {"m.relates_to": {"rel_type": "m.replace", "event_id": {"a": 1}}},
                    {"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"},
                     "m.new_content": "x"})),
]


async def test_the_poison_events_of_the_report_hold_up_nothing_now_or_after_a_restart(
        synapse: LocalSynapse, unique: str, tmp_path: Path) -> None:
    config = await register_bot(synapse, unique, tmp_path / "bot")
    lead = await make_client(synapse, f"lead-{unique}", tmp_path, client_class=GuardedClient)
    async with running_bot(config) as bot:
        room = await _operation(lead, config.matrix.user_id, "POISON")
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {lead.nio.access_token}"}) as http:
            taken = [await put(http, synapse.base_url, room, kind, f"p-{unique}-{n}",
                               content) is not None for n, (kind, content) in enumerate(POISON)]
        first, _ = await lead.command(room, '!task add "after the poison"')
        held = await bot.db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM undecryptable_events"))
    async with running_bot(config):
        second, _ = await lead.command(room, '!task add "after a restart"')
        history = await lead.history(room)
    assert taken == [True] * 5 + [False], "Synapse itself refuses an m.new_content string"
    assert "T-1" in first.source["content"]["body"]
    assert "T-2" in second.source["content"]["body"]
    assert held == 0, "nothing malformed is kept to be tried again at the next start"
    told = [e for e in history if e.sender == config.matrix.user_id
            and "cannot read" in e.source["content"].get("body", "")]
    assert len(told) == 1, "answered once per sender and room"
