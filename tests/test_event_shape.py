"""One malformed event from any room member is refused by itself: it neither stops nio's
handling of the sync it came in nor raises in the runtime (issue 16, reproductions 2, 3)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nio import (
    AsyncClient,
    AsyncClientConfig,
    Event,
    RoomMessagesResponse,
    RoomMessageText,
    SyncResponse,
)

from bot.client import GuardedClient
from bot.event_shape import problem
from bot.message_text import command_text, shown
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
    store.mkdir(parents=True)
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


async def test_a_history_page_with_a_malformed_encrypted_event_is_taken_in(
        tmp_path: Path) -> None:
    """The bot fetches what a limited sync left out as history pages (bot.backfill); nio
    decrypts those on another path than the sync's, which asserted the same way."""
    def page() -> RoomMessagesResponse:
        events = [raw(BAD_MEGOLM, "m.room.encrypted"),
                  raw({"msgtype": "m.text", "body": "!task list"}, event_id="$good")]
        return RoomMessagesResponse.from_dict({  # /messages names each event's room
            "chunk": [{**e, "room_id": ROOM} for e in events], "start": "a", "end": "b"},
            ROOM)

    plain = client(AsyncClient, tmp_path)
    with pytest.raises(AssertionError):  # what nio alone does: the whole page fails
        plain._handle_messages_response(page())
    guarded = client(GuardedClient, tmp_path)
    taken = page()
    guarded._handle_messages_response(taken)
    assert [type(e).__name__ for e in taken.chunk] == ["MegolmEvent", "RoomMessageText"]
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
    bot = Bot.__new__(Bot)  # only the shape check and its answer run: nothing else is needed
    bot.client = SimpleNamespace(user_id="@bot:localhost")  # type: ignore[assignment]
    bot._told_malformed = set()
    answered: list[tuple[str, str, str | None]] = []

    async def first_answer(*_: Any) -> bool:
        return True

    async def answer(room_id: str, sender: str, say: Callable[[], str], reply_to: str | None
                     ) -> None:  # the text is made where the sender's language is in force
        answered.append((sender, say(), reply_to))

    bot.trust = SimpleNamespace(first_answer=first_answer)  # type: ignore[assignment]
    bot._answer_event = answer  # type: ignore[method-assign]
    assert await bot._on_event(ROOM, event) is None
    assert await bot._on_event(ROOM, text(extra, event_id="$bad2")) is None
    assert len(answered) == 1, "once per sender and room"
    sender, notice, reply_to = answered[0]
    assert sender == "@mallory:localhost" and reply_to == "$bad" and reason in notice


def test_an_absurd_origin_server_ts_is_refused() -> None:
    assert problem(text(ts=10**17)) == "origin_server_ts out of range"
    assert problem(text()) is None


# -- fuzz: what passes the shape check is safe for everything the runtime reads --------

class Body:
    """What nio reads a response's body from."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    async def json(self, **_: Any) -> dict[str, Any]:
        return self.body


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63),
                      st.text(max_size=20), st.sampled_from(["$x", "@a:b", "m.replace", ""]))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["body", "msgtype", "format", "formatted_body",
                                     "m.relates_to", "m.new_content", "rel_type",
                                     "event_id", "m.in_reply_to", "key", "x"]),
                    inner, max_size=4)), max_leaves=12)
TEXT_CONTENT = st.fixed_dictionaries({"msgtype": st.just("m.text"),
                                      "body": st.one_of(st.just("!task list"), JSON)},
                                     optional={"m.relates_to": JSON, "m.new_content": JSON,
                                               "format": JSON, "formatted_body": JSON})
MEGOLM_CONTENT = st.fixed_dictionaries(
    {"algorithm": st.just("m.megolm.v1.aes-sha2")},
    optional={k: st.one_of(st.text(max_size=8), JSON)
              for k in ("sender_key", "ciphertext", "session_id", "device_id")})
EVENT = st.one_of(
    st.tuples(st.just("m.room.message"), TEXT_CONTENT),
    st.tuples(st.just("m.room.encrypted"), MEGOLM_CONTENT),
    st.tuples(st.just("m.room.redaction"), st.dictionaries(st.just("redacts"), JSON)),
)
ENVELOPE = st.fixed_dictionaries({
    "event_id": st.one_of(st.just("$ok"), JSON), "sender": st.one_of(st.just("@m:x"), JSON),
    "origin_server_ts": st.one_of(st.integers(0, 10**17), JSON)})


@given(st.lists(st.tuples(EVENT, ENVELOPE), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_events_in_a_sync_are_taken_in_and_what_passes_the_check_reads_safely(
        tmp_path: Path, events: list[Any]) -> None:
    """nio's parsing with the bot's client, then the shape check, then every read the
    runtime makes of an event that passed: none of them raises, for any JSON (the
    integration fuzz, tests/integration/test_hostile_events.py, runs the same through a
    real homeserver and the whole bot)."""
    raws = [{"type": kind, "content": content, **envelope}
            for (kind, content), envelope in events]
    guarded = client(GuardedClient, tmp_path / str(uuid.uuid4()))
    body = asyncio.run(guarded.parse_body(Body({  # type: ignore[arg-type]
        "next_batch": "s2",
        "rooms": {"join": {ROOM: {"timeline": {"events": raws, "limited": False},
                                  "state": {"events": []}}}}})))
    resp = SyncResponse.from_dict(body)
    assert isinstance(resp, SyncResponse), resp
    asyncio.run(guarded.receive_response(resp))
    assert guarded.next_batch == "s2"
    for event in resp.rooms.join[ROOM].timeline.events:
        if problem(event) is not None:
            continue
        datetime.fromtimestamp(event.server_timestamp / 1000, UTC)
        if isinstance(event, RoomMessageText):
            content = event.source["content"]
            relation = content.get("m.relates_to") or {}
            relation.get("rel_type"), relation.get("event_id")
            command_text(content.get("m.new_content") or {})
            shown(content)
    asyncio.run(guarded.close())
