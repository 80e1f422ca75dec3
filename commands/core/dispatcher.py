"""Turns one incoming command into exactly one reply and at most one durable change.

Everything for one event runs in one transaction: the idempotency check, the handler's
record changes and their audit entries, and the row in `processed_events` holding the
reply. A crash before COMMIT leaves nothing; after COMMIT a redelivered event gets the
stored reply and changes nothing.

When the disk is full (or failing) nothing can be committed, not even the row that says
the event was seen. The command is then run again on a read-only connection: a command
that only reads (`/task list`, `/op`) still answers; one that would write is answered
that the storage is full, so the officer knows it was not recorded and why.
"""

from __future__ import annotations

import difflib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands.core import consulted, i18n, redo, registry, reply, spec, timeparse
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.ratelimit import RateLimit, RateLimiter
from commands.core.records import PREFIX
from commands.core.reply import ReplyBuilder
from commands.core.tokenizer import Token, is_command, tokenize
from commands.core.types import (
    BoardDrawer,
    Clock,
    CommandError,
    Exporter,
    FormWriter,
    Incoming,
    Reply,
    Settings,
    WitnessSource,
)
from storage import agencies, changes, languages, operations, partners, processed
from storage import audit as audit_log
from storage.codec import from_db_time, to_db_time
from storage.consultations import LOG_REVIEW
from storage.database import Database
from storage.errors import StorageFailure, storage_failure
from storage.tx import Actor, ErasedRecord, Row, Tx

log = logging.getLogger(__name__)

# (command name, "ok" | "error" | "refused"), for metrics; "unknown" when not a command.
CommandObserver = Callable[[str, str], None]

SPOKEN_KEPT = 10_000  # (room, member) languages remembered for storage-failure answers
STORAGE_FULL = N_("the bot's storage is full — nothing was recorded; tell the administrator")
STORAGE_IO = N_("the bot's storage failed (disk I/O error) — nothing was recorded; "
                "tell the administrator")
CANNOT_LOG = N_("the bot cannot write to its storage, so it cannot log this consultation, "
                "and shows no records until it can (the consultation log is required by "
                "law); tell the administrator")


class Dispatcher:
    def __init__(self, db: Database, settings: Settings, clock: Clock | None = None, *,
                 room_members: Callable[[str], Collection[str]] | None = None,
                 shared_rooms: Callable[[str], Collection[str]] | None = None,
                 witness: WitnessSource | None = None,
                 exporter: Exporter | None = None,
                 draw_board: BoardDrawer | None = None,
                 form_writer: FormWriter | None = None,
                 limiter: RateLimiter | None = None,
                 observe: CommandObserver | None = None) -> None:
        registry.load()
        self.db = db
        self.settings = settings
        self.clock = clock or Clock()
        self.room_members = room_members or (lambda room_id: ())
        self.shared_rooms = shared_rooms or (lambda user_id: ())
        # The room's history as /audit verify reads it; the runtime sets it after login.
        self.witness = witness
        self.exporter = exporter
        self.draw_board = draw_board
        self.form_writer = form_writer
        self.limiter = limiter
        self.observe = observe
        self._spoken: dict[tuple[str, str], str] = {}

    async def starting(self) -> None:
        """The bot was away from its last handled command until now: the rate limit counts
        a backlog dated in that time at its own dates (see commands.core.ratelimit)."""
        since = from_db_time(await self.db.read(processed.last_handled_at))
        if self.limiter is not None and since is not None:
            self.limiter.away = (since.timestamp(), self.clock.now().timestamp())

    @staticmethod
    def is_command(body: str) -> bool:
        return is_command(body)

    async def handle(self, msg: Incoming) -> Reply:
        """`commit`, then the reply's slow part at once (the CLI, tests and benchmarks; the
        bot queues the slow part instead, see bot.slow_work)."""
        result = await self.commit(msg)
        if result.duplicate:
            return result
        return await self.finish(result)

    async def commit(self, msg: Incoming) -> Reply:
        """The command applied and its reply stored; a slow part (an export's file) is left
        in `after_commit` for the caller to run, via `finish`. Never raises for anything a
        user can type; idempotent on `msg.event_id`."""
        now = self.clock.now()
        actor = Actor(
            room_id=msg.room_id,
            sender=msg.sender,
            event_id=msg.event_id,
            command=msg.body[:4000],
            at=to_db_time(now),
            sent_at=to_db_time(msg.timestamp) if _apart(msg, now) else None,
        )
        try:
            result, kind, outcome = await self.db.write(
                lambda tx: self._handle(tx, msg, now), actor)
        except Exception as exc:
            failure = storage_failure(exc)
            with i18n.speaking(self.spoken(msg.room_id, msg.sender)):
                if failure is not None:
                    return await self._unrecorded(msg, failure, exc)
                ref = uuid.uuid4().hex[:8]
                log.exception("command failed outside the handler (ref %s)", ref)
                self._observe(_kind(msg.body), "error")
                return reply.error(tr(
                    "internal error (ref {ref}); nothing was recorded. Please try again; "
                    "if it persists, tell the bot administrator.").format(ref=ref))
        if outcome != "redelivered":
            self._observe(kind, outcome)
        return result

    async def finish(self, result: Reply) -> Reply:
        """Run a committed reply's slow part (an export's file); never raises."""
        if result.after_commit is None:
            return result
        try:
            return await result.after_commit()
        except Exception as exc:
            with i18n.speaking(result.lang):
                return self._failed_slow_part(exc)

    def _failed_slow_part(self, exc: Exception) -> Reply:
        failure = storage_failure(exc)
        if failure is not None:
            log.error("could not write a file in %s: %s", self.db.path.parent, exc)
            return _storage_refusal(failure)
        ref = uuid.uuid4().hex[:8]
        log.exception("command's follow-up failed (ref %s)", ref)
        return reply.error(tr(
            "internal error (ref {ref}) while making the file; nothing was changed. "
            "Please try again; if it persists, tell the bot administrator.").format(ref=ref))

    async def _unrecorded(self, msg: Incoming, failure: StorageFailure, exc: Exception
                          ) -> Reply:
        """The write failed for the disk's sake: answer what can be answered without
        writing (a read that shows no records: one that does cannot be logged), else say
        the storage is full; nothing was recorded either way."""
        log.error("storage %s: could not write to %s (%s); the command %s in %s was not "
                  "recorded", "full" if failure == "full" else "I/O error", self.db.path,
                  exc, msg.event_id, msg.room_id)
        refusal = _storage_refusal(failure)
        kind = _kind(msg.body)
        try:
            async with self.db.snapshot() as tx:  # read-only: any write raises
                try:
                    cmd, rest = _parse(msg)
                    if cmd.shows is not None:  # records shown unlogged: refused instead
                        self._observe(kind, "error")
                        return reply.error(tr(CANNOT_LOG))
                    result = await self._run(tx, msg, cmd, rest, self.clock.now())
                except CommandError as mistake:  # a typo is still a typo
                    result = reply.error(mistake.message, mistake.usage)
        except Exception:
            self._observe(kind, "error")
            return refusal
        self._observe(kind, "ok" if result.ok else "error")
        return await self.finish(result)

    def _observe(self, kind: str, outcome: str) -> None:
        if self.observe is not None:
            self.observe(kind, outcome)

    async def delivered(self, event_id: str) -> None:
        """Called by the runtime once the reply is in the room, so a redelivery stays quiet."""

        await self.db.write(lambda tx: processed.mark_delivered(tx, event_id))

    async def was_command(self, event_id: str) -> bool:
        """Whether this event was handled as a command (to answer edits and redactions)."""

        async def q(tx: Tx) -> bool:
            return await processed.seen(tx, event_id) is not None

        return await self.db.read(q)

    async def undelivered(self) -> list[tuple[str, str, Reply]]:
        """Replies committed but not confirmed sent (the bot died in between): the runtime
        sends them at start-up so no acknowledged command goes unanswered."""

        rows = await self.db.read(processed.undelivered)
        return [(r["room_id"], r["event_id"], self._stored_reply(r["reply"], r["room_id"]))
                for r in rows]

    def _stored_reply(self, stored: str, room_id: str) -> Reply:
        """A reply as committed, with its slow part (an export's file) ready to run again,
        since only the text was stored; still logged as the consultation it was, once."""
        previous = Reply.from_json(json.loads(stored))
        slow = redo.remake(previous.redo, redo.Services(
            self.db, room_id, self.clock.now, self.exporter, self.draw_board, self.witness,
            self.form_writer))
        if slow is not None and previous.redo and consulted.REDO_KEY in previous.redo:
            slow = self._logged(consulted.Pending.from_json(previous.redo[consulted.REDO_KEY]),
                                slow)
        previous.after_commit = _in_language(previous.lang, slow) if slow else None
        return previous

    async def _consulted(self, tx: Tx, msg: Incoming, cmd: spec.Command, args: object,
                         result: Reply, op: Row | None, link: Row | None, now: datetime
                         ) -> Reply:
        """The answer of a command declared `shows=`, logged (storage.consultations): now,
        in the command's transaction; or, for a file made after it commits, when the file
        exists (commands.core.consulted)."""
        owner = op if op is not None or link is None else await operations.by_id(
            tx, link["op_id"])
        shown = await consulted.pending(tx, msg, cmd, args, result, owner, now,
                                        self.room_members)
        if result.after_commit is None:
            await consulted.log(tx, shown, result)
            return result
        result.redo = {**(result.redo or {}), consulted.REDO_KEY: shown.to_json()}
        result.after_commit = self._logged(shown, result.after_commit)
        return result

    def _logged(self, shown: consulted.Pending, slow: Callable[[], Awaitable[Reply]]
                ) -> Callable[[], Awaitable[Reply]]:
        """A slow part whose file is logged before it is sent; one that cannot be logged is
        not sent (the caller answers the failure). One that failed (an export refused for
        records changed behind the audit log) showed nothing and is not logged, except a
        check of the logs, which reviewed them whatever it found."""

        async def run() -> Reply:
            final = await slow()
            if not final.ok and shown.verb != LOG_REVIEW:  # a failed check still reviewed
                return final
            try:
                await self.db.write(lambda tx: consulted.log(tx, shown, final))
            except Exception:
                if final.attachment is not None:
                    final.attachment.discard()
                raise
            return final

        return run

    async def _handle(self, tx: Tx, msg: Incoming, now: datetime) -> tuple[Reply, str, str]:
        """The reply, and the command's name and outcome for metrics."""
        seen = await processed.seen(tx, msg.event_id)
        if seen is not None:
            previous = self._stored_reply(seen["reply"], msg.room_id)
            previous.duplicate = bool(seen["delivered"])
            return previous, "", "redelivered"
        lang = await self.language_of(tx, msg.room_id, msg.sender)
        with i18n.speaking(lang):
            return await self._answer(tx, msg, now, lang)

    async def language_of(self, tx: Tx, room_id: str, user_id: str) -> str:
        """What `user_id` reads in `room_id` (their own, their agency's, the room's, the
        bot's default), remembered for the answers given when nothing can be read."""
        lang = await languages.of_reader(tx, room_id, user_id) or self.settings.language
        self._spoken[(room_id, user_id)] = lang
        if len(self._spoken) > SPOKEN_KEPT:
            self._spoken.pop(next(iter(self._spoken)))
        return lang

    def spoken(self, room_id: str, user_id: str) -> str:
        """The language `user_id` was last answered in, in `room_id` (no database read:
        for answers given when the storage fails)."""
        return self._spoken.get((room_id, user_id), self.settings.language)

    async def _answer(self, tx: Tx, msg: Incoming, now: datetime, lang: str
                      ) -> tuple[Reply, str, str]:
        if self.limiter is not None and (
                wait := self.limiter.take(msg.sender, now.timestamp(),
                                          msg.timestamp.timestamp())):
            result = _refusal(self.limiter.limit, wait)
            kind, outcome = _kind(msg.body), "refused"
        else:
            result, kind = await self._command(tx, msg, now)
            outcome = "ok" if result.ok else "error"
        if _apart(msg, now):
            with i18n.speaking(result.lang):  # /lang answers in the language just chosen
                result = _dated(result, msg, now)
        if result.after_commit is not None:
            result.after_commit = _in_language(lang, result.after_commit)
        await processed.record(tx, msg.event_id, msg.room_id, msg.sender,
                               json.dumps(result.to_json()), to_db_time(self.clock.now()))
        return result, kind, outcome

    async def _command(self, tx: Tx, msg: Incoming, now: datetime) -> tuple[Reply, str]:
        """The reply and the command's name ("unknown" when it names none)."""
        await tx.execute("SAVEPOINT command")
        kind = "unknown"
        try:
            cmd, rest = _parse(msg)
            kind = cmd.name
            result = await self._run(tx, msg, cmd, rest, now)
        except CommandError as exc:
            await tx.execute("ROLLBACK TO command")
            result = reply.error(exc.message, exc.usage)
            if kind == "unknown":
                kind = _kind(msg.body)
        except Exception as exc:
            if storage_failure(exc) is not None:
                raise  # the whole batch fails; `handle` answers it
            await tx.execute("ROLLBACK TO command")
            ref = uuid.uuid4().hex[:8]
            # The command's kind and event, not its text: the log is kept apart from the
            # database and no erasure reaches it, so it must never hold a personal value.
            log.exception("handler failed for %s, event %s (ref %s)", kind, msg.event_id, ref)
            result = reply.error(tr(
                "internal error (ref {ref}); nothing was recorded. "
                "The bot administrator can find the details in the log.").format(ref=ref))
        await tx.execute("RELEASE command")
        return result, kind

    async def _run(self, tx: Tx, msg: Incoming, cmd: spec.Command, rest: list[Token],
                   now: datetime) -> Reply:
        link = await partners.live_for_room(tx, msg.room_id)
        if link is not None and cmd.where is spec.Where.OPERATION:
            raise CommandError(_partner_room_refusal(), show_usage=False)
        if link is None and cmd.where is spec.Where.PARTNER:
            raise _with_usage(CommandError(tr(
                "{command} is answered in a partner room only: it is how a partner reports "
                "on what a lead assigned to them").format(command=f"/{cmd.name}")), cmd)
        op = None if link is not None else await operations.for_room(tx, msg.room_id)
        agency = await agencies.of_member(tx, op["id"], msg.sender) if op else None
        zone_name = ((agency or {}).get("tz") or (op or {}).get("tz")
                     or self.settings.default_timezone)
        ctx = Context(
            msg=msg,
            settings=self.settings,
            tx=tx,
            op=op,
            agency=agency,
            zone=ZoneInfo(zone_name),
            now=now,
            clock=self.clock,
            db=self.db,
            room_members=lambda: self.room_members(msg.room_id),
            shared_rooms=self.shared_rooms,
            witness=self.witness,
            exporter=self.exporter,
            draw_board=self.draw_board,
            form_writer=self.form_writer,
            partner=link,
        )
        try:
            if cmd.needs_op and link is None:
                ctx.require_op()
            if cmd.role is spec.Role.LEAD:
                ctx.require_lead(tr(cmd.summary).rstrip("."))
            env = spec.ParseEnv(now=now, zone=ctx.zone,
                                hhour=from_db_time(op["hhour"]) if op else None)
            try:
                args = cmd.bind(rest, env)
            except CommandError as exc:
                exc.message = _sibling_hint(cmd, rest, exc.message)
                raise
            if op is None or op["phase"] != "closed" or cmd.path in AFTER_CLOSING:
                result = await cmd.handler(ctx, args)
            else:
                result = await _read_only(tx, msg.room_id, op, cmd.handler(ctx, args))
            if cmd.shows is not None and result.ok:
                result = await self._consulted(tx, msg, cmd, args, result, op, link, now)
            if ctx.lead_powers:
                await changes.record_lead_powers(tx, msg.event_id, msg.room_id,
                                                 "; ".join(ctx.lead_powers))
            return result
        except CommandError as exc:
            raise _with_usage(exc, cmd) from None
        except ErasedRecord as exc:
            raise CommandError(_erased_refusal(exc), show_usage=False) from None


# Commands that still record in a closed operation: acknowledging records changed behind
# the audit log changes none of the operation's record, and without it a tampered closed
# operation could never be exported again (storage.witness). Retention periods, legal
# holds and erasures are about the data of a closed operation: they change how long it is
# kept, not what it recorded.
AFTER_CLOSING = {("audit", "accept"), ("retention", "set"), ("retention", "extend"),
                 ("hold", "add"), ("hold", "release"), ("erase",)}

APART = timedelta(minutes=1)  # beyond this, the event's own time is kept and shown


def _in_language(lang: str, slow: Callable[[], Awaitable[Reply]]
                 ) -> Callable[[], Awaitable[Reply]]:
    """A reply's slow part (an export's file) runs later, maybe in another task: it keeps
    the language the command was answered in."""

    async def run() -> Reply:
        with i18n.speaking(lang):
            return await slow()

    return run


def _apart(msg: Incoming, now: datetime) -> bool:
    return abs(now - msg.timestamp) > APART


def _storage_refusal(failure: StorageFailure) -> Reply:
    said = tr(STORAGE_FULL) if failure == "full" else tr(STORAGE_IO)
    return reply.error(said)


def _dated(result: Reply, msg: Incoming, now: datetime) -> Reply:
    """A command answered well after it was sent (the bot was away) says so, and one its
    server dated in the future says that; the bot's own time was used for it either way."""
    sent, handled = timeparse.format_dtg(msg.timestamp), timeparse.format_dtg(now)
    if msg.timestamp < now:
        line = tr("(sent {sent}, handled {handled} while the bot caught up: times in it "
                  "count from when it was handled)")
    else:
        line = tr("(its homeserver dates it {sent}, after the bot's time {handled}; the "
                  "bot's time was used)")
    line = line.format(sent=sent, handled=handled)
    return reply.appended(result, ReplyBuilder().line(line).build())


def _erased_refusal(exc: ErasedRecord) -> str:
    """Any change to a personal field of an erased record, whichever command tried it."""
    name = PREFIX.get(exc.table)
    record = f"{name}-{exc.seq}" if name is not None and exc.seq is not None else tr(
        "this record")
    return tr("{record} was erased: its personal data is gone and cannot be changed or "
              "restored; nothing was recorded").format(record=record)


def _partner_room_refusal() -> str:
    partner_commands = [f"!{c.name}" for c in spec.REGISTRY.values()
                        if c.where is not spec.Where.OPERATION]
    return tr("this is a partner room: here a partner reports on what was assigned to them "
              "({commands}); nothing else is recorded from it, and nothing was").format(
        commands=", ".join(sorted(partner_commands)))


def _refusal(limit: RateLimit, wait: float) -> Reply:
    return reply.error(tr(
        "too many commands: at most {per_minute} a minute ({burst} in a row) per member. "
        "Nothing was recorded for this one; send it again in {seconds} s.").format(
        per_minute=limit.per_minute, burst=limit.burst, seconds=max(1, round(wait))))


def _parse(msg: Incoming) -> tuple[spec.Command, list[Token]]:
    try:
        tokens = tokenize(msg.body)
    except CommandError as exc:
        raise _with_usage(exc, _guess_command(msg.body)) from None
    tokens = spec.record_first(tokens)
    cmd, used = _resolve(tokens)
    return cmd, tokens[used:]


def _kind(body: str) -> str:
    """The command's name for metrics: a declared command or "unknown" (bounded)."""
    try:
        return _resolve(spec.record_first(tokenize(body)))[0].name
    except CommandError:
        command = _guess_command(body)
        return command.name if command is not None else "unknown"


def _resolve(tokens: list[Token]) -> tuple[spec.Command, int]:
    words: list[str] = []
    for tok in tokens:
        if tok.kind != "word":
            break
        words.append(tok.value)
    if not words:
        raise CommandError(tr("that is not a command: start with / or ! and a command name, "
                              "e.g. !help"), show_usage=False)
    cmd, used = spec.resolve(words)
    if cmd is not None:
        return cmd, used
    name = words[0].lower()
    subs = spec.subcommands(name)
    if subs:
        options = "\n".join(c.usage for c in subs)
        close = difflib.get_close_matches(words[1].lower(), [c.path[-1] for c in subs], n=1
                                          ) if len(words) > 1 else []
        if close:
            needs = tr("{command} needs one of (did you mean {meant}?):\n{usages}")
        else:
            needs = tr("{command} needs one of:\n{usages}")
        raise CommandError(needs.format(command=f"/{name}", usages=options,
                                        meant=f"/{name} {close[0]}" if close else ""),
                           show_usage=False)
    hint = spec.suggest(name)
    if hint:
        unknown = tr("unknown command {command}. Did you mean {meant}? Type !help for the "
                     "list.")
    else:
        unknown = tr("unknown command {command}. Type !help for the list.")
    raise CommandError(unknown.format(command=f"/{name}", meant=f"/{hint}"),
                       show_usage=False)


async def _read_only(tx: Tx, room_id: str, op: Row, handling: Awaitable[Reply]) -> Reply:
    """A closed operation's record is final (its final report is out): commands that only
    read still answer, any that would change a record is refused and rolled back."""
    before = await audit_log.head(tx, room_id)
    result = await handling
    if await audit_log.head(tx, room_id) != before:
        raise CommandError(tr("{operation} is closed and its record is final: nothing was "
                              "recorded").format(operation=op["name"]), show_usage=False)
    return result


def _sibling_hint(cmd: spec.Command, rest: list[Token], message: str) -> str:
    """`/op phse action` binds to `/op` (which takes no words) and fails there; point to
    the subcommand the user most likely meant instead of only showing `/op`'s usage:
    `message` with the hint."""
    if len(cmd.path) != 1:
        return message
    siblings = [c.path[1] for c in spec.subcommands(cmd.path[0]) if len(c.path) == 2]
    if not siblings:
        return message
    if rest and rest[0].kind == "word":
        close = difflib.get_close_matches(rest[0].value.lower(), siblings, n=1)
        if close:
            return tr("{problem} (did you mean {meant}?)").format(
                problem=message, meant=f"/{cmd.path[0]} {close[0]}")
    if not rest:
        return tr("{problem}; see also {commands}").format(
            problem=message, commands=", ".join(f"/{cmd.path[0]} {s}" for s in siblings))
    return message


def _guess_command(body: str) -> spec.Command | None:
    """Which command a line that failed to tokenize was meant to be, to show its usage."""
    words = []
    for word in body.strip().lstrip("/!").split():
        if not word.isalpha():
            break
        words.append(word)
    return spec.resolve(words)[0]


def _with_usage(exc: CommandError, cmd: spec.Command | None) -> CommandError:
    if exc.usage is None and cmd is not None and exc.show_usage:
        exc.usage = cmd.usage
    return exc

