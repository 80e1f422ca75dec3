"""What an operator's Prometheus and health checks see (served on loopback, no
homeserver; tests/integration/test_metrics.py scrapes a running bot)."""

from __future__ import annotations

import aiohttp
import pytest

from bot.config import ConfigError
from bot.metrics import Metrics
from commands.core.dispatcher import Dispatcher
from commands.core.types import Settings
from tests.harness import Harness


async def get(metrics: Metrics, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{metrics.port}{path}", headers=headers) as resp:
        return resp.status, await resp.text()


async def test_with_a_token_metrics_are_served_only_to_its_holder() -> None:
    metrics = Metrics()
    metrics.command("hhour", "ok")
    await metrics.serve("127.0.0.1", 0, "s3cret-token-0123456789")
    try:
        assert (await get(metrics, "/metrics"))[0] == 401
        status, body = await get(metrics, "/metrics", "another-token-0123456789")
        assert status == 401 and "hhour" not in body
        status, body = await get(metrics, "/metrics", "s3cret-token-0123456789")
        assert status == 200 and 'command="hhour"' in body
        assert (await get(metrics, "/healthz"))[0] == 503  # open to probes: not synced yet
    finally:
        await metrics.close()


async def test_healthz_is_503_until_a_sync_and_again_when_syncing_stops() -> None:
    metrics = Metrics(max_sync_age=5)
    await metrics.serve("127.0.0.1", 0)
    try:
        status, body = await get(metrics, "/healthz")
        assert status == 503 and '"last_sync_age_seconds": null' in body
        metrics.synced()
        status, body = await get(metrics, "/healthz")
        assert status == 200 and '"status": "ok"' in body
        metrics._last_sync -= 10  # type: ignore[operator]  # ten seconds without a sync
        status, body = await get(metrics, "/healthz")
        assert status == 503 and '"last_sync_age_seconds": 10.' in body
    finally:
        await metrics.close()


async def test_metrics_show_commands_commits_and_queues(h: Harness) -> None:
    metrics = Metrics()
    h.dispatcher = Dispatcher(h.db, Settings(), h.clock, observe=metrics.command)
    h.db.on_commit = metrics.commit
    metrics.track_send_queue(lambda: 7)
    metrics.set_backlog(42)
    metrics.reply_sent(0.2)
    await h.ok('!task add "x"')
    await h.fails("!task done 99")
    await metrics.serve("127.0.0.1", 0)
    try:
        status, text = await get(metrics, "/metrics")
    finally:
        await metrics.close()
    assert status == 200
    assert 'opsroom_commands_total{command="task add",outcome="ok"} 1.0' in text
    assert 'opsroom_commands_total{command="task done",outcome="error"} 1.0' in text
    assert "opsroom_commit_seconds_count 2.0" in text
    assert "opsroom_send_queue_events 7.0" in text
    assert "opsroom_backlog_events 42.0" in text
    assert "opsroom_reply_latency_seconds_count 1.0" in text
    assert "opsroom_sync_lag_seconds" in text and "opsroom_undecryptable_events" in text


def test_each_bot_counts_on_its_own() -> None:
    one, two = Metrics(), Metrics()
    one.command("task add", "ok")
    assert one.commands.labels(command="task add", outcome="ok")._value.get() == 1
    assert two.commands.labels(command="task add", outcome="ok")._value.get() == 0


async def test_an_address_in_use_is_a_config_error_naming_the_key() -> None:
    first = Metrics()
    await first.serve("127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match=r"^metrics\.listen: cannot listen on"):
            await Metrics().serve("127.0.0.1", first.port)  # type: ignore[arg-type]
    finally:
        await first.close()

