"""What flows between the Matrix runtime and the command handlers.

The bot builds an `Incoming` from a decrypted event and gets a `Reply` back; handlers get
a `Context` holding the open transaction. Nothing here knows about nio, so handlers can be
tested without a homeserver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from commands.visible import visible, visible_html
from storage.codec import to_db_time
from storage.tx import Actor, Row, Tx

if TYPE_CHECKING:
    from commands.spec import Command
    from commands.witness import WitnessSource
    from storage.database import Database
    from storage.outbox import Post


@dataclass(frozen=True)
class Incoming:
    room_id: str
    sender: str
    event_id: str
    body: str
    timestamp: datetime
    power_level: int
    encrypted: bool = True


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply. Exports can be large, so it stays on disk (0600, in the
    data dir) and is streamed to the homeserver; whoever sends it discards it after."""

    filename: str
    mimetype: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def read(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Reply:
    ok: bool
    text: str
    html: str
    attachment: Attachment | None = None
    # True when this event was handled before and its reply already delivered: don't resend.
    duplicate: bool = False
    # Slow work (exports) run by the dispatcher after the command's transaction committed,
    # so it never holds up other commands; it returns the final reply.
    after_commit: Callable[[], Awaitable[Reply]] | None = None
    # Stored with the reply: how to make `after_commit` again if the reply has to be sent
    # after a restart (the file of an export is not stored, it is built anew).
    redo: dict[str, str] | None = None
    # Users whose pinned identity the command changed (/trust): the runtime judges their
    # devices again at once, so keys and obedience follow the lead's decision.
    trust_changed: tuple[str, ...] = ()
    # Keys the runtime adds to the event's content beside body and HTML: machine-readable
    # facts for clients, such as the audit chain head a sitrep witnesses (commands.witness).
    extra_content: dict[str, Any] | None = None
    # Posts to other rooms (a deconfliction notice to another operation), written to the
    # outbox in the command's transaction: the runtime sends them now, the outbox after a
    # restart, so none is lost.
    posts: tuple[Post, ...] = ()

    def __post_init__(self) -> None:
        # Whoever builds a reply, it never shows a bidi control or an invisible character.
        self.text = visible(self.text)
        self.html = visible_html(self.html)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "text": self.text, "html": self.html}
        if self.redo:
            data["redo"] = self.redo
        if self.extra_content:
            data["extra_content"] = self.extra_content
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(ok=bool(data["ok"]), text=data["text"], html=data["html"],
                   redo=data.get("redo"), extra_content=data.get("extra_content"))


@dataclass(frozen=True)
class Settings:
    lead_level: int = 50
    default_timezone: str = "UTC"
    default_tlp: str = "AMBER"
    require_encryption: bool = True
    require_cross_signed: bool = True
    deconfliction: bool = False  # hit/no-hit across the operations this bot serves


class Clock:
    """Wall clock; tests inject a subclass that they move by hand."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that only moves when told to, for tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)


class CommandError(Exception):
    """A user mistake: the reply states the message and the command's usage."""

    def __init__(self, message: str, *, show_usage: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.show_usage = show_usage
        self.usage: str | None = None  # filled in by the dispatcher from the declaration


@dataclass
class Context:
    msg: Incoming
    settings: Settings
    tx: Tx
    command: Command
    op: Row | None
    agency: Row | None  # the sender's agency in this operation, if mapped
    zone: ZoneInfo
    now: datetime  # the command's own time (origin_server_ts), so late processing stamps truly
    clock: Clock
    db: Database | None = None
    # The room's joined members, as the runtime knows them (commands never see nio).
    room_members: Callable[[], Collection[str]] = tuple
    # The heads the bot posted in this room's history (bot/witness.py); None without a room.
    witness: WitnessSource | None = None
    # What this command needed a lead for; kept with its changes so that /undo of them
    # needs a lead too, even when the command's declaration does not say so (/hhour TIME,
    # a lead changing an officer's record).
    lead_powers: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.msg.sender

    @property
    def is_lead(self) -> bool:
        return self.msg.power_level >= self.settings.lead_level

    @property
    def stamp(self) -> str:
        return to_db_time(self.now)

    @property
    def actor(self) -> Actor:
        assert self.tx.actor is not None
        return self.tx.actor

    def require_op(self) -> Row:
        if self.op is None:
            raise CommandError(
                "this room is not bound to an operation yet: a lead runs "
                '/op init "Operation NAME" code=CODE',
                show_usage=False,
            )
        return self.op

    def require_lead(self, what: str, *, note: str = "") -> None:
        if not self.lead_override(what):
            raise CommandError(
                f"only a lead (power level {self.settings.lead_level} or more) can {what}"
                + note,
                show_usage=False,
            )

    def lead_override(self, what: str) -> bool:
        """Whether the sender is a lead, who may `what`; remembered when they are."""
        if self.is_lead:
            self.lead_powers.append(what)
        return self.is_lead

    def require_owner(self, record: Row, label: str, *, also: str | None = None) -> None:
        """Officers may change only their own records; `also` names another column that
        makes someone an owner (a task's assignee)."""
        if record.get("created_by") == self.sender:
            return
        if also and record.get(also) == self.sender:
            return
        if self.lead_override(f"change {label}, recorded by {record.get('created_by')}"):
            return
        raise CommandError(
            f"{label} was recorded by {record.get('created_by')}: "
            "only they or a lead can change it",
            show_usage=False,
        )
