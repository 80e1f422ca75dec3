"""A real Synapse on 127.0.0.1 for tests, benchmarks and `opsroom up` — development only.

The bot itself never imports this module (tests/test_imports.py checks it): it talks to
whatever homeserver its config names, and a production install needs none of this.

Synapse lives in its own virtualenv (its dependency tree must not mix with the bot's),
cached under `$OPSROOM_CACHE` (default `~/.cache/opsroom`) so only the first run pays
for the install. It listens on loopback only, uses SQLite, hashes passwords with
`bcrypt_rounds: 4` and has every rate limit lifted, because tests register users and
send bursts of messages that a production server would rightly throttle.

With `federation=True` it also federates, as agencies' own homeservers do: the server is
named `localhost:PORT` (the port of its federation listener, so peers connect there with no
DNS SRV or .well-known lookup), that listener speaks TLS with a self-signed certificate
made by `openssl`, and peers accept it because certificate checks and the private-address
block are lifted for 127.0.0.1 only. Signing keys are fetched from the peer itself
(`trusted_key_servers: []`), never from matrix.org.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

SYNAPSE_VERSION = "1.163.2"
UNLIMITED = {"per_second": 10000, "burst_count": 100000}
RATE_LIMITS = {
    "rc_message": UNLIMITED,
    "rc_registration": UNLIMITED,
    "rc_registration_token_validity": UNLIMITED,
    "rc_login": {"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
    "rc_admin_redaction": UNLIMITED,
    "rc_joins": {"local": UNLIMITED, "remote": UNLIMITED},
    "rc_joins_per_room": UNLIMITED,
    "rc_3pid_validation": UNLIMITED,
    "rc_invites": {"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
    "rc_third_party_invite": UNLIMITED,
    "rc_media_create": UNLIMITED,
    "rc_presence": {"per_user": UNLIMITED},
    "rc_delayed_event_mgmt": UNLIMITED,
    "rc_reports": UNLIMITED,
    "rc_room_creation": UNLIMITED,
    "rc_key_requests": UNLIMITED,
}


def cache_dir() -> Path:
    return Path(os.environ.get("OPSROOM_CACHE", Path.home() / ".cache" / "opsroom"))


def synapse_python() -> Path:
    """The Synapse virtualenv's interpreter, installing it on first use (under a file lock,
    so parallel test processes don't install twice)."""
    venv = cache_dir() / f"synapse-{SYNAPSE_VERSION}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists():
        return python
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"synapse-{SYNAPSE_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return python
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"matrix-synapse=={SYNAPSE_VERSION}"],
            check=True,
        )
        stamp.write_text(SYNAPSE_VERSION)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate and key for a federation listener on loopback (peers do not verify
    it; Synapse only needs one to serve TLS)."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    if not cert.exists() or not key.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
        os.chmod(key, 0o600)
    return cert, key


class LocalSynapse:
    """One Synapse process on a loopback port, its state in `directory`: serving `localhost`,
    or with `federation=True` serving `localhost:FEDERATION_PORT` and federating with peers
    on 127.0.0.1 (see the module docstring)."""

    def __init__(self, directory: Path, port: int | None = None, *,
                 federation: bool = False) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.federation_port = free_port() if federation else None
        self.server_name = (f"localhost:{self.federation_port}" if federation
                            else "localhost")
        self._proc: subprocess.Popen[bytes] | None = None
        self._secret_file = self.directory / "shared_secret"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def shared_secret(self) -> str:
        return self._secret_file.read_text().strip()

    def write_config(self) -> Path:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._secret_file.exists():
            self._secret_file.write_text(secrets.token_hex(32))
            os.chmod(self._secret_file, 0o600)
        python = synapse_python()
        key = d / "signing.key"
        if not key.exists():
            subprocess.run(
                [str(python), "-m", "synapse._scripts.generate_signing_key", "-o", str(key)],
                check=True,
            )
        config = {
            "server_name": self.server_name,
            "public_baseurl": self.base_url + "/",
            "pid_file": str(d / "homeserver.pid"),
            "listeners": self._client_listeners(),
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "media_store_path": str(d / "media"),
            "signing_key_path": str(key),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": self.shared_secret + "m",
            "form_secret": self.shared_secret + "f",
            "report_stats": False,
            "enable_registration": False,
            "bcrypt_rounds": 4,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "log_config": str(self._log_config()),
            **RATE_LIMITS,
            **(self._federation_config() if self.federation_port
               else {"federation_domain_whitelist": []}),
        }
        path = d / "homeserver.yaml"
        # JSON is valid YAML, and the bot's own environment has no YAML writer.
        path.write_text(json.dumps(config, indent=2))
        return path

    def _federation_config(self) -> dict[str, Any]:
        cert, key = self_signed_certificate(self.directory)
        return {
            "listeners": [*self._client_listeners(), {
                "port": self.federation_port, "bind_addresses": ["127.0.0.1"],
                "type": "http", "tls": True, "x_forwarded": False,
                "resources": [{"names": ["federation"], "compress": False}],
            }],
            "tls_certificate_path": str(cert),
            "tls_private_key_path": str(key),
            "federation_verify_certificates": False,
            # The default block list holds 127.0.0.0/8; the allow list wins over it.
            "ip_range_whitelist": ["127.0.0.1"],
        }

    def _client_listeners(self) -> list[dict[str, Any]]:
        return [{
            "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
            "tls": False, "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }]

    def _log_config(self) -> Path:
        path = self.directory / "log.yaml"
        log = {
            "version": 1,
            "formatters": {"f": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "f",
                                  "filename": str(self.directory / "homeserver.log")}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        path.write_text(json.dumps(log))
        return path

    def _launch(self) -> subprocess.Popen[bytes]:
        config = self.write_config()
        with open(self.directory / "stdout.log", "ab") as out:
            return subprocess.Popen(
                [str(synapse_python()), "-m", "synapse.app.homeserver", "-c", str(config)],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.directory,
            )

    async def start(self, timeout: float = 60.0) -> None:
        self._proc = await asyncio.to_thread(self._launch)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(
                        f"Synapse exited with {self._proc.returncode}; see "
                        f"{self.directory / 'stdout.log'} and homeserver.log")
                try:
                    async with http.get(f"{self.base_url}/_matrix/client/versions") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        raise TimeoutError(f"Synapse did not answer on {self.base_url} within {timeout:.0f} s")

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)

    def send_signal(self, sig: int) -> None:
        """For tests that take the homeserver away: SIGKILL (down), SIGSTOP (unreachable:
        connections are accepted and never answered) and SIGCONT (back)."""
        assert self._proc is not None, "not running"
        self._proc.send_signal(sig)

    async def __aenter__(self) -> LocalSynapse:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def register_user(self, localpart: str, password: str, admin: bool = False) -> str:
        """Create a user through the shared-secret admin API; returns the Matrix ID."""
        url = f"{self.base_url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:
                nonce = (await resp.json())["nonce"]
            mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
            for part in (nonce, localpart, password, "admin" if admin else "notadmin"):
                mac.update(part.encode())
                if part != ("admin" if admin else "notadmin"):
                    mac.update(b"\x00")
            body = {"nonce": nonce, "username": localpart, "password": password,
                    "admin": admin, "mac": mac.hexdigest()}
            async with http.post(url, json=body) as resp:
                data = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"registering {localpart} failed: {resp.status} {data}")
        return data["user_id"]
