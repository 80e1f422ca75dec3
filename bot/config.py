"""config.toml → typed settings, or a `ConfigError` naming the key and what it expects.

An administrator reading "matrix.homeserver: expected an http(s) URL" fixes the file in one
go; a traceback would send them to the source. Unknown keys are errors too, so a typo
(`alowed_inviters`) does not silently fall back to a default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from commands import (
    BoardSchedule,
    ProviderDirectoryError,
    RateLimit,
    Settings,
    i18n,
    load_providers,
    timeparse,
    validate,
)
from storage.keystore import KEK_ENV
from storage.retention import DEFAULT_PERIODS, PeriodError, parse_period


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    password: str | None
    access_token: str | None
    device_name: str


DEFAULT_LIMIT = RateLimit(per_minute=30, burst=20)


@dataclass(frozen=True)
class Config:
    matrix: MatrixConfig
    data_dir: Path
    allowed_inviters: tuple[str, ...]
    settings: Settings
    undecryptable_timeout: float
    path: Path | None = None
    slow_workers: int = 2  # exports built at once (see bot.slow_work)
    limits: RateLimit = DEFAULT_LIMIT
    processed_retention_days: int = 90
    # The consultation log's rows are deleted at the end of this many years after the
    # year they were made (BDSG §76(4): 1, the end of the following year).
    consultation_log_years: int = 1
    # Who is told of a retention review when the bot has left the operation's room: the
    # data-protection contact's room. None: a warning in the bot's log instead.
    data_protection_room: str | None = None
    kek_file: Path | None = None  # the key wrapping the subjects' keys; None: beside the DB
    metrics_listen: tuple[str, int] | None = None  # host, port; None: no metrics server
    metrics_token: str | None = None  # bearer token /metrics asks for (needed off loopback)
    max_sync_age: float = 90.0  # /healthz is 503 when the last good sync is older
    # When the action-day board posts itself.
    boards: BoardSchedule = field(default_factory=BoardSchedule)


MAX_SLOW_WORKERS = 16
MIN_TOKEN = 16  # metrics.bearer_token: shorter is guessable
KNOWN = {
    "matrix": {"homeserver", "user_id", "password", "access_token", "device_name"},
    "storage": {"data_dir"},
    "access": {"allowed_inviters", "lead_level", "require_encryption", "require_cross_signed"},
    "defaults": {"timezone", "tlp", "language"},
    "runtime": {"undecryptable_timeout", "slow_workers", "processed_retention_days"},
    "limits": {"commands_per_minute", "burst"},
    "metrics": {"listen", "max_sync_age", "bearer_token"},
    "board": {"before_h", "with_sitreps"},
    "deconfliction": {"enabled", "grace_minutes"},
    "forms": {"providers"},
    "personal_data": {"consultation_log_years", "suspect", "victim", "witness", "other",
                      "contact", "kek_file"},
}
MAX_LOG_YEARS = 30
_ROOM_ID_RE = re.compile(r"^![^:\s]+:[A-Za-z0-9.\-\[\]:]+$")


def _get(data: dict[str, Any], section: str, key: str, kind: type, default: Any = ...) -> Any:
    value = data.get(section, {}).get(key, default)
    name = f"{section}.{key}"
    if value is ...:
        raise ConfigError(f"{name}: missing; expected {kind.__name__}")
    if value is None or (kind is float and isinstance(value, int) and not isinstance(value, bool)):
        return float(value) if value is not None else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def parse(data: dict[str, Any], base: Path | None = None) -> Config:
    for section, body in data.items():
        if section not in KNOWN:
            raise ConfigError(f"{section}: unknown section (known: {', '.join(KNOWN)})")
        if not isinstance(body, dict):
            raise ConfigError(f"{section}: expected a [{section}] table")
        for key in body:
            if key not in KNOWN[section]:
                raise ConfigError(f"{section}.{key}: unknown key "
                                  f"(known: {', '.join(sorted(KNOWN[section]))})")
    homeserver = _get(data, "matrix", "homeserver", str)
    parts = urlsplit(homeserver)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("matrix.homeserver: expected an http(s) URL, "
                          "e.g. https://matrix.police.example")
    user_id = _get(data, "matrix", "user_id", str)
    try:
        validate.mxid(user_id)
    except ValueError:
        raise ConfigError("matrix.user_id: expected a Matrix ID like @opsroom:police.example"
                          ) from None
    password = _get(data, "matrix", "password", str, None)
    token = _get(data, "matrix", "access_token", str, None)
    device_name = _get(data, "matrix", "device_name", str, "opsroom")
    data_dir = Path(_get(data, "storage", "data_dir", str, "./var/opsroom"))
    if base is not None and not data_dir.is_absolute():
        data_dir = base / data_dir
    # After the first start the session and the cross-signing keys are in data_dir, so the
    # password may be taken out of the file.
    if not password and not token and not (data_dir / "session.json").exists():
        raise ConfigError("matrix.password: missing; give a password or matrix.access_token "
                          "(needed until the bot's first start has saved its session)")
    inviters = _get(data, "access", "allowed_inviters", list)
    if not inviters or not all(isinstance(i, str) and i.startswith("@") for i in inviters):
        raise ConfigError('access.allowed_inviters: expected a non-empty list of Matrix ID '
                          'patterns, e.g. ["@*:police.example"]')
    lead_level = _get(data, "access", "lead_level", int, 50)
    if not 0 <= lead_level <= 100:
        raise ConfigError("access.lead_level: expected a power level from 0 to 100")
    require_encryption = _get(data, "access", "require_encryption", bool, True)
    require_cross_signed = _get(data, "access", "require_cross_signed", bool, True)
    deconfliction = _get(data, "deconfliction", "enabled", bool, True)
    grace = _get(data, "deconfliction", "grace_minutes", int, 10)
    if grace < 0:
        raise ConfigError("deconfliction.grace_minutes: expected minutes >= 0 (how long a hit "
                          "waits before the other operation is told; 0: at once)")
    tz = _get(data, "defaults", "timezone", str, "UTC")
    try:
        tz = validate.timezone(tz)
    except ValueError:
        raise ConfigError("defaults.timezone: expected an IANA zone, e.g. Europe/Paris") from None
    tlp = _get(data, "defaults", "tlp", str, "AMBER")
    try:
        tlp = validate.tlp(tlp)
    except ValueError:
        raise ConfigError("defaults.tlp: expected one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
                          ) from None
    language = _get(data, "defaults", "language", str, "en")
    try:
        language = i18n.choose(language)
    except ValueError:
        raise ConfigError(f"defaults.language: expected one of {i18n.choices()}") from None
    timeout = _get(data, "runtime", "undecryptable_timeout", float, 300.0)
    if timeout <= 0:
        raise ConfigError("runtime.undecryptable_timeout: expected seconds > 0")
    slow_workers = _get(data, "runtime", "slow_workers", int, 2)
    if not 1 <= slow_workers <= MAX_SLOW_WORKERS:
        raise ConfigError(f"runtime.slow_workers: expected an integer from 1 to "
                          f"{MAX_SLOW_WORKERS} (exports built at once, each in a process)")
    retention = _get(data, "runtime", "processed_retention_days", int, 90)
    if retention < 1:
        raise ConfigError("runtime.processed_retention_days: expected a number of days >= 1")
    log_years = _get(data, "personal_data", "consultation_log_years", int, 1)
    if not 0 <= log_years <= MAX_LOG_YEARS:
        raise ConfigError(f"personal_data.consultation_log_years: expected whole years from 0 "
                          f"to {MAX_LOG_YEARS} (the log is deleted at the end of that many "
                          "years after the year it was made; 1 by default)")
    periods = _retention_periods(data)
    contact = _get(data, "personal_data", "contact", str, None)
    if contact is not None:
        if not _ROOM_ID_RE.match(contact):
            raise ConfigError("personal_data.contact: expected the data-protection contact's "
                              f"room ID, e.g. !dpo:police.example (got {contact!r})")
    kek_file = _get(data, "personal_data", "kek_file", str, None)
    kek_path = None
    if kek_file is not None:
        if not kek_file.strip():
            raise ConfigError("personal_data.kek_file: expected a file path (absent: beside "
                              "the database)")
        kek_path = Path(kek_file)
        if base is not None and not kek_path.is_absolute():
            kek_path = base / kek_path
    per_minute = _get(data, "limits", "commands_per_minute", int, DEFAULT_LIMIT.per_minute)
    if per_minute < 0:
        raise ConfigError("limits.commands_per_minute: expected a number >= 0 (0: no limit)")
    burst = _get(data, "limits", "burst", int, DEFAULT_LIMIT.burst)
    if burst < 1:
        raise ConfigError("limits.burst: expected a number of commands >= 1")
    listen = _get(data, "metrics", "listen", str, None)
    max_sync_age = _get(data, "metrics", "max_sync_age", float, 90.0)
    if max_sync_age <= 0:
        raise ConfigError("metrics.max_sync_age: expected seconds > 0")
    metrics_listen = None if listen is None else _host_port(listen, "metrics.listen")
    metrics_token = _get(data, "metrics", "bearer_token", str, None)
    if metrics_token is not None and (len(metrics_token) < MIN_TOKEN
                                      or not metrics_token.isascii()
                                      or any(c.isspace() for c in metrics_token)):
        raise ConfigError(f"metrics.bearer_token: expected at least {MIN_TOKEN} ASCII "
                          "characters without spaces (e.g. from `openssl rand -hex 32`)")
    if metrics_listen is not None and metrics_token is None and not _loopback(
            metrics_listen[0]):
        raise ConfigError(f"metrics.listen: {metrics_listen[0]} is reachable beyond this "
                          "machine; set metrics.bearer_token too, or listen on 127.0.0.1")
    before_h = _get(data, "board", "before_h", str, "15m")
    if before_h.strip().lower() == "off":
        board_before_h = None
    else:
        try:
            board_before_h = timeparse.parse_duration(before_h)
        except timeparse.TimeError:
            raise ConfigError('board.before_h: expected a duration before H-hour such as '
                              f'"15m" or "1h", or "off" (got {before_h!r})') from None
    with_sitreps = _get(data, "board", "with_sitreps", bool, True)
    providers_file = _get(data, "forms", "providers", str, None)
    providers = None
    if providers_file is not None:
        path = Path(providers_file)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            providers = load_providers(path)
        except ProviderDirectoryError as exc:
            raise ConfigError(f"forms.providers: {exc}") from None
    return Config(
        matrix=MatrixConfig(homeserver.rstrip("/"), user_id, password, token, device_name),
        data_dir=data_dir,
        allowed_inviters=tuple(inviters),
        settings=Settings(lead_level=lead_level, default_timezone=tz, default_tlp=tlp,
                          require_encryption=require_encryption,
                          require_cross_signed=require_cross_signed,
                          deconfliction=deconfliction,
                          deconfliction_grace=timedelta(minutes=grace),
                          language=language, providers=providers,
                          retention_periods=periods),
        undecryptable_timeout=timeout,
        slow_workers=slow_workers,
        limits=RateLimit(per_minute=per_minute, burst=burst),
        processed_retention_days=retention,
        consultation_log_years=log_years,
        data_protection_room=contact,
        kek_file=kek_path,
        metrics_listen=metrics_listen,
        metrics_token=metrics_token,
        max_sync_age=max_sync_age,
        boards=BoardSchedule(before_h=board_before_h, with_sitreps=with_sitreps),
    )


def _retention_periods(data: dict[str, Any]) -> dict[str, str]:
    """Review period per data-subject category, each written like "3y", "18m" or "30d"."""
    out = dict(DEFAULT_PERIODS)
    for category in out:
        raw = _get(data, "personal_data", category, str, out[category])
        try:
            out[category] = parse_period(raw)
        except PeriodError:
            raise ConfigError(f'personal_data.{category}: expected a review period after the '
                              f'operation\'s closure such as "3y", "18m" or "30d" (got {raw!r})'
                              ) from None
    return out


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # another host name: it may resolve to anything
        return False


def _host_port(value: str, name: str) -> tuple[str, int]:
    """"127.0.0.1:9464" or "[::1]:9464"."""
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{name}: expected HOST:PORT, e.g. 127.0.0.1:9464 (got {value!r})")
    return host, int(port)


def load(path: Path | str) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    config = parse(data, base=path.parent.resolve())
    return Config(**{**config.__dict__, "path": path})


def use_kek_file(config: Config) -> Path | None:
    """Where the KEK is, also put in the environment: export workers are processes of their
    own that open the database (and its key store) without this config."""
    if config.kek_file is not None:
        os.environ[KEK_ENV] = str(config.kek_file)
    return config.kek_file


def exposed(path: Path) -> bool:
    """Whether others than the bot's user can read the file (it may hold the password)."""
    return bool(path.stat().st_mode & 0o077)
