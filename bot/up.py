"""`opsroom up`: a homeserver on loopback, the bot and demo accounts, for trying it out.

State (Synapse's database, passwords, the bot's data) lives in one directory, so a second
`make up` brings back the same accounts, rooms and records.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from pathlib import Path

from bot.config import load
from bot.dev_homeserver import LocalSynapse, free_port
from bot.runtime import Bot
from bot.services import services_for

ACCOUNTS = ("opsroom", "lead", "officer")


def _state(directory: Path) -> dict:
    path = directory / "up.json"
    if path.exists():
        return json.loads(path.read_text())
    state = {"port": free_port(), "passwords": {a: secrets.token_urlsafe(12) for a in ACCOUNTS},
             "registered": []}
    path.write_text(json.dumps(state, indent=2))
    os.chmod(path, 0o600)
    return state


def _save(directory: Path, state: dict) -> None:
    (directory / "up.json").write_text(json.dumps(state, indent=2))


# The demo's provider directory: the fictional example entries shipped with the code.
EXAMPLE_PROVIDERS = Path(__file__).resolve().parent.parent / "providers.example.toml"


def _write_config(directory: Path, hs: LocalSynapse, password: str) -> Path:
    path = directory / "config.toml"
    path.write_text(
        "# written by `opsroom up` for the local demo homeserver\n"
        f'[matrix]\nhomeserver = "{hs.base_url}"\nuser_id = "@opsroom:localhost"\n'
        f'password = "{password}"\ndevice_name = "opsroom"\n\n'
        '[storage]\ndata_dir = "bot"\n\n'
        '[access]\nallowed_inviters = ["@*:localhost"]\nlead_level = 50\n'
        "require_encryption = true\nrequire_cross_signed = true\n\n"
        '[defaults]\ntimezone = "UTC"\ntlp = "AMBER"\n\n'
        "[deconfliction]\nenabled = true\n\n"
        f'[forms]\nproviders = "{EXAMPLE_PROVIDERS}"\n')
    os.chmod(path, 0o600)
    return path


async def main(directory: Path) -> int:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = _state(directory)
    print("opsroom up: installing/starting Synapse on 127.0.0.1 (first run installs it, "
          "about a minute)…", flush=True)
    hs = LocalSynapse(directory / "synapse", port=state["port"])
    await hs.start()
    try:
        for account in ACCOUNTS:
            if account not in state["registered"]:
                await hs.register_user(account, state["passwords"][account],
                                       admin=account == "lead")
                state["registered"].append(account)
                _save(directory, state)
        config = load(_write_config(directory, hs, state["passwords"]["opsroom"]))
        bot = Bot(config, services=services_for(config))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bot.request_stop)
        await bot.start()
        pw = state["passwords"]
        print(f"""
opsroom is running.

  Homeserver:  {hs.base_url}   (loopback only)
  Bot:         @opsroom:localhost   (device {bot.client.device_id}, cross-signed)
  Demo lead:   lead      password {pw['lead']}
  Demo officer: officer  password {pw['officer']}

Try it: in Element (or any Matrix client) choose "custom homeserver" {hs.base_url},
log in as lead, create an ENCRYPTED room, invite @opsroom:localhost, then type:
  !help
  !op init "Operation Demo" code=DEMO tz=Europe/Paris
Invite officer to see the officer role. The bot obeys only sessions their owner has
cross-signed: let Element set up encryption ("verify this device" / recovery key) when
it asks at first login, or the bot answers that your device is not verified.
Ctrl-C stops the bot and the homeserver.
State is kept in {directory}.
""", flush=True)
        await bot.run()
    finally:
        await hs.stop()
    print("opsroom up: stopped.")
    return 0
