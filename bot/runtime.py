"""The bot process: log in, cross-sign, sync, hand commands to the dispatcher, reply.

Crash model. Each command's effect and reply are committed before anything depends on
them, and a sync token is saved only once every event of its batch (and of every batch
before it) has been handled (bot.intake.Checkpoints). So a crash at any point means either
the events are fetched again (the dispatcher's event-id check makes the repeat harmless)
or their replies wait in the database to be sent at the next start; posts that are not
replies wait in the outbox (storage.outbox).

Intake (bot.intake, bot.backfill). Every event reaches `_on_event`, from a sync, from the
history a limited sync left out, or decrypted late; rooms are handled in parallel, each in
timeline order. Invites are joined in the background so a join never holds up commands.

Languages (commands.i18n). An answer to one member (a refusal of their command, a notice
about their unreadable, edited or malformed event) is written in that member's language;
a notice to the whole room (an identity change, the summary past the notice limit, the
warning of an unencrypted room) in the room's. A reply from the dispatcher carries the
language it was written in (`Reply.lang`), and every post is marked with its language
where its content is made (`notice_content(..., lang=)`), so a right-to-left one reads
right to left.

Shutdown is bounded (SIGTERM while the homeserver is down or unreachable): running room
batches get STOP_HANDLING_S, the send queues STOP_SENDING_S; then the rest is cancelled.
nio retries a request forever while the server cannot be reached, which is what a reply
should do during an outage, so it is the shutdown that cuts them, not a retry limit.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MegolmEvent,
    RedactionEvent,
    RoomGetStateEventResponse,
    RoomMemberEvent,
    RoomMessageText,
    SyncError,
    SyncResponse,
)
from nio.responses import Timeline

from bot.backfill import Cursor, GapFetcher
from bot.client import GuardedClient
from bot.config import Config, exposed, use_kek_file
from bot.crypto.cross_signing import ensure_cross_signed
from bot.crypto.device_trust import MALFORMED, PLAINTEXT, DeviceTrust, Refusal, plaintext_text
from bot.crypto.key_exchange import exchange_keys
from bot.crypto.replay import Replays
from bot.event_shape import NO_EVENT_ID, NO_SENDER, Reason, problem
from bot.intake import BoundedTasks, Checkpoints, RoomLanes
from bot.members import Members
from bot.message_text import command_text, shown
from bot.metrics import Metrics
from bot.notice_limit import NoticeLimit
from bot.redaction import record_sent
from bot.rooms import PowerLevels
from bot.sending import Outgoing, SendQueues
from bot.slow_work import SlowWork
from bot.undecryptable import Undecryptables
from bot.witness import RoomHistory
from commands import (
    Clock,
    Dispatcher,
    Incoming,
    RateLimiter,
    Reply,
    index_for_deconfliction,
    notice_content,
    partner_room_lost,
    queued,
    speaking,
    tr,
    visible,
)
from exports import pool
from exports.board import drawer, image_attachment
from exports.build import exporter
from exports.files import discard_leftovers
from exports.form_writer import form_writer
from storage import languages
from storage.database import Database
from storage.errors import storage_failure
from storage.intake import IntakeStore, RoomMark
from storage.outbox import Outbox, Post

log = logging.getLogger(__name__)

# The runtime's own notices, each made in the language in force where it is sent.

def unencrypted_warning() -> str:
    return tr("⚠️ This room is not end-to-end encrypted. opsroom records nothing here. "
              "Create an encrypted room for the operation and invite me there.")


def edit_notice() -> str:
    return tr("Editing or deleting a command does not change any record. "
              "Use !undo to revert your last change, or send a new command.")


def bad_mention_text(targets: tuple[str, ...]) -> str:
    named = ", ".join(repr(visible(t[:80])) for t in targets)
    return tr("⚠️ a mention in your message links to {targets}, which is not a Matrix user "
              "id (@name:server), so nothing was recorded. Pick the member from the list "
              "again, or type their id.").format(targets=named)


def malformed_text(why: str) -> str:
    """`why` (bot.event_shape) is said in the language in force; the event's field it
    names stays as the Matrix specification spells it."""
    return tr("⚠️ your client sent an event I cannot read ({why}), so nothing was recorded "
              "from it. Further malformed events from you in this room are ignored without "
              "an answer.").format(why=why.said() if isinstance(why, Reason) else why)


def undecryptable_notice() -> str:
    return tr("⚠️ I could not decrypt your message, so nothing was recorded. "
              "Please resend it (your client may need to share its keys with me).")


TIMELINE_LIMIT = 50  # per room and sync; what a limited sync leaves out is fetched (backfill)
# Members are loaded lazily in the sync (full state per room makes start-up slow with many
# rooms); bot.members fetches each room's joined list whole, once, with joined_members.
SYNC_FILTER = {"room": {"state": {"lazy_load_members": True},
                        "timeline": {"limit": TIMELINE_LIMIT, "lazy_load_members": True}}}
QUEUED_BATCHES = 256  # room batches waiting to be handled before the bot stops fetching more
# Joins run beside commands, not before them. Each sync that brings newly joined rooms is
# slow for the homeserver to build, and commands wait for the sync they arrive in: with 299
# invites at once a command took 5.8 s at 8 joins at a time, 1.5 s at 2 (bench/intake.py).
JOINS_AT_ONCE = 2
STOP_HANDLING_S = 2.0
STOP_SENDING_S = 4.0


class Service(Protocol):
    async def start(self, bot: Bot) -> None: ...  # called after login, before the first sync
    async def stop(self) -> None: ...


def _write_private(path: Path, data: dict[str, Any], *, durable: bool = False) -> None:
    """Atomic (rename). The sync state is not fsynced: losing the newest token in a crash
    only means the batch is fetched again, which the event-id check makes harmless; the
    session (device id, token) is, since losing it would mean a new device."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def save_state(path: Path, data: dict[str, Any]) -> bool:
    """Write the sync state; on a full or failing disk log it and go on (False). Not
    saving it only means the next start fetches the batch again, which the event-id check
    makes harmless; stopping the bot for it would leave every room unanswered."""
    try:
        _write_private(path, data)
    except OSError as exc:
        log.error("could not save the sync state to %s (%s); carrying on", path, exc)
        path.with_suffix(path.suffix + ".tmp").unlink(missing_ok=True)
        return False
    return True


def _secure_tree(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(Path(root) / d, 0o700)
        for f in files:
            os.chmod(Path(root) / f, 0o600)


def _now_ms() -> int:
    return int(time.time() * 1000)


class Bot:
    def __init__(self, config: Config, services: Sequence[Service] = (),
                 clock: Clock | None = None) -> None:
        self.config = config
        self.services = list(services)
        self.clock = clock or Clock()
        self.data_dir = config.data_dir
        self.state_path = self.data_dir / "runtime_state.json"
        self.strict = config.settings.require_cross_signed
        self.session_path = self.data_dir / "session.json"
        # next_batch: the token saved behind handled batches (see Checkpoints); joined_at:
        # per room, ms before which events are history from before the bot joined.
        self.state: dict[str, Any] = {"next_batch": None, "joined_at": {}, "warned": []}
        self._since: str | None = None  # the token the next sync starts from
        self._stop = asyncio.Event()
        self._joining: set[str] = set()
        self.lanes = RoomLanes()
        self.joins = BoundedTasks(JOINS_AT_ONCE)
        self.checkpoints = Checkpoints(self._save_token)
        self.client: AsyncClient
        self.db: Database
        self.dispatcher: Dispatcher
        self.sender: SendQueues
        self.slow = SlowWork(config.slow_workers)
        self.metrics = Metrics(config.max_sync_age)
        self.ready = asyncio.Event()  # set once the first sync has been taken in
        self.started = asyncio.Event()  # set once services run, after the first sync

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        os.umask(0o077)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        self.db = await Database.open(self.data_dir / "opsroom.db",
                                      kek_path=use_kek_file(self.config))
        self.db.on_commit = self.metrics.commit
        discard_leftovers(self.db.path)
        pool.configure(self.config.slow_workers)
        self.dispatcher = Dispatcher(self.db, self.config.settings, self.clock,
                                     room_members=lambda room: self.members.joined(room),
                                     shared_rooms=lambda user: self.members.rooms_with(user),
                                     exporter=exporter(self.db),
                                     draw_board=drawer(self.db),
                                     form_writer=form_writer(self.db),
                                     limiter=RateLimiter(self.config.limits),
                                     observe=self.metrics.command)
        if self.config.path is not None and exposed(self.config.path):
            log.warning("%s is readable by other users of this machine; it may hold the "
                        "bot's password: chmod 600 it", self.config.path)
        await self.dispatcher.starting()
        self.notices = NoticeLimit(self.dispatcher.limiter,
                                   lambda: self.clock.now().timestamp())
        self._told_malformed: set[tuple[str, str]] = set()
        self.intake = IntakeStore(self.db)
        self.outbox = Outbox(self.db)
        if indexed := await index_for_deconfliction(self.db):
            log.info("deconfliction: %d records from before its index were indexed", indexed)
        if self.state_path.exists():
            self.state.update(json.loads(self.state_path.read_text()))
        self._since = self.state["next_batch"]
        await self._login()
        self.members = Members(self.client)
        self.trust = DeviceTrust(self.client, self.db, now=self.clock.now,
                                 notify=self._tell_room, rooms_of=self.members.rooms_with)
        await self.trust.load()
        self.replays = Replays(self.db, self.clock.now)
        self.dispatcher.witness = RoomHistory(
            self.client, accept_plaintext=not self.config.settings.require_encryption)
        self.sender = SendQueues(self.client, strict=self.strict, judge=self.trust.refresh,
                                 on_reply_sent=self.metrics.reply_sent,
                                 on_sent=functools.partial(record_sent, self.db))
        self.metrics.track_send_queue(self.sender.depth)
        if self.config.metrics_listen is not None:
            await self.metrics.serve(*self.config.metrics_listen, self.config.metrics_token)
        self.power = PowerLevels(self.client)
        self.gaps = GapFetcher(self.client)
        self.undecryptable = Undecryptables(self.client, self.intake,
                                            self.config.undecryptable_timeout, self.clock.now)
        # Taken now, before this run handles anything: only replies a previous run left
        # unsent, not the ones this run is about to queue itself.
        self._unsent = await self.dispatcher.undelivered()

    async def _login(self) -> None:
        m = self.config.matrix
        crypto_dir = self.data_dir / "crypto"
        crypto_dir.mkdir(exist_ok=True, mode=0o700)
        session = json.loads(self.session_path.read_text()) if self.session_path.exists() else None
        cfg = AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True)
        self.client = GuardedClient(m.homeserver, m.user_id, device_id=(session or {}).get(
            "device_id"), store_path=str(crypto_dir), config=cfg)
        if session:
            self.client.restore_login(session["user_id"], session["device_id"],
                                      session["access_token"])
        elif m.password:
            resp = await self.client.login(m.password, device_name=m.device_name)
            if not isinstance(resp, LoginResponse):
                raise RuntimeError(f"login as {m.user_id} failed: {resp}")
            _write_private(self.session_path, {"user_id": resp.user_id,
                                               "device_id": resp.device_id,
                                               "access_token": resp.access_token},
                           durable=True)
        else:
            assert m.access_token
            self.client.access_token = m.access_token
            whoami = await self.client.whoami()
            device_id = getattr(whoami, "device_id", None)
            if not device_id:
                raise RuntimeError(f"matrix.access_token is not valid: {whoami}")
            self.client.restore_login(m.user_id, device_id, m.access_token)
            _write_private(self.session_path, {"user_id": m.user_id, "device_id": device_id,
                                               "access_token": m.access_token},
                           durable=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self._cross_sign()
        _secure_tree(self.data_dir)
        log.info("logged in as %s, device %s", self.client.user_id, self.client.device_id)

    async def _cross_sign(self) -> None:
        """The bot's device signed by its master key: strict clients (Element with
        "only cross-signed devices") send it no room keys otherwise."""
        await ensure_cross_signed(self.client, self.config.matrix.password,
                                  self.data_dir / "keys")

    def request_stop(self) -> None:
        self._stop.set()

    async def stopped(self) -> None:
        """Returns once a stop was requested (SIGTERM)."""
        await self._stop.wait()

    async def close(self) -> None:
        """Within about STOP_HANDLING_S + STOP_SENDING_S, whatever the homeserver does; also
        after a start that was cut short. What is cut off is owed in the database."""
        if self.started.is_set():
            for service in self.services:
                await service.stop()
        await self.lanes.stop(STOP_HANDLING_S)
        await self.joins.cancel()
        try:  # batches handled in time still get their token saved
            await asyncio.wait_for(self.checkpoints.settled(), 0.5)
        except TimeoutError:
            pass
        await self.checkpoints.cancel()
        await self.slow.close()
        pool.stop()
        if hasattr(self, "sender"):
            await self.sender.close(STOP_SENDING_S)
        if hasattr(self, "client"):
            await self.client.close()
        if hasattr(self, "db"):
            await self.db.close()
        await self.metrics.close()

    async def run(self) -> None:
        """Sync until asked to stop, then close (bounded, see close)."""
        syncing = asyncio.create_task(self._sync_loop())
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({syncing, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (syncing, stop):
                task.cancel()
            await asyncio.gather(syncing, stop, return_exceptions=True)
            await self.close()
        if not syncing.cancelled() and syncing.exception() is not None:
            raise syncing.exception()  # type: ignore[misc]

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while True:
            await self.lanes.below(QUEUED_BATCHES)
            first = not self.ready.is_set()
            # Short polls while messages wait for keys, so the give-up notice is timely.
            # The first sync of a run returns at once, so start-up is not a long-poll.
            poll = 2000 if self.undecryptable.waiting else 30000
            since = self._since
            try:
                resp = await self.client.sync(
                    timeout=0 if first else poll, since=since, sync_filter=SYNC_FILTER,
                    # Full state on the first sync of every run: nio keeps no room list
                    # across restarts, and sending into a room it does not know fails.
                    full_state=first)
            except Exception as exc:  # network trouble: back off and try again
                resp = SyncError(str(exc))
            if not isinstance(resp, SyncResponse):
                log.warning("sync failed (%s); retrying in %.0f s", resp, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)
                continue
            backoff = 1.0
            if first:
                await self._resume()
                await self.members.ensure_all()
            self._take(resp, since)
            self._since = resp.next_batch
            self.metrics.synced()
            await self._after_sync()
            await self.undecryptable.retry(self._decrypted_late, self._undecryptable_notice,
                                           self.send_post)
            self.metrics.set_undecryptable(self.undecryptable.count)
            if first:
                self.ready.set()
                await self._started()

    async def _resume(self) -> None:
        """What a previous run owed, queued before anything new (the rooms are known now)."""
        for room_id, event_id, reply in self._unsent:
            self.lanes.put(room_id, functools.partial(self._resend, room_id, event_id, reply))
        self._unsent = []
        for post in await self.outbox.unsent():
            self.send_post(post)
        await self.undecryptable.load()

    async def _started(self) -> None:
        for service in self.services:
            await service.start(self)
        self.started.set()

    async def _after_sync(self) -> None:
        await exchange_keys(self.client, self.trust.refresh if self.strict else None)

    def _save_token(self, token: str) -> None:
        self.state["next_batch"] = token
        save_state(self.state_path, self.state)

    # -- events ----------------------------------------------------------------------------
    def _take(self, resp: SyncResponse, since: str | None) -> None:
        """Hand the batch to the room lanes and the joiner; returns at once."""
        handled: list[Awaitable[bool]] = []
        for room_id, invite in resp.rooms.invite.items():
            if room_id not in self._joining:
                self._joining.add(room_id)
                handled.append(self.joins.spawn(self._on_invite(room_id, invite.invite_state)))
        for room_id, info in resp.rooms.join.items():
            if info.timeline.limited:
                self.members.stale(room_id)
            if info.timeline.events or info.timeline.limited:
                handled.append(self.lanes.put(room_id, functools.partial(
                    self._take_room, room_id, info.timeline, since)))
        for room_id in resp.rooms.leave:
            self._forget_room(room_id)
            handled.append(self.lanes.put(room_id, functools.partial(self._room_lost,
                                                                     room_id)))
        self.checkpoints.add(resp.next_batch, handled)

    async def _take_room(self, room_id: str, timeline: Timeline, since: str | None) -> None:
        """One room's part of a sync, in order: first what the sync left out, if anything."""
        cursor, start, gap_end = await self._resume_point(room_id, timeline, since)
        if gap_end is not None:
            fetched = 0
            async for event in self.gaps.events(room_id, start, gap_end):
                fetched += 1
                await self._contained(room_id, event, cursor)
            if fetched:
                log.info("%s: %d events the sync left out were fetched", room_id, fetched)
        for event in timeline.events:
            await self._contained(room_id, event, cursor)
        last = next((e for e in reversed(timeline.events) if getattr(e, "event_id", None)),
                    None)
        if last is not None:
            try:
                await self.intake.set_room_mark(
                    room_id, RoomMark(last.event_id, last.server_timestamp), self.clock.now())
            except Exception as exc:
                # Bookkeeping, needed only if the sync token is lost too: a full disk must
                # not hold the room's next commands up (they get the storage answer).
                if storage_failure(exc) is None:
                    raise
                log.error("could not save %s's mark in %s (%s); carrying on", room_id,
                          self.db.path, exc)

    async def _resume_point(self, room_id: str, timeline: Timeline, since: str | None
                            ) -> tuple[Cursor, str | None, str | None]:
        """Which events to act on, and where the gap a limited timeline left starts and
        ends (None: no gap to fetch)."""
        joined_at = self.state["joined_at"].setdefault(room_id, 0 if since else _now_ms())
        # A timeline that shows the bot joining has nothing of ours before it to fetch.
        gap_end = timeline.prev_batch if timeline.limited and timeline.prev_batch and not any(
            isinstance(e, RoomMemberEvent) and e.state_key == self.client.user_id
            and e.membership == "join" for e in timeline.events) else None
        if since is not None:
            return Cursor(joined_at), since, gap_end
        # No token (first run, or the state file was lost): resume at the room's mark.
        mark = await self.intake.room_mark(room_id)
        if mark is None:
            return Cursor.nothing(), None, None  # history from before the bot came
        if gap_end is not None:
            start, found = await self.gaps.start_at_mark(room_id, gap_end, mark)
            return Cursor.after_mark(mark, found), start, gap_end
        in_view = any(getattr(e, "event_id", None) == mark.event_id for e in timeline.events)
        return Cursor.after_mark(mark, in_view), None, None

    async def _contained(self, room_id: str, event: Any, cursor: Cursor) -> None:
        """One event's failure is that event's: the disk's or the homeserver's is raised
        (the lane retries the batch, which is right for them), anything else is logged and
        the batch goes on, so one bad event cannot hold up the commands behind it."""
        try:
            await self._consider(room_id, event, cursor)
        except Exception as exc:
            if storage_failure(exc) is not None or isinstance(
                    exc, (aiohttp.ClientError, TimeoutError, OSError)):
                raise
            log.exception("event %r in %s could not be handled; it is skipped",
                          getattr(event, "event_id", "?"), room_id)

    async def _consider(self, room_id: str, event: Any, cursor: Cursor) -> None:
        if (isinstance(event, RoomMemberEvent) and event.state_key == self.client.user_id
                and event.membership == "join" and not self.state["joined_at"].get(room_id)):
            self.state["joined_at"][room_id] = event.server_timestamp
            cursor.floor_ts = max(cursor.floor_ts, event.server_timestamp)
        if cursor.admits(event):  # else history from before the bot joined, or handled
            await self._on_event(room_id, event)

    def _decrypted_late(self, room_id: str, event: Any,
                        release: Callable[[], Awaitable[None]]) -> None:
        async def handle() -> None:
            await self._on_event(room_id, event)
            await release()

        self.lanes.put(room_id, handle)

    def _forget_room(self, room_id: str) -> None:
        """The bot left (or was removed from) the room: what was kept per room goes, so
        those maps hold only the rooms the bot is in."""
        self.state["joined_at"].pop(room_id, None)
        if room_id in self.state["warned"]:
            self.state["warned"].remove(room_id)
        self.power.forget(room_id)

    async def _room_lost(self, room_id: str) -> None:
        """A partner room the bot is no longer in ends its link (commands.partner_feed): the
        operation room is told, and nothing more is sent there. In the room's lane, so the
        sync token waits for it: a crash before it is committed sees the leave again."""
        posts = await self.db.write(lambda tx: partner_room_lost(
            tx, room_id, self.clock.now(), self.config.settings.language))
        for post in posts:
            log.info("the bot is no longer in partner room %s: its link ended", room_id)
            self.send_post(post)

    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        try:
            inviter = next((e.sender for e in invite_state if isinstance(e, InviteMemberEvent)
                            and e.state_key == self.client.user_id), None)
            if inviter and any(fnmatch.fnmatchcase(inviter, p)
                               for p in self.config.allowed_inviters):
                if await self._still_joined(room_id):
                    log.info("invite to %s seen again; the bot is still in it", room_id)
                    return
                # Taken before the request: whatever is older came before the bot joined.
                self.state["joined_at"][room_id] = _now_ms()
                result = await self.client.join(room_id)
                log.info("joined %s on invite from %s: %s", room_id, inviter,
                         type(result).__name__)
            else:
                log.warning("refusing invite to %s from %s (not in allowed_inviters)",
                            room_id, inviter)
                await self.client.room_leave(room_id)
        finally:
            self._joining.discard(room_id)

    async def _still_joined(self, room_id: str) -> bool:
        """An old invite comes again when the sync replays from an old position (Synapse
        answers a repeated first sync from a two-minute cache): re-joining must not move
        the room's join time, or the commands since the real join would count as history.
        Asked only of rooms the bot has a mark for, so a new invite costs nothing more."""
        if await self.intake.room_mark(room_id) is None:
            return False
        resp = await self.client.room_get_state_event(room_id, "m.room.member",
                                                      self.client.user_id)
        return (isinstance(resp, RoomGetStateEventResponse)
                and resp.content.get("membership") == "join")

    async def _on_event(self, room_id: str, event: Any) -> None:
        """Every event the bot acts on comes through here, whichever way it arrived."""
        if getattr(event, "sender", None) == self.client.user_id:
            return
        if (why := problem(event)) is not None:
            log.warning("ignoring a malformed event in %s from %r: %s", room_id,
                        getattr(event, "sender", "?"), why)
            await self._malformed(room_id, event, why)
            return
        if isinstance(event, MegolmEvent):
            if not await self.undecryptable.hold(room_id, event):
                await self._answer_event(room_id, event.sender, undecryptable_notice,
                                         event.event_id)
        elif isinstance(event, RoomMessageText):
            await self._on_text(room_id, event)
        elif isinstance(event, RedactionEvent) and event.redacts:
            if await self.dispatcher.was_command(event.redacts):
                await self._answer_event(room_id, event.sender, edit_notice, event.redacts)

    async def _malformed(self, room_id: str, event: Any, why: str) -> None:
        """Answered once per sender and room (kept across restarts, like refusals), and
        only when the event has an id and a sender to answer: an answer to an event
        without them would itself carry the malformed part."""
        sender = getattr(event, "sender", None)
        if why in (NO_EVENT_ID, NO_SENDER) or not isinstance(sender, str):
            return
        # The record in the database says "answered"; this set only keeps a flood of
        # malformed events from costing a durable write each within one run.
        if (room_id, sender) in self._told_malformed:
            return
        if len(self._told_malformed) > 10_000:
            self._told_malformed.clear()
        self._told_malformed.add((room_id, sender))
        refusal = Refusal(MALFORMED, "-", functools.partial(malformed_text, why))
        if await self.trust.first_answer(room_id, sender, refusal):
            await self._answer_event(room_id, sender, refusal.say, event.event_id)

    async def _answer_event(self, room_id: str, sender: str, say: Callable[[], str],
                            reply_to: str | None) -> None:
        """A notice about an event that is not a command (an edit, a redaction, an
        unreadable or malformed event, a refusal): within the sender's per-member limit
        and the send queues' caps, like a command's answer (bot.notice_limit). `say` makes
        its text, in the sender's language (the summary past the limit: the room's)."""
        if (answer := await self._limited_answer(room_id, sender, say, reply_to)) is not None:
            text, reply_to, lang = answer
            await self.sender.room_for(room_id)
            self._notice(room_id, text, reply_to, lang=lang)

    async def _limited_answer(self, room_id: str, sender: str, say: Callable[[], str],
                              reply_to: str | None) -> tuple[str, str | None, str] | None:
        """The answer to `sender`'s event within the notice limit, as (text, the event it
        replies to, its language), or None. The language is read only for an answer that
        goes out: a flood past the limit costs no read per event."""
        answer = self.notices.decide(room_id, sender, reply_to)
        if answer is None:
            return None
        lang = await self._language(room_id, None if answer.to_room else sender)
        with speaking(lang):
            return answer.text(say), answer.reply_to, lang

    async def _undecryptable_notice(self, room_id: str, sender: str, event_id: str
                                    ) -> dict[str, Any] | None:
        answer = await self._limited_answer(room_id, sender, undecryptable_notice, event_id)
        if answer is None:
            return None
        text, reply_to, lang = answer
        return notice_content(text, None, reply_to, lang=lang)

    async def _language(self, room_id: str, user_id: str | None = None) -> str:
        """What a notice is written in: `user_id`'s language, for an answer to them; the
        room's, for a notice to the whole room (None). A database that cannot be read
        must not cost the notice: the last language known is used then."""
        default = self.config.settings.language
        try:
            if user_id is None:
                return await self.db.read(lambda tx: languages.of_room(tx, room_id)) or default
            member = user_id
            return await self.db.read(
                lambda tx: self.dispatcher.language_of(tx, room_id, member))
        except Exception as exc:
            if storage_failure(exc) is None:
                raise
            log.error("could not read the language of %s in %s (%s); using the last known",
                      user_id or "the room", room_id, exc)
            return default if user_id is None else self.dispatcher.spoken(room_id, user_id)

    async def _tell_room(self, room_id: str, say: Callable[[], str]) -> None:
        """A notice to the whole room (an identity change), in the room's language."""
        lang = await self._language(room_id)
        with speaking(lang):
            text = say()
        self._notice(room_id, text, lang=lang)

    async def _on_text(self, room_id: str, event: RoomMessageText) -> None:
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        if relation.get("rel_type") == "m.replace":
            original = relation.get("event_id", "")
            if await self.dispatcher.was_command(original) or self.dispatcher.is_command(
                    command_text(content.get("m.new_content") or {})):
                await self._answer_event(room_id, event.sender, edit_notice, event.event_id)
            return
        message = shown(content)
        text = message.text
        if not self.dispatcher.is_command(text):
            return
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted)
        if self.config.settings.require_encryption and not encrypted:
            if room_id not in self.state["warned"]:
                self.state["warned"].append(room_id)
                save_state(self.state_path, self.state)
                lang = await self._language(room_id)  # a warning to the whole room
                with speaking(lang):
                    warning = unencrypted_warning()
                self._notice(room_id, warning, reply_to=event.event_id, lang=lang)
            return
        refusal = await self._refusal(room_id, event, encrypted)
        if refusal is not None:
            if not refusal.once or await self.trust.first_answer(room_id, event.sender,
                                                                 refusal):
                await self._answer_event(room_id, event.sender, refusal.say, event.event_id)
            return
        if message.bad_mentions:
            await self._answer_event(
                room_id, event.sender, functools.partial(bad_mention_text, message.bad_mentions),
                event.event_id)
            return
        level = await self.power.level(room, event.sender) if room else 0
        await self.members.ensure_all()  # rooms joined or left out of a sync since: /trust
        await self.sender.room_for(room_id)  # back-pressure: see SendQueues
        device = self.trust.sending_device(room_id, event) if encrypted else None
        msg = Incoming(
            room_id=room_id,
            sender=event.sender,
            event_id=event.event_id,
            body=text,
            timestamp=datetime.fromtimestamp(event.server_timestamp / 1000, UTC),
            power_level=level,
            encrypted=encrypted,
            device_id=device.id if device is not None else None,
        )
        reply = await self.dispatcher.commit(msg)
        if reply.posts:  # to other rooms (deconfliction), written to the outbox with it
            for post in await self.outbox.posts(reply.posts):
                self.send_post(post)
        if reply.trust_changed:
            await self.trust.confirmed(reply.trust_changed)
        if not reply.duplicate:
            self.answer(room_id, event.event_id, reply,
                        sent_at=event.server_timestamp / 1000)

    async def _refusal(self, room_id: str, event: RoomMessageText, encrypted: bool
                       ) -> Refusal | None:
        """Whom the bot does not obey: a plaintext event in an encrypted room (anyone with
        the room's address and an account could send it), — unless configured off — a
        device its owner has not cross-signed or a user whose identity changed, and an
        earlier command's ciphertext under a new event id (bot.crypto.replay)."""
        if encrypted and not getattr(event, "decrypted", False):
            return Refusal(PLAINTEXT, "-", plaintext_text)
        if self.strict and encrypted and (refusal := await self.trust.refusal(room_id, event)):
            return refusal
        if encrypted:
            return await self.replays.refusal(room_id, event)
        return None

    # -- sending ---------------------------------------------------------------------------
    def answer(self, room_id: str, event_id: str, reply: Reply,
               sent_at: float | None = None) -> None:
        """Send a committed reply; one with a slow part (an export's file) goes through the
        slow-work queue, told at once when it has to wait, so it holds up no one else."""
        if reply.after_commit is None:
            self.send_reply(room_id, event_id, reply, sent_at)
            return

        async def slow_part() -> None:
            self.send_reply(room_id, event_id, await self.dispatcher.finish(reply))

        ahead = self.slow.submit(room_id, event_id, slow_part)
        if ahead:
            with speaking(reply.lang):  # told in the language the command was answered in
                notice = queued(reply, ahead)
            self.sender.put(Outgoing(room_id, notice_content(notice.text, notice.html,
                                                              event_id, lang=notice.lang)))

    def send_reply(self, room_id: str, event_id: str, reply: Reply,
                   sent_at: float | None = None) -> None:
        """The answer first (what the officer waits for), then the ✅ on the command once
        the bot is quiet; marked delivered when the last of them is in the room. `sent_at`
        (the command's origin_server_ts, seconds) is for the reply latency metric. The
        transaction ids derive from the command, so sending again (after a restart, or a
        resend racing a redelivery) never posts twice."""
        content = notice_content(reply.text, reply.html, event_id, reply.extra_content,
                                 lang=reply.lang)

        async def delivered() -> None:
            await self.dispatcher.delivered(event_id)

        if reply.attachment is not None:
            self.sender.put(Outgoing(room_id, content, attachment=reply.attachment,
                                     txn_id=f"opsroom-file-{event_id}"))
        self.sender.put(Outgoing(room_id, content, done=None if reply.ok else delivered,
                                 answers_sent_at=sent_at, txn_id=f"opsroom-reply-{event_id}"))
        if reply.ok:
            self.sender.put_when_quiet(Outgoing(room_id, {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": event_id, "key": "✅"}},
                event_type="m.reaction", done=delivered, txn_id=f"opsroom-check-{event_id}"))

    def in_room(self, room_id: str) -> bool:
        """Whether the bot is (still) joined to the room, as the last sync left it."""
        return room_id in self.client.rooms

    def audience(self, room_id: str) -> tuple[str, Collection[str]]:
        """Who posts and who reads in `room_id`: for the consultation log of what the bot
        posts by itself (bot.scheduler)."""
        return self.client.user_id, self.members.joined(room_id)

    def _notice(self, room_id: str, text: str, reply_to: str | None = None, *,
                lang: str) -> None:
        """`text` as a notice; `lang` is the language it was written in."""
        self.sender.put(Outgoing(room_id, notice_content(text, None, reply_to, lang=lang)))

    async def post(self, room_id: str, text: str, html: str,
                   extra: dict[str, Any] | None = None, *, lang: str | None = None) -> None:
        """For scheduled posts (sitreps, reminders): queued behind replies to that room, and
        kept in the outbox until sent, so a shutdown or an outage does not lose it. `lang`
        is the language it was written in (the room's; the one in force when None)."""
        self.send_post(await self.outbox.add(
            room_id, notice_content(text, html, None, extra, lang=lang), self.clock.now()))

    def send_post(self, post: Post) -> None:
        """Queue a post already in the outbox: one the caller added in its own transaction
        (a scheduled board, with the record that it is posted), or one owed since the last
        run. A post with a picture goes as m.image."""

        async def sent() -> None:
            await self.outbox.sent(post.id)

        async def wanted() -> bool:  # dropped from the outbox since (a partner link ended)
            return await self.outbox.pending(post.id)

        picture = image_attachment(post.image) if post.image is not None else None
        self.sender.put(Outgoing(post.room_id, post.content, done=sent, txn_id=post.txn_id,
                                 attachment=picture, wanted=wanted))

    async def _resend(self, room_id: str, event_id: str, reply: Reply) -> None:
        log.info("re-sending the reply to %s that was committed but not sent", event_id)
        self.answer(room_id, event_id, reply)  # an export's file is built again

