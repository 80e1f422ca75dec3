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

The comparing is done by SQLite: the row's JSON (`json_object`, keys in canonical order)
against its newest entry's image, found by one seek on the index `audit_by_row`, and each
entry against the one before it (a window over the same index). Only what disagrees comes
back to Python, so 100,000 rows cost no Python object each; such a row is read whole and
compared field by field, where a column added by a later migration counts as holding its
declared default (and a difference in JSON formatting alone is no mismatch).

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

from storage import audit
from storage.personal import BLIND_INDEXES
from storage.sealing import SEALED_SQL_PREFIX
from storage.statements import InlineRunner, Row, Statements, placeholders
from storage.tx import RECORD_TABLES

WITNESSED_TABLES = tuple(sorted(RECORD_TABLES - {"identities"}))
ACKS = "audit_acks"

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


def _image(text: str | None) -> Row:
    """An image from the log; one an edit of the log left unreadable counts as empty (the
    chain check names that entry), so the rest of the check still runs."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _findings(text: str | None) -> list[str]:
    keys = _image(text).get("findings")
    try:
        found = json.loads(keys) if isinstance(keys, str) else []
    except ValueError:
        return []
    return [k for k in found if isinstance(k, str)] if isinstance(found, list) else []


# Columns a migration filled from the row's other columns (not with their DEFAULT): an
# image from before that migration says nothing of them, so they are witnessed from the
# row's next audited change on. Each entry names its migration.
BACKFILLED = frozenset({
    ("deconfliction_sides", "label"),  # migration 12: old hits keep their D-n as label
})
_UNWITNESSED = object()


def _differing(image: Row, row: Row, defaults: dict[str, Any]) -> tuple[str, ...]:
    """Fields whose values differ; a column the image predates is compared to its default
    (or not at all when a migration backfilled it)."""
    names = sorted(set(image) | set(row))
    return tuple(n for n in names
                 if not (n not in image and defaults.get(n) is _UNWITNESSED)
                 and image.get(n, defaults.get(n)) != row.get(n, defaults.get(n)))


class _Reader:
    """The queries, on any `Statements` (the bot's snapshot or, through `InlineRunner`,
    the export worker's connection). Each returns only what disagrees: the comparing is
    SQLite's, one index seek per row on `audit_by_row` (room, table, row id, n)."""

    def __init__(self, tx: Statements, room_id: str, op_id: int) -> None:
        self.tx, self.room_id, self.op_id = tx, room_id, op_id

    async def columns(self, tbl: str) -> list[Row]:
        return await self.tx.all(f"PRAGMA table_info({tbl})")

    async def entry(self, n: int) -> Row:
        row = await self.tx.one("SELECT before, after FROM audit_log WHERE room_id=? AND n=?",
                                (self.room_id, n))
        assert row is not None
        return row

    def _scope(self, tbl: str) -> str:
        """The condition on a row `r` of `tbl` that it is the operation's."""
        if tbl == "operations":
            return "r.id=?"
        if tbl == "rollcall_answers":
            return "r.rollcall_id IN (SELECT id FROM rollcalls WHERE op_id=?)"
        return "r.op_id=?"

    async def unlike_their_image(self, tbl: str, names: list[str]) -> list[Row]:
        """The operation's rows that are not their newest entry's after-image, and the
        entries whose row is gone: `id`, the entry's `n` and `action` (None: no entry),
        `image` (None: no row). One pass over the row's entries on `audit_by_row`, one
        seek per row; the rows the log never saw come from one more pass over the table."""
        pairs = ", ".join(f"'{n}', {_as_logged(f'r.{n}')}" for n in sorted(names))
        mine = self._scope(tbl)
        return await self.tx.all(
            "WITH last AS (SELECT row_id, MAX(n) AS n FROM audit_log "
            "WHERE room_id=? AND tbl=? GROUP BY row_id) "
            f"SELECT last.row_id AS id, last.n, e.action, "
            f"CASE WHEN r.id IS NULL THEN NULL ELSE json_object({pairs}) END AS image "
            "FROM last JOIN audit_log e ON e.room_id=? AND e.n=last.n "
            f"LEFT JOIN {tbl} r ON r.id=last.row_id AND {mine} "
            "WHERE CASE WHEN e.action='delete' THEN r.id IS NOT NULL "
            f"ELSE r.id IS NULL OR e.after IS NOT json_object({pairs}) END "
            f"UNION ALL SELECT r.id, NULL, NULL, json_object({pairs}) FROM {tbl} r "
            f"WHERE {mine} AND NOT EXISTS (SELECT 1 FROM audit_log a "
            "WHERE a.room_id=? AND a.tbl=? AND a.row_id=r.id)",
            (self.room_id, tbl, self.room_id, self.op_id, self.op_id, self.room_id, tbl))

    async def breaks(self) -> list[Row]:
        """Entries that do not start from what the previous entry of their row left: an
        insert over a live row, an update or delete of a row the log had not (or had
        deleted), or a before-image unlike the previous after-image."""
        return await self.tx.all(
            # Rows with one insert entry, most of them, are settled on the index alone
            "WITH rows AS (SELECT tbl, row_id FROM audit_log "
            f"WHERE room_id=? AND tbl IN ({placeholders(WITNESSED_TABLES)}) "
            "GROUP BY tbl, row_id HAVING COUNT(*) > 1 OR MAX(action) <> 'insert') "
            "SELECT * FROM (SELECT a.n, a.tbl, a.row_id, a.action, a.before, a.after, "
            "LAG(a.n) OVER w AS prev_n, LAG(a.action) OVER w AS prev_action, "
            "LAG(a.after) OVER w AS prev_after FROM rows JOIN audit_log a "
            "ON a.room_id=? AND a.tbl=rows.tbl AND a.row_id=rows.row_id "
            "WINDOW w AS (PARTITION BY a.tbl, a.row_id ORDER BY a.n)) "
            "WHERE CASE WHEN action='insert' THEN prev_n IS NOT NULL AND prev_action<>'delete' "
            "ELSE prev_n IS NULL OR prev_action='delete' OR prev_after IS NOT before END "
            "ORDER BY n", (self.room_id, *WITNESSED_TABLES, self.room_id))

    async def acknowledgements(self) -> list[Row]:
        """The acknowledgements' newest images, as the log holds them."""
        return await self.tx.all(
            "SELECT e.after FROM audit_log e WHERE e.room_id=? AND e.tbl=? "
            "AND e.action<>'delete' AND e.n=(SELECT MAX(b.n) FROM audit_log b "
            "WHERE b.room_id=e.room_id AND b.tbl=e.tbl AND b.row_id=e.row_id)",
            (self.room_id, ACKS))

    async def row(self, tbl: str, row_id: int) -> Row:
        row = await self.tx.one(f"SELECT * FROM {tbl} WHERE id=?", (row_id,))
        assert row is not None
        return audit.image(row)


def _as_logged(column: str) -> str:
    """A column as the log's image holds it: a sealed value as its token (see
    storage.sealing), so rows are compared without opening them."""
    return (f"CASE WHEN typeof({column})='blob' THEN {SEALED_SQL_PREFIX}||hex({column}) "
            f"ELSE {column} END")


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
    defaults: dict[str, dict[str, Any]] = {}
    for tbl in WITNESSED_TABLES:
        columns = await read.columns(tbl)
        defaults[tbl] = {c["name"]: _UNWITNESSED if (tbl, c["name"]) in BACKFILLED
                         else _default(c["dflt_value"]) for c in columns
                         if c["name"] not in BLIND_INDEXES}
    for entry in await read.breaks():
        _follow(found, entry, defaults[entry["tbl"]])
    for tbl in WITNESSED_TABLES:
        for current in await read.unlike_their_image(tbl, list(defaults[tbl])):
            await _compare(read, found, tbl, current, defaults[tbl])
    found.accepted = frozenset(key for ack in await read.acknowledgements()
                               for key in _findings(ack["after"]))
    return found


def _follow(found: Witnessed, entry: Row, defaults: dict[str, Any]) -> None:
    """An entry that does not start from what the previous one left (`breaks`)."""
    ref = (entry["tbl"], entry["row_id"])
    before = _image(entry["before"]) if entry["before"] else {}
    live = entry["prev_n"] is not None and entry["prev_action"] != "delete"
    if live and entry["action"] != "insert":
        left = _image(entry["prev_after"])
        fields = _differing(left, before, defaults)
        if not fields:
            return  # only columns added since, holding their defaults
        image = left
    elif live:
        fields, image = (), _image(entry["prev_after"])
    else:
        fields, image = (), before or _image(entry["after"] or "{}")
    found.mismatches.append(Mismatch(entry["tbl"], entry["row_id"], HISTORY, fields, image,
                                     entry["n"], _key(HISTORY, *ref, str(entry["n"]))))
    _levels(found, image, before)


async def _compare(read: _Reader, found: Witnessed, tbl: str, current: Row,
                   defaults: dict[str, Any]) -> None:
    """A row whose JSON differs from its image: a real change, or only the formatting or a
    column added since (then nothing)."""
    row_id, text = current["id"], current["image"]
    if text is None:  # the log's row is gone, without a delete entry
        image = _image((await read.entry(current["n"]))["after"])
        found.mismatches.append(Mismatch(tbl, row_id, DELETED, (), image, current["n"],
                                         _key(DELETED, tbl, row_id, str(current["n"]))))
        _levels(found, image)
        return
    row = await read.row(tbl, row_id)
    if current["n"] is None or current["action"] == "delete":
        found.mismatches.append(Mismatch(tbl, row_id, INSERTED, (), row, None,
                                         _key(INSERTED, tbl, row_id, text)))
        _levels(found, row)
        return
    image = _image((await read.entry(current["n"]))["after"])
    fields = _differing(image, row, defaults)
    if fields:
        found.mismatches.append(Mismatch(tbl, row_id, CHANGED, fields, image, current["n"],
                                         _key(CHANGED, tbl, row_id, text)))
        _levels(found, image, row)


def _levels(found: Witnessed, *images: Row) -> None:
    for image in images:
        if isinstance(image.get("tlp"), str):
            found.levels.add(image["tlp"])


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
