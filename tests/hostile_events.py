"""Malformed and meaningless Matrix events as a hostile room member sends them (plain
client-API PUTs), for the hostile-event integration test and the intake benchmark."""

from __future__ import annotations

import copy
import random
from typing import Any

import aiohttp

JUNK: list[Any] = ["", "x", 0, -1, 2**31, True, None, [], [1, "a"], {}, {"a": {"b": []}},
                   "$", "@", "!", "$not:an id", "\u202e!undo", "a" * 300]


def mutated(rng: random.Random, event: dict[str, Any]) -> dict[str, Any]:
    """`event` with one to three of its fields, at any depth, replaced by junk or dropped,
    or junk keys added: the shapes nio's schemas let through and those they do not."""
    event = copy.deepcopy(event)
    for _ in range(rng.randint(1, 3)):
        target = event
        while isinstance(target, dict) and target and rng.random() < 0.6:
            key = rng.choice(sorted(target))
            if not isinstance(target[key], dict):
                break
            target = target[key]
        if not isinstance(target, dict):
            continue
        roll = rng.random()
        keys = sorted(target)
        if keys and roll < 0.6:
            target[rng.choice(keys)] = copy.deepcopy(rng.choice(JUNK))
        elif keys and roll < 0.8:
            del target[rng.choice(keys)]
        else:
            target[rng.choice(["m.relates_to", "m.new_content", "body", "format",
                               "formatted_body", "session_id", "sender_key", "x"])] = \
                copy.deepcopy(rng.choice(JUNK))
    return event


def templates(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Well-formed events of every kind the bot reads, as the starting point of mutation
    (after nio's schemas: m.room.message, m.room.encrypted, m.reaction, redactions)."""
    session = "".join(rng.choice("ABCDEFGHIJKLMNOP") for _ in range(43))
    return [
        ("m.room.message", {"msgtype": "m.text", "body": "!task list"}),
        ("m.room.message", {"msgtype": "m.text", "body": "!task list",
                            "format": "org.matrix.custom.html",
                            "formatted_body": "<p>!task list</p>"}),
        ("m.room.message", {"msgtype": "m.text", "body": "* !task list",
                            "m.new_content": {"msgtype": "m.text", "body": "!task list"},
                            "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}),
        ("m.room.message", {"msgtype": "m.text", "body": "> quoted\n\n!task list",
                            "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}),
        ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": session,
                              "ciphertext": "AwgAEnA" + session, "session_id": session,
                              "device_id": "DEVICE"}),
        ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x",
                                         "key": "✅"}}),
    ]


async def put(http: aiohttp.ClientSession, base: str, room: str, kind: str, txn: str,
               content: dict[str, Any]) -> str | None:
    async with http.put(f"{base}/_matrix/client/v3/rooms/{room}/send/{kind}/{txn}",
                        json=content) as resp:
        body = await resp.json()
        return body.get("event_id") if resp.status == 200 else None
