"""What someone holding the database file can do to the audit log without breaking it.

Used by the unit and integration tests of the room witness (commands/witness.py): the
chain still verifies after these edits, so only the heads posted in the room reveal them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from storage.audit import GENESIS, canonical, entry_hash


def rewrite_entry(db_path: Path, room_id: str, n: int, after: str) -> None:
    """Replace entry #n's after-image, then recompute its hash, every later entry's hash
    and the room's head record, so the chain verifies again."""
    with sqlite3.connect(db_path) as raw:
        raw.row_factory = sqlite3.Row
        raw.execute("UPDATE audit_log SET after=? WHERE room_id=? AND n=?", (after, room_id, n))
        previous = raw.execute("SELECT hash FROM audit_log WHERE room_id=? AND n=?",
                               (room_id, n - 1)).fetchone()
        prev_hash = previous["hash"] if previous else GENESIS
        rows = [dict(r) for r in raw.execute(
            "SELECT * FROM audit_log WHERE room_id=? AND n>=? ORDER BY n", (room_id, n))]
        for row in rows:
            row["prev_hash"] = prev_hash
            row["hash"] = prev_hash = entry_hash(row)
            raw.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE id=?",
                        (row["prev_hash"], row["hash"], row["id"]))
        raw.execute("UPDATE audit_heads SET n=?, hash=? WHERE room_id=?",
                    (rows[-1]["n"], prev_hash, room_id))


def truncate_after(db_path: Path, room_id: str, n: int) -> None:
    """Delete every entry after #n and move the head record back to #n."""
    with sqlite3.connect(db_path) as raw:
        raw.execute("DELETE FROM audit_log WHERE room_id=? AND n>?", (room_id, n))
        (digest,) = raw.execute("SELECT hash FROM audit_log WHERE room_id=? AND n=?",
                                (room_id, n)).fetchone()
        raw.execute("UPDATE audit_heads SET n=?, hash=? WHERE room_id=?", (n, digest, room_id))


def as_if_recorded_so(db_path: Path, room_id: str, table: str, row_id: int,
                      **values: object) -> None:
    """A row as an older opsroom recorded it (a domain stored in Unicode before A-labels):
    the row and its newest audit image both hold `values`, with the chain recomputed, so
    the records witness (storage/witness.py) sees a row the log recorded, not a tampered
    one."""
    with sqlite3.connect(db_path) as raw:
        sets = ", ".join(f"{column}=?" for column in values)
        raw.execute(f"UPDATE {table} SET {sets} WHERE id=?", (*values.values(), row_id))
        n, image = raw.execute("SELECT n, after FROM audit_log WHERE room_id=? AND tbl=? AND "
                               "row_id=? ORDER BY n DESC LIMIT 1",
                               (room_id, table, row_id)).fetchone()
    rewrite_entry(db_path, room_id, n, canonical({**json.loads(image), **values}))
