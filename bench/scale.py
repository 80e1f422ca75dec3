"""Many rooms at once (issue 12, "Numbers"): opsroom beside a bare nio echo bot (see
bench/echo.py), both on one local Synapse in the same run.

1. Burst: BURST_ROOMS officers, each in a room of their own, send a command at the same
   moment, ROUNDS times, with ROOMS rooms joined by each bot. Reply latency p50/p99 as the
   officer sees it (send → reply synced) and by the server's clock (command → reply
   `origin_server_ts`, free of the benchmark's own clients); and the events the bot writes
   per command between the first command and the last reply of a round (goal ≤ 1.2), with
   the ✅ that follow once the round is over. A round ends when every ✅ is in, so no round
   sees the one before it.
2. Restart to first answer with ROOMS rooms joined: the bot is started (in this process) and
   a command sent at once; time from start to the reply. The echo bot resumes its stored
   session and sync token, as a restarted process would.
3. RSS: each bot runs as its own process (`python -m bot.cli run`, `python -m bench.scale
   echo …`), joins invites until it is in RSS_ROOMS rooms, answers a command; then VmRSS
   and VmHWM (peak) from /proc.
4. Invites: INVITES invites sent to the bot as fast as the server takes them while officers
   send commands in rooms it has already joined (one each time another quarter of the
   invites has gone out, the last right after the last invite); time to each answer.

Only the burst rooms are a bot's own. The rest are made by one "filler" user who invites
both bots to each, so setting up costs half the room creations; nothing is ever said in
them, and only the bot being measured runs during 2-4. All rooms are encrypted.

Sizes: OPSROOM_BENCH_SCALE=small for a quick smoke run; OPSROOM_BENCH_ROOMS, _RSS_ROOMS,
_INVITES, _BURST_ROOMS, _ROUNDS override one size each.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from nio import (
    AsyncClient,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomSendResponse,
)

from bench.echo import ResumableEcho
from bench.roundtrip import _stats
from bot.config import Config
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.integration.matrix_helpers import (
    ENCRYPTION,
    TestClient,
    is_reaction_to,
    is_reply_to,
    make_client,
    register_bot,
)

ROOMS = 300
RSS_ROOMS = 500
INVITES = 300
BURST_ROOMS = 20
ROUNDS = 10
RESTARTS = 5
SMALL = {"ROOMS": 30, "RSS_ROOMS": 50, "INVITES": 30, "BURST_ROOMS": 5, "ROUNDS": 3}

CREATE_AT_ONCE = 20  # room creations and invites in flight together
REPLY_TIMEOUT = 180.0
CHECK_TIMEOUT = 60.0
JOIN_TIMEOUT = 900.0
ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    rooms: int
    rss_rooms: int
    invites: int
    burst_rooms: int
    rounds: int

    @classmethod
    def from_env(cls) -> Sizes:
        base = {"ROOMS": ROOMS, "RSS_ROOMS": RSS_ROOMS, "INVITES": INVITES,
                "BURST_ROOMS": BURST_ROOMS, "ROUNDS": ROUNDS}
        if os.environ.get("OPSROOM_BENCH_SCALE", "full") == "small":
            base.update(SMALL)
        for name in base:
            if value := os.environ.get(f"OPSROOM_BENCH_{name}"):
                base[name] = int(value)
        sizes = cls(*(base[n] for n in ("ROOMS", "RSS_ROOMS", "INVITES", "BURST_ROOMS",
                                        "ROUNDS")))
        if not 1 <= sizes.burst_rooms <= sizes.rooms <= sizes.rss_rooms:
            raise ValueError(f"need 1 <= BURST_ROOMS <= ROOMS <= RSS_ROOMS: {sizes}")
        return sizes


# -- plumbing --------------------------------------------------------------------------------
class Raw:
    """Plain client-server calls for a user's token: how many rooms a bot is in, and a room's
    latest events (sender, type and time are readable without decrypting)."""

    def __init__(self, http: aiohttp.ClientSession, hs: LocalSynapse) -> None:
        self.http = http
        self.api = hs.base_url + "/_matrix/client/v3"

    async def joined(self, token: str) -> int:
        async with self.http.get(f"{self.api}/joined_rooms",
                                 headers={"Authorization": f"Bearer {token}"}) as resp:
            return len((await resp.json())["joined_rooms"])

    async def recent(self, token: str, room_id: str, limit: int = 60) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.api}/rooms/{room_id}/messages",
                                 params={"dir": "b", "limit": str(limit)},
                                 headers={"Authorization": f"Bearer {token}"}) as resp:
            return (await resp.json())["chunk"]


def _token(session_file: Path) -> str:
    return json.loads(session_file.read_text())["access_token"]


async def _wait_joined(raw: Raw, session_file: Path, count: int) -> float:
    """Seconds until the bot whose session this is has joined `count` rooms."""
    began = time.perf_counter()
    while (joined := await raw.joined(_token(session_file))) < count:
        if time.perf_counter() - began > JOIN_TIMEOUT:
            raise TimeoutError(f"{session_file.parent}: joined {joined} of {count} rooms")
        await asyncio.sleep(0.5)
    return time.perf_counter() - began


async def _bounded(n: int, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    sem = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


async def _create_room(client: AsyncClient, invite: list[str]) -> str:
    for attempt in range(5):
        resp = await client.room_create(invite=invite, initial_state=[ENCRYPTION])
        if isinstance(resp, RoomCreateResponse):
            return resp.room_id
        await asyncio.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"room creation failed: {resp}")


async def _create_rooms(client: AsyncClient, n: int, invite: list[str]) -> list[str]:
    return await _bounded(CREATE_AT_ONCE, [lambda: _create_room(client, invite)] * n)


async def _send(client: TestClient, room_id: str, body: str) -> str:
    """The message alone (members and keys are known since the warm-up), so that commands
    meant to go out together do."""
    resp = await client.nio.room_send(room_id, "m.room.message",
                                      {"msgtype": "m.text", "body": body},
                                      ignore_unverified_devices=True)
    if not isinstance(resp, RoomSendResponse):
        raise RuntimeError(f"sending failed: {resp}")
    return resp.event_id


async def _until(awaitable: Awaitable[T], *watched: asyncio.Task) -> T:
    """Await, but fail at once if a bot task fails meanwhile (rather than at a timeout)."""
    main = asyncio.ensure_future(awaitable)
    pending = {main, *watched}
    while True:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if main in done:
            return main.result()
        for task in done:
            if task.cancelled() or task.exception() is not None:
                main.cancel()
                await asyncio.gather(main, return_exceptions=True)
                raise RuntimeError("a bot stopped during the benchmark") from (
                    None if task.cancelled() else task.exception())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int) -> dict[str, float]:
    status = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: round(int(status[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


@asynccontextmanager
async def _opsroom(config: Config) -> AsyncIterator[tuple[Bot, asyncio.Task]]:
    """The bot in this process; the task is its whole life (start, then run)."""
    bot = Bot(config)

    async def life() -> None:
        await bot.start()
        await bot.run()

    task = asyncio.create_task(life())
    try:
        yield bot, task
    finally:
        bot.request_stop()
        try:
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def _echo(hs: LocalSynapse, store: Path) -> AsyncIterator[tuple[ResumableEcho,
                                                                       asyncio.Task]]:
    echo = ResumableEcho(hs.base_url, "@echo:localhost", "pw-echo", store)
    task = asyncio.create_task(echo.start())
    try:
        yield echo, task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await echo.stop()


@asynccontextmanager
async def _process(argv: list[str], log: Path, marker: str
                   ) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process, stopped with SIGTERM (killed if it lingers) whatever happens."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT, cwd=ROOT)
    try:
        began = time.perf_counter()
        while marker not in log.read_text(errors="replace"):
            if proc.returncode is not None or time.perf_counter() - began > 120:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{argv[2]} did not start ({proc.returncode}):\n{tail}")
            await asyncio.sleep(0.2)
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


# -- the measurements ------------------------------------------------------------------------
@dataclass
class Side:
    """One bot under test: its rooms (one per sender) and what was measured."""

    name: str
    user_id: str
    rooms: list[str]
    text: str  # the command, formatted with round and room
    checks: bool  # does it add a ✅ to each command
    wall: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    during: int = 0
    after: int = 0
    missing_checks: int = 0
    settled: list[float] = field(default_factory=list)  # last reply → its last event, s
    synapse_cpu: float = 0.0


async def _burst(side: Side, senders: list[TestClient], raw: Raw, hs_pid: int, rnd: int
                 ) -> None:
    async def one(i: int) -> tuple[float, str, Any]:
        began = time.perf_counter()
        event_id = await _send(senders[i], side.rooms[i], side.text.format(r=rnd, i=i))
        reply = await senders[i].wait_for(lambda r, e: is_reply_to(e, event_id), REPLY_TIMEOUT)
        return time.perf_counter() - began, event_id, reply

    cpu = _cpu_seconds(hs_pid)
    results = await asyncio.gather(*(one(i) for i in range(len(senders))))
    side.synapse_cpu += _cpu_seconds(hs_pid) - cpu
    if side.checks:  # the round is over once every ✅ is in
        async def check(i: int, event_id: str) -> None:
            await senders[i].wait_for(lambda r, e: is_reaction_to(e, event_id), CHECK_TIMEOUT)

        outcomes = await asyncio.gather(*(check(i, e) for i, (_, e, _) in enumerate(results)),
                                        return_exceptions=True)
        side.missing_checks += sum(isinstance(o, TimeoutError) for o in outcomes)
    recent = await asyncio.gather(*(raw.recent(s.nio.access_token, side.rooms[i])
                                    for i, s in enumerate(senders)))
    stamp = {e["event_id"]: e["origin_server_ts"] for chunk in recent for e in chunk}
    first = min(stamp[event_id] for _, event_id, _ in results)
    last = max(reply.server_timestamp for _, _, reply in results)
    for took, event_id, reply in results:
        side.wall.append(took)
        side.server.append((reply.server_timestamp - stamp[event_id]) / 1000)
    written = [e["origin_server_ts"] for chunk in recent for e in chunk
               if e["sender"] == side.user_id and e["origin_server_ts"] >= first]
    side.during += sum(ts <= last for ts in written)
    side.after += sum(ts > last for ts in written)
    side.settled.append((max(written) - last) / 1000)


async def _restart(start: Callable[[], Any], sender: TestClient, room: str, text: str
                   ) -> float:
    """From start to the reply to a command sent as the bot starts; `start` enters the bot's
    context and returns its task."""
    began = time.perf_counter()
    task = await start()
    event_id = await _send(sender, room, text)
    await _until(sender.wait_for(lambda r, e: is_reply_to(e, event_id), REPLY_TIMEOUT), task)
    return time.perf_counter() - began


async def _rss(proc: asyncio.subprocess.Process, raw: Raw, session: Path, rooms: int,
               sender: TestClient, room: str, text: str) -> dict[str, float]:
    await _wait_joined(raw, session, rooms)
    event_id = await _send(sender, room, text)
    await sender.wait_for(lambda r, e: is_reply_to(e, event_id), REPLY_TIMEOUT)
    await asyncio.sleep(1)
    return _memory_mb(proc.pid)


async def _invited(filler: TestClient, rooms: list[str], bot_user: str,
                   probes: list[tuple[TestClient, str, str]], watched: asyncio.Task
                   ) -> tuple[list[float], float, float]:
    """Answer times of commands sent while invites pour in, how long sending the invites
    took, and when they began (perf_counter)."""
    marks = [len(rooms) * (k + 1) // len(probes) for k in range(len(probes))]
    sent = 0
    asked: list[asyncio.Task] = []

    async def probe(sender: TestClient, room: str, text: str) -> float:
        began = time.perf_counter()
        event_id = await _send(sender, room, text)
        await sender.wait_for(lambda r, e: is_reply_to(e, event_id), REPLY_TIMEOUT)
        return time.perf_counter() - began

    async def invite(room_id: str) -> None:
        nonlocal sent
        resp = await filler.nio.room_invite(room_id, bot_user)
        if not isinstance(resp, RoomInviteResponse):
            raise RuntimeError(f"invite failed: {resp}")
        sent += 1
        while len(asked) < len(marks) and sent >= marks[len(asked)]:
            asked.append(asyncio.create_task(probe(*probes[len(asked)])))

    began = time.perf_counter()
    try:
        await _bounded(CREATE_AT_ONCE, [lambda r=r: invite(r) for r in rooms])
        inviting = time.perf_counter() - began
        answers = await _until(asyncio.gather(*asked), watched)
    finally:
        for task in asked:
            task.cancel()
        await asyncio.gather(*asked, return_exceptions=True)
    return answers, inviting, began


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


async def main() -> dict:
    sizes = Sizes.from_env()
    began = time.perf_counter()
    # SIGTERM unwinds like Ctrl-C does, so Synapse and the bot processes are stopped.
    loop, me = asyncio.get_running_loop(), asyncio.current_task()
    assert me is not None
    loop.add_signal_handler(signal.SIGTERM, me.cancel)
    try:
        return await _run(sizes, began)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def _run(sizes: Sizes, began: float) -> dict:
    result: dict[str, Any] = {
        "sizes": f"{sizes.rooms} rooms, {sizes.burst_rooms} at once x {sizes.rounds}, "
                 f"{sizes.rss_rooms} for RSS, {sizes.invites} invites"}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with AsyncExitStack() as stack:
            hs = await stack.enter_async_context(LocalSynapse(tmp / "synapse"))
            hs_pid = hs._proc.pid  # type: ignore[union-attr]  # for its CPU time
            http = await stack.enter_async_context(aiohttp.ClientSession())
            raw = Raw(http, hs)
            try:
                await _measure(sizes, tmp, hs, hs_pid, raw, stack, result)
            except Exception:  # keep what was measured before it (a full run is long)
                result["failed"] = traceback.format_exc(limit=4)
    result["whole run, s"] = round(time.perf_counter() - began, 1)
    return result


async def _measure(sizes: Sizes, tmp: Path, hs: LocalSynapse, hs_pid: int, raw: Raw,
                   stack: AsyncExitStack, result: dict[str, Any]) -> None:
    config = await register_bot(hs, "scale", tmp / "bot")
    bot_user, bot_session = config.matrix.user_id, config.data_dir / "session.json"
    echo_user = await hs.register_user("echo", "pw-echo")
    echo_store = tmp / "echo"
    echo_session = echo_store / "session.json"
    filler = await make_client(hs, "filler", tmp)
    stack.push_async_callback(filler.close)
    senders: list[TestClient] = await _bounded(5, [
        lambda i=i: make_client(hs, f"officer{i}", tmp) for i in range(sizes.burst_rooms)])
    for s in senders:
        stack.push_async_callback(s.close)

    # -- set-up: both bots join ROOMS rooms -------------------------------------------------
    setup = time.perf_counter()
    async with _opsroom(config) as (bot, bot_task), _echo(hs, echo_store) as (_, echo_task):
        await _until(bot.started.wait(), bot_task)
        await _until(asyncio.shield(echo_task), bot_task)
        own = await asyncio.gather(*(asyncio.gather(_create_room(s.nio, [bot_user]),
                                                    _create_room(s.nio, [echo_user]))
                                     for s in senders))
        await _create_rooms(filler.nio, sizes.rooms - sizes.burst_rooms, [bot_user, echo_user])
        await _until(asyncio.gather(_wait_joined(raw, bot_session, sizes.rooms),
                                    _wait_joined(raw, echo_session, sizes.rooms)), bot_task)
        result["set-up: rooms made and joined, s"] = round(time.perf_counter() - setup, 1)
        await asyncio.gather(*(s.sync() for s in senders))  # so they know their rooms
        ops = Side("opsroom", bot_user, [o for o, _ in own], '!task add "round {r} room {i}"',
                   checks=True)
        echo = Side("echo", echo_user, [e for _, e in own], "ping round {r} room {i}",
                    checks=False)

        async def warm_up(i: int) -> None:
            s = senders[i]
            _, init = await s.command(ops.rooms[i], f'!op init "Operation Scale {i}" '
                                      f"code=SCALE{i}", REPLY_TIMEOUT)
            await s.wait_for(lambda r, e: is_reaction_to(e, init), CHECK_TIMEOUT)
            await s.command(echo.rooms[i], "warm-up", REPLY_TIMEOUT)

        await _until(asyncio.gather(*(warm_up(i) for i in range(len(senders)))), bot_task)

        # -- 1. burst ---------------------------------------------------------------------
        for rnd in range(sizes.rounds):
            order = (ops, echo) if rnd % 2 == 0 else (echo, ops)
            for side in order:
                await _until(_burst(side, senders, raw, hs_pid, rnd), bot_task)
    commands = sizes.rounds * sizes.burst_rooms
    result["burst: commands per bot"] = commands
    o_wall, e_wall = _stats(ops.wall), _stats(echo.wall)
    o_srv, e_srv = _stats(ops.server), _stats(echo.server)
    for label, o, e in (("", o_wall, e_wall), (" (server clock)", o_srv, e_srv)):
        for p in ("p50_ms", "p99_ms"):
            result[f"burst{label}: opsroom {p}"] = o[p]
            result[f"burst{label}: echo {p}"] = e[p]
            result[f"burst{label}: {p[:3]} ratio (goal <= 1.2)"] = _ratio(o[p], e[p])
    result["burst: opsroom events/command during (<= 1.2)"] = round(ops.during / commands, 2)
    result["burst: echo events/command during"] = round(echo.during / commands, 2)
    result["burst: opsroom events after the bursts"] = ops.after
    result["burst: ✅ missing after 60 s"] = ops.missing_checks
    result["burst: last ✅ after last reply, p50 ms"] = _stats(ops.settled)["p50_ms"]
    result["burst: Synapse CPU s/round, opsroom"] = round(ops.synapse_cpu / sizes.rounds, 2)
    result["burst: Synapse CPU s/round, echo"] = round(echo.synapse_cpu / sizes.rounds, 2)

    # -- 2. restart to first answer -----------------------------------------------------------
    restarts: dict[str, list[float]] = {"opsroom": [], "echo": []}
    for n in range(RESTARTS):
        async with AsyncExitStack() as running:
            async def start_opsroom() -> asyncio.Task:
                return (await running.enter_async_context(_opsroom(config)))[1]

            took = await _restart(start_opsroom, senders[0], ops.rooms[0],
                                  f'!task add "restart {n}"')
            restarts["opsroom"].append(took)
        async with AsyncExitStack() as running:
            async def start_echo() -> asyncio.Task:
                return (await running.enter_async_context(_echo(hs, echo_store)))[1]

            took = await _restart(start_echo, senders[0], echo.rooms[0], f"restart {n}")
            restarts["echo"].append(took)
    o_med = statistics.median(restarts["opsroom"])
    e_med = statistics.median(restarts["echo"])
    result[f"restart to answer, {sizes.rooms} rooms: opsroom s"] = round(o_med, 2)
    result[f"restart to answer, {sizes.rooms} rooms: echo s"] = round(e_med, 2)
    result["restart: ratio, median (goal <= 1.1)"] = _ratio(o_med, e_med)
    result["restart: all runs, opsroom / echo s"] = (
        f"{[round(t, 2) for t in restarts['opsroom']]} / "
        f"{[round(t, 2) for t in restarts['echo']]}")

    # -- 3. RSS with RSS_ROOMS rooms, each bot its own process ----------------------------
    setup = time.perf_counter()
    await _create_rooms(filler.nio, sizes.rss_rooms - sizes.rooms, [bot_user, echo_user])
    result[f"RSS: {sizes.rss_rooms - sizes.rooms} more rooms made, s"] = round(
        time.perf_counter() - setup, 1)
    config_file = tmp / "config.toml"
    config_file.write_text(
        f'[matrix]\nhomeserver = "{hs.base_url}"\nuser_id = "{bot_user}"\n'
        f'password = "{config.matrix.password}"\n\n[storage]\ndata_dir = "{config.data_dir}"'
        '\n\n[access]\nallowed_inviters = ["@*:localhost"]\n')
    async with _process([sys.executable, "-m", "bot.cli", "run", "-c", str(config_file)],
                        tmp / "bot.log", "running as") as proc:
        memory = await _rss(proc, raw, bot_session, sizes.rss_rooms, senders[0], ops.rooms[0],
                            '!task add "memory"')
    result[f"RSS, {sizes.rss_rooms} rooms: opsroom MB (goal < 100)"] = memory["VmRSS"]
    result[f"RSS, {sizes.rss_rooms} rooms: opsroom peak MB"] = memory["VmHWM"]
    async with _process([sys.executable, "-m", "bench.scale", "echo", hs.base_url, echo_user,
                         "pw-echo", str(echo_store)], tmp / "echo.log", "echo: running") as proc:
        memory = await _rss(proc, raw, echo_session, sizes.rss_rooms, senders[0],
                            echo.rooms[0], "memory")
    result[f"RSS, {sizes.rss_rooms} rooms: echo MB"] = memory["VmRSS"]
    result[f"RSS, {sizes.rss_rooms} rooms: echo peak MB"] = memory["VmHWM"]

    # -- 4. a command while invites pour in ---------------------------------------------------
    waiting = await _create_rooms(filler.nio, sizes.invites, [])
    probes = min(4, sizes.burst_rooms)
    key = f"{sizes.invites} invites"
    async with _opsroom(config) as (bot, bot_task):
        await _until(bot.started.wait(), bot_task)
        answers, inviting, began = await _invited(
            filler, waiting, bot_user, [(senders[i], ops.rooms[i], f'!task add "invites {i}"')
                                        for i in range(probes)], bot_task)
        await _until(_wait_joined(raw, bot_session, sizes.rss_rooms + sizes.invites),
                     bot_task)
        joined = time.perf_counter() - began
        result[f"{key}: sent in, s"] = round(inviting, 2)
        result[f"{key}: opsroom worst answer s (goal < 1)"] = round(max(answers), 2)
        result[f"{key}: opsroom answers s"] = [round(a, 2) for a in answers]
        result[f"{key}: opsroom all joined after, s"] = round(joined, 1)
    async with _echo(hs, echo_store) as (_, echo_task):
        await asyncio.shield(echo_task)
        answers, inviting, began = await _invited(
            filler, waiting, echo_user, [(senders[i], echo.rooms[i], f"invites {i}")
                                         for i in range(probes)], echo_task)
        await _wait_joined(raw, echo_session, sizes.rss_rooms + sizes.invites)
        joined = time.perf_counter() - began
        result[f"{key}: echo worst answer s"] = round(max(answers), 2)
        result[f"{key}: echo answers s"] = [round(a, 2) for a in answers]
        result[f"{key}: echo all joined after, s"] = round(joined, 1)


async def _echo_process(base_url: str, user_id: str, password: str, store: str) -> None:
    """`python -m bench.scale echo URL USER PASSWORD STORE`: the echo bot as a process of its
    own, for its RSS; SIGTERM stops it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    echo = ResumableEcho(base_url, user_id, password, Path(store))
    await echo.start()
    print(f"echo: running as {user_id}", flush=True)
    await stop.wait()
    await echo.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        asyncio.run(_echo_process(*sys.argv[2:6]))
    else:
        print(asyncio.run(main()))
