"""The values that cross between the Matrix runtime, the command handlers and the exports.

Leaf module: it imports nothing of the project, so every package can depend on it without
an import cycle, and a reader sees the whole contract between the bot and its commands in
one place. Nothing here knows about nio, so handlers can be tested without a homeserver.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol


@dataclass(frozen=True)
class Incoming:
    room_id: str
    sender: str
    event_id: str
    body: str
    # origin_server_ts: set by the sender's homeserver, so only shown and kept beside the
    # bot's own clock, which is what every recorded time and the rate limit use.
    timestamp: datetime
    power_level: int
    encrypted: bool = True
    # The device that sent it, as the bot authenticated it from the Megolm session
    # (bot.crypto.device_trust); None where it could not be told (tests, the CLI).
    device_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply. Exports can be large, so they stay on disk (0600, in the
    data dir) and are streamed to the homeserver; a picture (the board) is small and is
    made in memory (`data`). Whoever sends it discards it after. With a `width` and a
    `height` it is an image: sent as m.image, with its `thumbnail`."""

    filename: str
    mimetype: str
    path: Path | None = None
    data: bytes | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: Attachment | None = None

    @property
    def is_image(self) -> bool:
        return self.width is not None and self.height is not None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def discard(self) -> None:
        if self.path is not None:
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
    # outbox in the command's transaction, by their outbox ids: the runtime sends them now,
    # the outbox after a restart, so none is lost.
    posts: tuple[int, ...] = ()
    # The language the reply was written in (commands.core.i18n): where it is sent, a
    # right-to-left one is marked so (commands.core.direction).
    lang: str = "en"
    # How many records the reply showed, where its text does not name them all (an
    # export's file): for the consultation log (commands.core.consulted). Not stored.
    shown: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "text": self.text, "html": self.html}
        if self.lang != "en":
            data["lang"] = self.lang
        if self.redo:
            data["redo"] = self.redo
        if self.extra_content:
            data["extra_content"] = self.extra_content
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(ok=bool(data["ok"]), text=data["text"], html=data["html"],
                   redo=data.get("redo"), extra_content=data.get("extra_content"),
                   lang=str(data.get("lang", "en")))


@dataclass(frozen=True)
class Settings:
    lead_level: int = 50
    default_timezone: str = "UTC"
    default_tlp: str = "AMBER"
    require_encryption: bool = True
    require_cross_signed: bool = True
    deconfliction: bool = True  # hit/no-hit across the operations this bot serves
    # How long a hit waits before the other operation is told: an /undo meanwhile withdraws it.
    deconfliction_grace: timedelta = timedelta(minutes=10)
    language: str = "en"  # what members read until they, their agency or the room choose
    # The provider directory (commands.forms.providers.Directory, read with
    # providers.of(settings)); typed `object` because the framework imports no handler
    # module. None: an empty directory.
    providers: object = None
    # Review period per data-subject category after an operation's closure ("3y"), from
    # `[personal_data]`; a category missing here has storage.retention's default.
    retention_periods: dict[str, str] = field(default_factory=dict)


class Clock:
    """Wall clock; tests inject a subclass that they move by hand."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class CommandError(Exception):
    """A user mistake: the reply states the message and the command's usage."""

    def __init__(self, message: str, *, show_usage: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.show_usage = show_usage
        self.usage: str | None = None  # filled in by the dispatcher from the declaration


@dataclass(frozen=True)
class WitnessedHead:
    """A head the bot posted: entry `n` had `hash` when event `event_id` was sent at `at`."""

    n: int
    hash: str
    event_id: str
    at: datetime


@dataclass
class RoomHeads:
    heads: list[WitnessedHead]
    # False when reading stopped at the source's bound before the room's first event:
    # older witnesses were not compared.
    complete: bool = True
    # The consultation log's heads posted beside the audit heads (commands.witness).
    consults: list[WitnessedHead] = field(default_factory=list)


class WitnessUnavailable(Exception):
    """The room's history could not be read (homeserver down, no session): the message
    says why, and the local chain check still runs."""


class WitnessSource(Protocol):
    """The room's history as the bot posted it (bot/witness.py reads it from Matrix;
    tests use a list): what /audit verify compares the database with."""

    async def heads(self, room_id: str) -> RoomHeads:
        """Every head the bot's own user posted in the room, as far back as it reads."""
        ...


@dataclass(frozen=True)
class ExportSummary:
    """What the reply says about an export, without shipping the records back."""

    code: str
    tlp: str
    total: int
    seizures: int
    audit_included: bool
    audit_withheld: int  # audit entries left out: they hold images above the export's level
    # Records changed behind the audit log and acknowledged by a lead, left out (their names)
    left_out: tuple[str, ...] = ()
    held_left_out: int = 0  # records under a legal hold left out (with their audit entries)


class ExportRefused(Exception):
    """The export did not run: records were changed behind the audit log and no lead has
    acknowledged it (storage.witness). Raised in the export worker, so it carries only its
    message (it crosses processes pickled)."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class Exporter(Protocol):
    """Builds an operation's export file (exports/build.py). The runtime hands it to the
    dispatcher, as it does the witness source: the exports package reads the commands
    package's wording and types, so commands must not import it back."""

    async def __call__(self, room_id: str, fmt: str, tlp: str | None, at: datetime, *,
                       held: bool = False) -> tuple[Attachment, ExportSummary]: ...


class FormWriter(Protocol):
    """Writes a request form's file (docx, pdf or json) from its draft
    (commands/forms/draft_shape.md), in `draft["language"]`. Handed to the dispatcher by the
    runtime, like the `Exporter`, for the same reason."""

    async def __call__(self, draft: dict[str, Any], fmt: str) -> Attachment: ...


@dataclass(frozen=True)
class DrawnBoard:
    """The action-day board as drawn (exports/board.py), with what its reply says."""

    attachment: Attachment
    statuses: dict[str, int]  # takedowns per status, those present
    hhour_set: bool
    tlp: str  # the level it is drawn at and labelled with
    above: int = 0  # takedowns not drawn: above `tlp`

    @property
    def takedowns(self) -> int:
        return sum(self.statuses.values())


class BoardDrawer(Protocol):
    """Draws a room's action-day board at a TLP level, the operation's when None (None:
    it has no takedown at or below that level). Handed to the dispatcher by the runtime,
    like the `Exporter`, for the same reason."""

    async def __call__(self, room_id: str, at: datetime, tlp: str | None
                       ) -> DrawnBoard | None: ...
