"""The `opsroom` command: run, check-config, up, audit verify, export, form, log consults.

Administrator mistakes (bad config, missing database, a database a newer opsroom has
migrated) end with one line naming the problem and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError, load, use_kek_file
from commands import EXPORT_FORMATS, FORM_FORMATS
from storage.migrations import DatabaseTooNew

if TYPE_CHECKING:
    from commands import RoomHeads
    from storage.audit import Head, VerifyResult
    from storage.witness import Witnessed

    RoomAudit = tuple[VerifyResult, Head | None, RoomHeads | None, str, Witnessed]

EXIT_TAMPERED = 1  # audit verify found tampering; export refused for records changed behind the log
EXIT_BAD_INPUT = 2
EXIT_NOT_WITNESSED = 3  # audit verify: the chain is intact but the room could not be read


def _config(args: argparse.Namespace) -> Config:
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"opsroom: config error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    use_kek_file(config)  # every Database.open below (and its workers) finds the KEK there
    return config


async def run_bot(config: Config) -> None:
    from bot.runtime import Bot
    from bot.services import services_for

    bot = Bot(config, services=services_for(config))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, bot.request_stop)
    # A SIGTERM while logging in (the homeserver may be down) must not wait for it either.
    starting = asyncio.create_task(bot.start())
    stopping = asyncio.create_task(bot.stopped())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await bot.close()
        return
    starting.result()
    print(f"opsroom: running as {bot.client.user_id} (device {bot.client.device_id})",
          flush=True)
    await bot.run()


def cmd_run(args: argparse.Namespace) -> int:
    from bot.crypto.cross_signing import CrossSigningMismatch

    config = _config(args)
    try:
        asyncio.run(run_bot(config))
    except CrossSigningMismatch as exc:
        print(f"opsroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ConfigError as exc:  # found only when used, e.g. metrics.listen already taken
        print(f"opsroom: config error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from storage.database import check_version

    config = _config(args)
    database = config.data_dir / "opsroom.db"
    if database.exists():
        check_version(database)  # a newer database stops `run`; say so now
    metrics = ("metrics on {}:{}".format(*config.metrics_listen) if config.metrics_listen
               else "metrics off")
    print(f"{args.config}: OK — {config.matrix.user_id} on {config.matrix.homeserver}, "
          f"data in {config.data_dir}, {metrics}")
    return 0


def _database_path(config: Config) -> Path:
    path = config.data_dir / "opsroom.db"
    if not path.exists():
        print(f"opsroom: no database at {path} (storage.data_dir)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
    return path


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from commands import (
        audit_findings,
        describe_mismatch,
        witness_acknowledged,
        witness_compare,
        witness_describe,
        witness_summary,
    )

    config = _config(args)
    rooms = asyncio.run(_audit_rooms(config, _database_path(config), args.room, args.local))
    bad = unwitnessed = 0
    for result, head, heads, why, data in rooms:
        check, problems = audit_findings(result, heads)
        problems += [describe_mismatch(m) for m in data.open]
        if problems:
            bad += 1
            print(f"{result.room_id}: FAILED ({result.entries} entries)")
            for problem in problems:
                print(f"  - {problem}")
            if data.open:
                print("  exports are refused until a lead acknowledges the records changed "
                      "behind the log with /audit accept in the room (they are then left out)")
        else:
            print(f"{result.room_id}: intact ({result.entries} entries)")
            if result.sealed_unreadable:
                print(f"  {result.sealed_unreadable} entries hold erased personal data "
                      "(sealed-unreadable): they verify, their values no longer open")
            if data.acknowledged:
                print(f"  {witness_acknowledged(data)}")
            if check is not None:
                print(f"  {witness_summary(check)}")
            else:
                unwitnessed += 1
                print(f"  not compared with the room's history: {why}")
        if head is not None:
            print(f"  audit head #{head.n} · {head.hash}")
    witnessed = {result.room_id: heads for result, _, heads, _, _ in rooms}
    for consult, consult_head in asyncio.run(_consult_rooms(_database_path(config), args.room)):
        heads = witnessed.get(consult.room_id)
        if heads is not None:  # the consultation heads posted in the room
            check = witness_compare(consult.hashes, heads.consults, complete=heads.complete)
            consult.problems += [witness_describe(p) for p in check.problems]
        if consult.problems:
            bad += 1
            print(f"{consult.room_id}: consultation log FAILED ({consult.entries} rows)")
            for problem in consult.problems:
                print(f"  - {problem}")
        else:
            print(f"{consult.room_id}: consultation log intact ({consult.entries} rows)")
        if consult_head is not None:
            print(f"  consultation log head #{consult_head.n} · {consult_head.hash}")
    if not rooms:
        print("no audit log entries")
    if bad:
        return 1
    return EXIT_NOT_WITNESSED if unwitnessed and not args.local else 0


async def _audit_rooms(config: Config, path: Path, only: str | None, local: bool
                       ) -> list[RoomAudit]:
    """Per room: the local chain check, its head, and the heads witnessed in the room (or
    why they could not be read). The history is read first and the chain after, so every
    head seen in the room was committed before the snapshot."""
    from bot.witness import stored_session
    from commands import WitnessUnavailable
    from storage import audit, witness
    from storage.database import Database

    db = await Database.open(path)
    try:
        async with db.snapshot() as tx:
            rooms = [only] if only else await audit.rooms(tx)
        heads: dict[str, RoomHeads] = {}
        why = dict.fromkeys(rooms, "--local given")
        if not local and rooms:
            try:
                async with stored_session(config) as history:
                    for room in rooms:
                        try:
                            heads[room] = await history.heads(room)
                        except WitnessUnavailable as exc:
                            why[room] = str(exc)
            except WitnessUnavailable as exc:
                why = dict.fromkeys(rooms, str(exc))
                print(f"opsroom: the rooms' history could not be read ({exc}); checking the "
                      "local chain only", file=sys.stderr)
        out: list[RoomAudit] = []
        async with db.snapshot() as tx:
            for room in rooms:
                out.append((await audit.verify_room(tx, room), await audit.head(tx, room),
                            heads.get(room), why[room], await witness.check(tx, room)))
        return out
    finally:
        await db.close()


async def _consult_rooms(path: Path, only: str | None) -> list[tuple[VerifyResult, Head | None]]:
    """Per room: the consultation log's own chain check and its head."""
    from storage import consultations
    from storage.database import read_snapshot

    async with read_snapshot(path) as tx:
        rooms = [only] if only else await consultations.rooms(tx)
        return [(await consultations.verify_room(tx, room), await consultations.head(tx, room))
                for room in rooms]


def cmd_log_consults(args: argparse.Namespace) -> int:
    """For the data-protection officer: who was shown which records in a room since a date.
    Reading the log is itself logged (verb log_review), as the law asks of any consultation."""
    from datetime import UTC, datetime

    config = _config(args)
    path = _database_path(config)
    try:
        since = datetime.fromisoformat(args.since)
    except ValueError:
        print(f"opsroom: --since: expected a date like 2026-11-01 (got {args.since!r})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    print(asyncio.run(_log_consults(path, args.room, since, datetime.now(UTC))), end="")
    return 0


async def _log_consults(path: Path, room: str, since: datetime, now: datetime) -> str:
    import getpass
    from dataclasses import replace

    from storage import consultations
    from storage.codec import to_db_time
    from storage.database import Database
    from storage.tx import Tx

    db = await Database.open(path)
    try:
        rows = await db.read(lambda tx: consultations.since(tx, room, to_db_time(since)))
        lines = [f"consultation log of {room} since {to_db_time(since)}: {len(rows)} rows"]
        for row in rows:
            members = ", ".join(json.loads(row["members"])) if row["members"] else "?"
            lines.append(
                f"#{row['n']} {row['at']} {row['sender']} (device {row['device'] or '-'}) "
                f"{row['verb']} \"{row['scope']}\" · {row['records']} records · to "
                f"{row['recipients']} [{members}] · purpose: {row['purpose']}")
        text = "\n".join(lines) + "\n"
        reviewer = f"{getpass.getuser()} (opsroom log consults)"
        review = consultations.Consultation(
            room_id=room, at=to_db_time(now), sender=reviewer, device=None, event_id=None,
            verb=consultations.LOG_REVIEW,
            scope=f"opsroom log consults --since {to_db_time(since)}",
            records=len(rows), members_hash="", purpose="data-protection review",
            shown=text.encode("utf-8"), recipients="the command line")

        async def logged(tx: Tx) -> Head | None:
            listed = await consultations.members_hash(tx, (reviewer,))
            return await consultations.append(tx, replace(review, members_hash=listed))

        head = await db.write(logged)
        assert head is not None
        return text + f"(this review is logged as row #{head.n})\n"
    finally:
        await db.close()


def cmd_export(args: argparse.Namespace) -> int:
    from commands import ExportRefused, i18n
    from exports.offline import export_to_file

    config = _config(args)
    path = _database_path(config)
    left_out: list[str] = []
    try:
        lang = i18n.choose(args.lang) if args.lang else config.settings.language
        out = asyncio.run(export_to_file(path, args.room, args.format, args.tlp, args.output,
                                         left_out=left_out, lang=lang))
    except ValueError as exc:
        print(f"opsroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ExportRefused as refused:
        print(f"opsroom: {refused.message}", file=sys.stderr)
        return EXIT_TAMPERED
    if left_out:
        print("left out, changed behind the audit log (acknowledged by a lead): "
              f"{', '.join(left_out)}", file=sys.stderr)
    print(out)
    return 0


def cmd_form(args: argparse.Namespace) -> int:
    from commands import validate
    from exports.offline import form_to_file

    config = _config(args)
    path = _database_path(config)
    try:
        seq = validate.record_ref(args.form, "F")
        out = asyncio.run(form_to_file(path, config.settings, args.room, seq, args.format,
                                       args.output))
    except (ValueError, LookupError) as exc:
        print(f"opsroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(out)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from bot.up import main as up_main

    return asyncio.run(up_main(Path(args.dir)))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opsroom", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot")
    run.add_argument("-c", "--config", type=Path, required=True)
    run.set_defaults(fn=cmd_run)
    check = sub.add_parser("check-config", help="check a config file")
    check.add_argument("-c", "--config", type=Path, required=True)
    check.set_defaults(fn=cmd_check_config)
    up = sub.add_parser("up", help="local homeserver + bot + demo accounts on loopback")
    up.add_argument("--dir", default="var/up", help="where the demo keeps its state")
    up.set_defaults(fn=cmd_up)
    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the tamper-evident audit log against the heads posted in the rooms",
        description="Checks each room's hash chain, holds its operation's records against "
        "the chain's after-images (naming any row changed, added or deleted behind the log), "
        "and compares the chain with the audit heads the "
        "bot posted in the room (read with the bot's stored session and a copy of its crypto "
        "store, so it is safe while the bot runs). Exit status: 0 intact, 1 tampering found, "
        "2 bad input, 3 intact but the room's history could not be read.")
    verify.add_argument("-c", "--config", type=Path, required=True)
    verify.add_argument("--room", help="only this room")
    verify.add_argument("--local", action="store_true",
                        help="check the local chain only, without reading the rooms")
    verify.set_defaults(fn=cmd_audit_verify)
    export = sub.add_parser(
        "export", help="export an operation offline",
        description="Writes the same file as /export in the room. Refused (exit 1, naming "
        "them) while records changed behind the audit log are not acknowledged by a lead "
        "(/audit accept in the room); acknowledged ones are left out and named on stderr.")
    export.add_argument("-c", "--config", type=Path, required=True)
    export.add_argument("--room", required=True)
    export.add_argument("--format", default="md", choices=EXPORT_FORMATS)
    export.add_argument("--tlp", default=None)
    export.add_argument("--lang", default=None,
                        help="language of the file's headings (default: [defaults] language)")
    export.add_argument("-o", "--output", type=Path, default=None)
    export.set_defaults(fn=cmd_export)
    form = sub.add_parser(
        "form", help="write a request form draft's file offline",
        description="Writes the same file as /form F-n export in the room (docx, pdf marked "
                    "DRAFT, or canonical JSON), from the draft as it stands now.")
    form.add_argument("-c", "--config", type=Path, required=True)
    form.add_argument("--room", required=True)
    form.add_argument("--form", required=True, help="the draft, e.g. F-3")
    form.add_argument("--format", default="docx", choices=FORM_FORMATS)
    form.add_argument("-o", "--output", type=Path, default=None)
    form.set_defaults(fn=cmd_form)
    logs = sub.add_parser("log", help="the consultation and disclosure log")
    logs_sub = logs.add_subparsers(dest="log_command", required=True)
    consults = logs_sub.add_parser(
        "consults", help="who was shown which records in a room, for the data-protection "
        "officer", description="Prints the room's consultation log rows from --since on: "
        "who, device, when, consult/disclose/log_review, the command and its option names, "
        "how many records, to whom (the room and its members then) and the purpose. This "
        "review is itself written to the log.")
    consults.add_argument("-c", "--config", type=Path, required=True)
    consults.add_argument("--room", required=True)
    consults.add_argument("--since", required=True, help="a date or time, e.g. 2026-11-01")
    consults.set_defaults(fn=cmd_log_consults)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("nio", "peewee", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except DatabaseTooNew as exc:  # any command that opens the database
        print(f"opsroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
