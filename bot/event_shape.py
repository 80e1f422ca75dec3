"""The shape an event must have before the runtime reads anything of it.

nio checks an event's outline against its schemas, not the parts the bot reads: a text
message whose `m.relates_to` is a string, an edit whose `m.new_content` is not an object,
an encrypted event with an empty session id, or an `origin_server_ts` past the year 9999
all parse, and then raise deep in the runtime, where they stalled the room's lane and
dropped the commands behind them. Checked here first, such an event is one bad event:
refused by itself, named in the log, and the batch goes on.

Pure: plain values in, a reason out, so the rules are unit-tested without a homeserver.
A reason reads as English (the log's language) and is told to the sender in theirs
(`Reason.said`); the names of the event's fields stay as the Matrix specification spells
them in every language.
"""

from __future__ import annotations

from typing import Any

from nio import MegolmEvent, RedactionEvent, RoomMessageText

from commands import N_, tr


class Reason(str):
    """Why an event is malformed: the English text (equal to a plain string, as logged),
    which remembers its template to be said again in the language in force."""

    template: str
    field: str

    def __new__(cls, template: str, field: str = "") -> Reason:
        made = super().__new__(cls, template.format(field=field))
        made.template = template
        made.field = field
        return made

    def said(self) -> str:
        """The reason in the language in force."""
        return tr(self.template).format(field=self.field)


NOT_OBJECT = N_("{field} is not an object")
NOT_STRING = N_("{field} is not a string")

NO_EVENT_ID = "no valid event id"
NO_SENDER = "no valid sender"
# The largest origin_server_ts a datetime can show (9999-12-31T23:59:59.999Z).
MAX_TS = 253_402_300_799_999


def _id(value: Any, sigil: str) -> bool:
    return isinstance(value, str) and len(value) > 1 and value.startswith(sigil) \
        and len(value) <= 255


def _relation_problem(content: dict[str, Any]) -> str | None:
    # m.new_content first: read wherever an edit is looked at, with or without a relation.
    new = content.get("m.new_content")
    if new is not None and not isinstance(new, dict):
        return Reason(NOT_OBJECT, "m.new_content")
    if isinstance(new, dict):
        for key in ("body", "format", "formatted_body"):
            if key in new and not isinstance(new[key], str):
                return Reason(NOT_STRING, f"m.new_content.{key}")
    relation = content.get("m.relates_to")
    if relation is None:
        return None
    if not isinstance(relation, dict):
        return Reason(NOT_OBJECT, "m.relates_to")
    for key in ("rel_type", "event_id", "key"):
        if key in relation and not isinstance(relation[key], str):
            return Reason(NOT_STRING, f"m.relates_to.{key}")
    reply = relation.get("m.in_reply_to")
    if reply is not None and not (isinstance(reply, dict)
                                  and isinstance(reply.get("event_id"), str)):
        return Reason(N_("{field} has no event id"), "m.relates_to.m.in_reply_to")
    return None


def problem(event: Any) -> str | None:
    """Why the runtime must not read `event`, or None when its shape is sound."""
    if not _id(getattr(event, "event_id", None), "$"):
        return NO_EVENT_ID
    sender = getattr(event, "sender", None)
    if not (isinstance(sender, str) and _id(sender, "@") and ":" in sender):
        return NO_SENDER
    ts = getattr(event, "server_timestamp", None)
    if not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts <= MAX_TS:
        return Reason(N_("{field} out of range"), "origin_server_ts")
    if isinstance(event, MegolmEvent):
        for name in ("sender_key", "session_id", "ciphertext"):
            value = getattr(event, name, None)
            if not isinstance(value, str) or not value:
                return Reason(N_("encrypted event without {field}"), name)
    elif isinstance(event, RoomMessageText):
        content = event.source.get("content")
        if not isinstance(content, dict):
            return Reason(NOT_OBJECT, "content")
        for key in ("body", "format", "formatted_body"):
            if key in content and not isinstance(content[key], str):
                return Reason(NOT_STRING, key)
        return _relation_problem(content)
    elif isinstance(event, RedactionEvent):
        if event.redacts is not None and not isinstance(event.redacts, str):
            return Reason(N_("{field} is not an event id"), "redacts")
    return None
