"""The `opsroom` command: run, check-config, up, audit verify, export.

Administrator mistakes (bad config, missing database) end with one line naming the
problem and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load

EXIT_BAD_INPUT = 2


def _config(args: argparse.Namespace) -> Config:
    try:
        return load(args.config)
    except ConfigError as exc:
        print(f"opsroom: config error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None


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
    config = _config(args)
    asyncio.run(run_bot(config))
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _config(args)
    print(f"{args.config}: OK — {config.matrix.user_id} on {config.matrix.homeserver}, "
          f"data in {config.data_dir}")
    return 0


def _database_path(config: Config) -> Path:
    path = config.data_dir / "opsroom.db"
    if not path.exists():
        print(f"opsroom: no database at {path} (storage.data_dir)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
    return path


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from storage import audit
    from storage.database import Database

    path = _database_path(_config(args))

    async def verify() -> list[audit.VerifyResult]:
        db = await Database.open(path)
        try:
            async with db.snapshot() as tx:
                if args.room:
                    return [await audit.verify_room(tx, args.room)]
                return await audit.verify_all(tx)
        finally:
            await db.close()

    results = asyncio.run(verify())
    bad = 0
    for result in results:
        if result.ok:
            print(f"{result.room_id}: intact ({result.entries} entries)")
        else:
            bad += 1
            print(f"{result.room_id}: FAILED ({result.entries} entries)")
            for problem in result.problems:
                print(f"  - {problem}")
    if not results:
        print("no audit log entries")
    return 1 if bad else 0


def cmd_export(args: argparse.Namespace) -> int:
    from exports.offline import export_to_file

    path = _database_path(_config(args))
    try:
        out = asyncio.run(export_to_file(path, args.room, args.format, args.tlp, args.output))
    except ValueError as exc:
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
    verify = audit_sub.add_parser("verify", help="check the tamper-evident audit log")
    verify.add_argument("-c", "--config", type=Path, required=True)
    verify.add_argument("--room", help="only this room")
    verify.set_defaults(fn=cmd_audit_verify)
    export = sub.add_parser("export", help="export an operation offline")
    export.add_argument("-c", "--config", type=Path, required=True)
    export.add_argument("--room", required=True)
    export.add_argument("--format", default="md", choices=["md", "json", "csv", "stix", "pdf"])
    export.add_argument("--tlp", default=None)
    export.add_argument("-o", "--output", type=Path, default=None)
    export.set_defaults(fn=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("nio", "peewee", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
