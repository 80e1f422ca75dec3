"""What flows between the Matrix runtime and the command handlers.

The bot builds an `Incoming` from a decrypted event and gets a `Reply` back; handlers get
a `Context` holding the open transaction. Nothing here knows about nio, so handlers can be
tested without a homeserver.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from commands.core.i18n import tr
from commands.core.types import (
    BoardDrawer,
    Clock,
    CommandError,
    Exporter,
    FormWriter,
    Incoming,
    Settings,
    WitnessSource,
)
from storage.codec import to_db_time
from storage.database import Database
from storage.tx import Actor, Row, Tx


@dataclass
class Context:
    msg: Incoming
    settings: Settings
    tx: Tx
    op: Row | None
    agency: Row | None  # the sender's agency in this operation, if mapped
    zone: ZoneInfo
    now: datetime  # the command's own time (origin_server_ts), so late processing stamps truly
    clock: Clock
    db: Database | None = None
    # The room's joined members, as the runtime knows them (commands never see nio).
    room_members: Callable[[], Collection[str]] = tuple
    # The rooms the bot shares with a user (joined), as the runtime knows them.
    shared_rooms: Callable[[str], Collection[str]] = lambda user_id: ()
    # The heads the bot posted in this room's history (bot/witness.py); None without a room.
    witness: WitnessSource | None = None
    # Builds /export's file (exports/build.py), handed in by the runtime.
    exporter: Exporter | None = None
    # Writes a request form's file (exports/form_files.py), handed in by the runtime.
    form_writer: FormWriter | None = None
    # Draws /board's picture (exports/board.py), handed in by the runtime.
    draw_board: BoardDrawer | None = None
    # What this command needed a lead for; kept with its changes so that /undo of them
    # needs a lead too, even when the command's declaration does not say so (/hhour TIME,
    # a lead changing an officer's record).
    lead_powers: list[str] = field(default_factory=list)
    # The live partner link when this is a partner room (storage.partners); `op` is then
    # None, so no operation command can reach the operation from here.
    partner: Row | None = None

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
                tr("this room is not bound to an operation yet: a lead runs "
                   '/op init "Operation NAME" code=CODE'),
                show_usage=False,
            )
        return self.op

    def require_lead(self, what: str, *, note: str = "") -> None:
        """Refused unless the sender is a lead. `what` is what they tried, an infinitive
        phrase ("set H-hour"), already translated or marked with `N_` (it is passed through
        `tr` here); `note`, already translated, follows the refusal as it is."""
        if not self.lead_override(what):
            refusal = tr("only a lead (power level {level} or more) can {what}").format(
                level=self.settings.lead_level, what=tr(what))
            raise CommandError(refusal + note, show_usage=False)

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
        owner = record.get("created_by")
        if self.lead_override(tr("change {ref}, recorded by {user}").format(ref=label,
                                                                             user=owner)):
            return
        raise CommandError(
            tr("{ref} was recorded by {user}: only they or a lead can change it").format(
                ref=label, user=owner),
            show_usage=False,
        )
