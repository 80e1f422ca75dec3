"""What the people who run the bot watch: Prometheus metrics and a health check.

Served only when `[metrics] listen` is set, on that address, by aiohttp on the bot's own
event loop (no thread, and it stops with the bot). Each Bot has its own registry, so
several bots in one process (the tests) do not share counters. The rest of the code
does not know about Prometheus: storage and the dispatcher take plain callbacks
(`Database.on_commit`, `Dispatcher(observe=...)`), which this module provides.

`/healthz` answers 200 while the last good sync is younger than `metrics.max_sync_age`
(a long-poll returns at least every 30 s), 503 before the first sync or when syncing has
stopped working: the bot is then not hearing commands, whatever else is fine.

Beyond loopback the config demands `metrics.bearer_token` (bot.config): the counters name
the commands each room runs and when, which is operational intelligence to whoever can
reach the port. With a token, /metrics answers 401 without `Authorization: Bearer …`;
/healthz stays open, for probes, as it tells only whether the bot syncs.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.config import ConfigError

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)


class Metrics:
    def __init__(self, max_sync_age: float = 90.0) -> None:
        self.max_sync_age = max_sync_age
        self.registry = CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "opsroom_commands", "Commands handled, by command and outcome "
            "(ok, error: answered with what was wrong, refused: over the rate limit)",
            ["command", "outcome"], registry=r)
        self.reply_latency = Histogram(
            "opsroom_reply_latency_seconds", "From a command being sent (origin_server_ts) "
            "to the bot's reply being accepted by the homeserver", buckets=LATENCY_BUCKETS,
            registry=r)
        self.commit_time = Histogram(
            "opsroom_commit_seconds", "Duration of each database COMMIT (group commit: one "
            "per batch of writes)", buckets=COMMIT_BUCKETS, registry=r)
        self.committed_writes = Counter(
            "opsroom_committed_writes", "Writes made durable by the COMMITs", registry=r)
        self.sync_lag = Gauge(
            "opsroom_sync_lag_seconds", "Seconds since the last sync was handled (since "
            "start while there was none)", registry=r)
        self.sync_lag.set_function(self._sync_lag)
        self.backlog = Gauge(
            "opsroom_backlog_events", "Events fetched and not yet handled", registry=r)
        self.undecryptable = Gauge(
            "opsroom_undecryptable_events", "Commands waiting for their decryption keys",
            registry=r)
        self.send_queue = Gauge(
            "opsroom_send_queue_events", "Replies and reactions queued or being sent",
            registry=r)
        self._started = time.monotonic()
        self._last_sync: float | None = None
        self._runner: web.AppRunner | None = None
        self._token: str | None = None
        self.port: int | None = None  # the port served on, once serving

    # -- what the bot reports --------------------------------------------------------
    def command(self, kind: str, outcome: str) -> None:
        self.commands.labels(command=kind, outcome=outcome).inc()

    def reply_sent(self, latency_s: float) -> None:
        self.reply_latency.observe(latency_s)

    def commit(self, seconds: float, writes: int) -> None:
        self.commit_time.observe(seconds)
        self.committed_writes.inc(writes)

    def synced(self) -> None:
        self._last_sync = time.monotonic()

    def set_backlog(self, events: int) -> None:
        self.backlog.set(events)

    def set_undecryptable(self, events: int) -> None:
        self.undecryptable.set(events)

    def track_send_queue(self, depth: Callable[[], int]) -> None:
        self.send_queue.set_function(depth)

    def sync_age(self) -> float | None:
        """Seconds since the last good sync, None before the first."""
        return None if self._last_sync is None else time.monotonic() - self._last_sync

    def _sync_lag(self) -> float:
        age = self.sync_age()
        return time.monotonic() - self._started if age is None else age

    # -- serving ---------------------------------------------------------------------
    async def serve(self, host: str, port: int, bearer_token: str | None = None) -> None:
        self._token = bearer_token
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(f"metrics.listen: cannot listen on {host}:{port} "
                              f"({exc.strerror or exc})") from None
        self._runner = runner
        self.port = runner.addresses[0][1] if runner.addresses else port
        log.info("metrics on http://%s:%d/metrics, health on /healthz", host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._token is not None and not hmac.compare_digest(
                request.headers.get("Authorization", "").encode(),
                f"Bearer {self._token}".encode()):
            return web.Response(status=401, text="a bearer token is required\n",
                                headers={"WWW-Authenticate": 'Bearer realm="opsroom"'})
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        age = self.sync_age()
        healthy = age is not None and age <= self.max_sync_age
        body = {"status": "ok" if healthy else "unhealthy",
                "last_sync_age_seconds": None if age is None else round(age, 3),
                "max_sync_age_seconds": self.max_sync_age}
        return web.Response(status=200 if healthy else 503, text=json.dumps(body),
                             content_type="application/json")
