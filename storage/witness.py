"""The records held against the audit log: every row must be what its newest audit entry
left it, so a row edited, added or deleted with the sqlite3 CLI is found.

The hash chain (storage.audit) protects the log, not the tables that sitreps, lists and
exports read. Each entry carries the after-image of the row it changed (canonical JSON),
so the log already says what every row should hold now: the newest entry's image for that
(table, row id), gone after a delete. Comparing is enough; a per-row hash column would
add a second copy that whoever edits the row could recompute as well. Each entry's
before-image must also equal the previous entry's after-image of that row: otherwise the
row was changed behind the log before a command changed it again, which an ordinary
command would otherwise launder into the log.

The row's JSON is made by SQLite (`json_object`, keys in canonical order) and compared by
digest with the stored image, so 100,000 rows cost no Python dict each; only a row whose
digest differs is read whole and compared field by field, where a column added by a later
migration counts as holding its declared default. Rows and entries are read in pages of
`PAGE` by id, so memory stays bounded in the export worker too.

What is witnessed: every record table (`storage.tx.RECORD_TABLES`) of one operation,
except `identities`, which belongs to no operation and which the runtime rightly changes
unaudited when a user's server shows the pinned key again. Counters, the deconfliction
index, the outbox and handled events are bookkeeping, not records.

A lead's acknowledgement is itself a record (`audit_acks`, audited like any other): the
mismatches it covers are read from its image in the log, never from its table, and each
is keyed by the row's content now, so a new change to the same row is found again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from storage.statements import InlineRunner, Row, Statements, placeholders
from storage.tx import RECORD_TABLES

WITNESSED_TABLES = tuple(sorted(RECORD_TABLES - {"identities"}))
ACKS = "audit_acks"
PAGE = 5000

CHANGED = "changed"  # the row differs from its newest after-image
INSERTED = "inserted"  # a row the log never saw (or saw deleted)
DELETED = "deleted"  # the log's row is gone without a delete entry
HISTORY = "history"  # an entry's before-image is not what the previous entry left


@dataclass(frozen=True)
class Mismatch:
    tbl: str
    row_id: int
    kind: str
    fields: tuple[str, ...]
    # How the row is named to users: the log's image where there is one (a tampered row
    # could carry a false number), else the row as it is now.
    image: Row
    entry: int | None  # the audit entry (#n) concerned, if any
    key: str  # what an acknowledgement records: kind, row and the row's content now

    @property
    def tlp(self) -> str | None:
        value = self.image.get("tlp")
        return value if isinstance(value, str) else None


@dataclass
class Witnessed:
    """The operation's records against the log; `open` is what no lead acknowledged."""

    mismatches: list[Mismatch] = field(default_factory=list)
    accepted: frozenset[str] = frozenset()
    # TLP labels the mismatched rows hold now (the tampered value) and in the log.
    levels: set[str] = field(default_factory=set)

    @property
    def open(self) -> list[Mismatch]:
        return [m for m in self.mismatches if m.key not in self.accepted]

    @property
    def acknowledged(self) -> list[Mismatch]:
        return [m for m in self.mismatches if m.key in self.accepted]


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _key(kind: str, tbl: str, row_id: int, content: str) -> str:
    return f"{kind}:{tbl}:{row_id}:{hashlib.sha256(content.encode('utf-8')).hexdigest()[:32]}"


def _default(literal: str | None) -> Any:
    """A column's declared DEFAULT (PRAGMA table_info) as the value a row would hold."""
    if literal is None or literal.upper() == "NULL":
        return None
    if literal.startswith("'") and literal.endswith("'"):
        return literal[1:-1].replace("''", "'")
    try:
        return int(literal)
    except ValueError:
        try:
            return float(literal)
        except ValueError:
            return literal


def _differing(image: Row, row: Row, defaults: dict[str, Any]) -> tuple[str, ...]:
    """Fields whose values differ; a column the image predates is compared to its default."""
    names = sorted(set(image) | set(row))
    return tuple(n for n in names
                 if image.get(n, defaults.get(n)) != row.get(n, defaults.get(n)))


@dataclass
class _Seen:
    n: int
    action: str
    after: bytes | None


class _Reader:
    """The queries, on any `Statements` (the bot's snapshot or, through `InlineRunner`,
    the export worker's connection)."""

    def __init__(self, tx: Statements, room_id: str, op_id: int) -> None:
        self.tx, self.room_id, self.op_id = tx, room_id, op_id

    async def columns(self, tbl: str) -> list[Row]:
        return await self.tx.all(f"PRAGMA table_info({tbl})")

    async def entries(self, after_id: int) -> list[Row]:
        return await self.tx.all(
            f"SELECT id, n, action, tbl, row_id, before, after FROM audit_log "
            f"WHERE room_id=? AND id>? AND tbl IN ({placeholders(WITNESSED_TABLES)}) "
            f"ORDER BY id LIMIT {PAGE}", (self.room_id, after_id, *WITNESSED_TABLES))

    async def entry(self, n: int) -> Row:
        row = await self.tx.one("SELECT before, after FROM audit_log WHERE room_id=? AND n=?",
                                (self.room_id, n))
        assert row is not None
        return row

    def _scope(self, tbl: str) -> tuple[str, str]:
        """FROM and WHERE picking the operation's rows of `tbl`, the row aliased `r`."""
        if tbl == "operations":
            return "operations r", "r.id=?"
        if tbl == "rollcall_answers":
            return ("rollcall_answers r JOIN rollcalls c ON c.id = r.rollcall_id",
                    "c.op_id=?")
        return f"{tbl} r", "r.op_id=?"

    async def images(self, tbl: str, names: list[str], after_id: int) -> list[Row]:
        pairs = ", ".join(f"'{n}', r.{n}" for n in sorted(names))
        source, where = self._scope(tbl)
        return await self.tx.all(
            f"SELECT r.id, json_object({pairs}) AS image FROM {source} "
            f"WHERE {where} AND r.id>? ORDER BY r.id LIMIT {PAGE}", (self.op_id, after_id))

    async def row(self, tbl: str, row_id: int) -> Row:
        row = await self.tx.one(f"SELECT * FROM {tbl} WHERE id=?", (row_id,))
        assert row is not None
        return row


async def _operation_id(tx: Statements, room_id: str) -> int | None:
    # `one`, not `scalar`: the export worker's rows are dicts, not sequences
    row = await tx.one("SELECT id FROM operations WHERE room_id=?", (room_id,))
    return None if row is None else int(row["id"])


async def check(tx: Statements, room_id: str) -> Witnessed:
    """Every record row of the room's operation against the room's audit log."""
    found = Witnessed()
    op_id = await _operation_id(tx, room_id)
    if op_id is None:
        return found
    read = _Reader(tx, room_id, op_id)
    seen: dict[tuple[str, int], _Seen] = {}
    last = 0
    while page := await read.entries(last):
        last = page[-1]["id"]
        for entry in page:
            await _follow(read, found, seen, entry)
    live = {k: s for k, s in seen.items() if s.action != "delete"}
    for tbl in WITNESSED_TABLES:
        columns = await read.columns(tbl)
        names = [c["name"] for c in columns]
        defaults = {c["name"]: _default(c["dflt_value"]) for c in columns}
        last = 0
        while page := await read.images(tbl, names, last):
            last = page[-1]["id"]
            for current in page:
                state = live.pop((tbl, current["id"]), None)
                if state is not None and state.after == _digest(current["image"]):
                    continue
                await _compare(read, found, tbl, current["id"], current["image"], state,
                               defaults)
    for (tbl, row_id), state in sorted(live.items()):
        image = json.loads((await read.entry(state.n))["after"])
        found.mismatches.append(Mismatch(tbl, row_id, DELETED, (), image, state.n,
                                         _key(DELETED, tbl, row_id, str(state.n))))
        _levels(found, image)
    found.accepted = await _accepted(read, seen)
    return found


async def _follow(read: _Reader, found: Witnessed, seen: dict[tuple[str, int], _Seen],
                  entry: Row) -> None:
    """One entry in log order: does it start from what the previous one left?"""
    ref = (entry["tbl"], entry["row_id"])
    previous = seen.get(ref)
    after = entry["after"]
    seen[ref] = _Seen(entry["n"], entry["action"], None if after is None else _digest(after))
    live = previous is not None and previous.action != "delete"
    if entry["action"] == "insert":
        if not live:
            return
    elif live and previous is not None and previous.after == _digest(entry["before"]):
        return
    before = json.loads(entry["before"]) if entry["before"] else {}
    if live and previous is not None:
        left = json.loads((await read.entry(previous.n))["after"])
        if entry["action"] == "insert":
            fields: tuple[str, ...] = ()
        else:
            columns = await read.columns(entry["tbl"])
            fields = _differing(left, before, {c["name"]: _default(c["dflt_value"])
                                               for c in columns})
            if not fields:
                return  # only columns added since, holding their defaults
        image = left
    else:
        fields, image = (), before or json.loads(after or "{}")
    found.mismatches.append(Mismatch(entry["tbl"], entry["row_id"], HISTORY, fields, image,
                                     entry["n"], _key(HISTORY, *ref, str(entry["n"]))))
    _levels(found, image, before)


async def _compare(read: _Reader, found: Witnessed, tbl: str, row_id: int, text: str,
                   state: _Seen | None, defaults: dict[str, Any]) -> None:
    """A row whose JSON differs from its image: a real change, or only the formatting or a
    column added since (then nothing)."""
    row = await read.row(tbl, row_id)
    if state is None:
        found.mismatches.append(Mismatch(tbl, row_id, INSERTED, (), row, None,
                                         _key(INSERTED, tbl, row_id, text)))
        _levels(found, row)
        return
    image = json.loads((await read.entry(state.n))["after"])
    fields = _differing(image, row, defaults)
    if fields:
        found.mismatches.append(Mismatch(tbl, row_id, CHANGED, fields, image, state.n,
                                         _key(CHANGED, tbl, row_id, text)))
        _levels(found, image, row)


def _levels(found: Witnessed, *images: Row) -> None:
    for image in images:
        if isinstance(image.get("tlp"), str):
            found.levels.add(image["tlp"])


async def _accepted(read: _Reader, seen: dict[tuple[str, int], _Seen]) -> frozenset[str]:
    """The keys the log's acknowledgements hold: their newest images, not their table."""
    keys: set[str] = set()
    for (tbl, _), state in seen.items():
        if tbl == ACKS and state.action != "delete":
            image = json.loads((await read.entry(state.n))["after"])
            keys.update(json.loads(image["findings"]))
    return frozenset(keys)


def check_sync(conn: sqlite3.Connection, room_id: str) -> Witnessed:
    """`check` on the export worker's plain connection. Its statements never wait (the
    runner calls sqlite3 directly), so the coroutine runs to its end on the first step,
    with no event loop (the worker may be called from inside one, as the benchmark does)."""
    run = check(Statements(InlineRunner(conn)), room_id)
    try:
        run.send(None)
    except StopIteration as done:
        result: Witnessed = done.value
        return result
    run.close()
    raise RuntimeError("the witness check waited on an inline connection")


def leave_out(conn: sqlite3.Connection, rows: Iterable[tuple[str, int]]) -> None:
    """Hide these rows from every later query on this read-only export connection: a TEMP
    view of the same name shadows each table (SQLite looks in `temp` first), so the
    export's queries, counts and joins all skip them without knowing of them."""
    rows = sorted(set(rows))
    if not rows:
        return
    conn.execute("PRAGMA query_only=OFF")  # the temp schema only: the file is opened ro
    try:
        conn.execute("CREATE TEMP TABLE witness_left_out (tbl TEXT NOT NULL, "
                     "row_id INTEGER NOT NULL, PRIMARY KEY (tbl, row_id))")
        conn.executemany("INSERT INTO temp.witness_left_out (tbl, row_id) VALUES (?, ?)", rows)
        for tbl in sorted({tbl for tbl, _ in rows}):
            assert tbl in WITNESSED_TABLES
            conn.execute(f"CREATE TEMP VIEW {tbl} AS SELECT * FROM main.{tbl} WHERE id NOT IN "
                         f"(SELECT row_id FROM temp.witness_left_out WHERE tbl='{tbl}')")
    finally:
        conn.execute("PRAGMA query_only=ON")
