"""One malformed event from any room member is refused by itself: it neither stops nio's
handling of the sync it came in nor raises in the runtime (issue 16, reproductions 2, 3)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig, Event, SyncResponse

from bot.client import GuardedClient
from bot.event_shape import problem
from bot.runtime import Bot

ROOM = "!op:localhost"
BAD_MEGOLM = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "", "ciphertext": "x",
              "session_id": "s", "device_id": "D"}


def raw(content: dict[str, Any], kind: str = "m.room.message", ts: int = 1_764_000_000_000,
        event_id: str = "$bad") -> dict[str, Any]:
    return {"type": kind, "event_id": event_id, "sender": "@mallory:localhost",
            "origin_server_ts": ts, "content": content}


def text(content_extra: dict[str, Any] | None = None, **kw: Any) -> Event:
    content = {"msgtype": "m.text", "body": "!task list", **(content_extra or {})}
    return Event.parse_event(raw(content, **kw))


def sync_with(*events: dict[str, Any]) -> SyncResponse:
    return SyncResponse.from_dict({
        "next_batch": "s2",
        "rooms": {"join": {ROOM: {"timeline": {"events": list(events), "limited": False},
                                  "state": {"events": []}}}}})


def client(cls: type[AsyncClient], tmp_path: Path) -> AsyncClient:
    store = tmp_path / cls.__name__
    store.mkdir()
    c = cls("http://127.0.0.1:1", "@bot:localhost", device_id="BOT", store_path=str(store),
            config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True))
    c.restore_login("@bot:localhost", "BOT", "token")
    return c


@pytest.mark.parametrize("bad", [BAD_MEGOLM, {**BAD_MEGOLM, "sender_key": "k",
                                                "session_id": ""}])
async def test_a_malformed_encrypted_event_leaves_the_rest_of_its_sync_handled(
        tmp_path: Path, bad: dict[str, Any]) -> None:
    good = raw({"msgtype": "m.text", "body": "!task list"}, event_id="$good")
    plain = client(AsyncClient, tmp_path)
    with pytest.raises(AssertionError):  # what nio alone does: the whole sync fails
        await plain.receive_response(sync_with(raw(bad, "m.room.encrypted"), good))
    guarded = client(GuardedClient, tmp_path)
    resp = sync_with(raw(bad, "m.room.encrypted"), good)
    await guarded.receive_response(resp)
    assert guarded.next_batch == "s2", "the sync was taken in, so the token advances"
    [encrypted, command] = resp.rooms.join[ROOM].timeline.events
    assert problem(encrypted) == "encrypted event without " + (
        "sender_key" if bad["sender_key"] == "" else "session_id")
    assert problem(command) is None
    await plain.close()
    await guarded.close()


@pytest.mark.parametrize(("extra", "reason"), [
    ({"m.relates_to": "x"}, "m.relates_to is not an object"),
    ({"m.relates_to": [1]}, "m.relates_to is not an object"),
    ({"m.relates_to": {"rel_type": "m.replace", "event_id": {"a": 1}}},
     "m.relates_to.event_id is not a string"),
    ({"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}, "m.new_content": "x"},
     "m.new_content is not an object"),
    ({"m.relates_to": {"m.in_reply_to": "x"}}, "m.relates_to.m.in_reply_to has no event id"),
])
async def test_a_badly_typed_relation_is_refused_by_itself_not_raised(
        extra: dict[str, Any], reason: str) -> None:
    event = text(extra)
    assert problem(event) == reason
    bot = Bot.__new__(Bot)  # only the shape check runs: nothing else of the bot is needed
    bot.client = SimpleNamespace(user_id="@bot:localhost")  # type: ignore[assignment]
    assert await bot._on_event(ROOM, event) is None


def test_an_absurd_origin_server_ts_is_refused() -> None:
    assert problem(text(ts=10**17)) == "origin_server_ts out of range"
    assert problem(text()) is None
