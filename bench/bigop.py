"""A large operation written straight into SQLite (not through commands), for the sitrep
and export benchmarks: 100,000 seizures, 10,000 tasks, 1,000 arrests, 500 takedowns.

Each row gets the audit entry a command would have written (an insert with its
after-image, in one hash chain), so the records witness (storage/witness.py) finds the
operation intact and exports run as they would in a real operation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.audit import GENESIS, canonical, entry_hash, image
from storage.database import Database

ROOM = "!big:localhost"
STATUSES = ("identified", "requested", "seized", "sinkholed", "offline", "released")
TYPES = ("domain", "ip", "url", "server", "wallet")
T = "2026-11-24T12:00:00Z"


def _value(kind: str, i: int) -> str:
    return {"domain": f"host{i}.example", "ip": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "url": f"https://site{i}.example/p", "server": f"srv{i}.example",
            "wallet": f"bc1q{i:030d}"}[kind]


async def build(path: Path, seizures: int = 100_000, tasks: int = 10_000, arrests: int = 1_000,
                takedowns: int = 500) -> Path:
    db = await Database.open(path)
    await db.close()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("INSERT INTO operations (id, room_id, name, code, tz, tlp, phase, hhour, "
                    "created_by, created_at, updated_at) VALUES (1, ?, 'Operation Big', 'BIG', "
                    "'Europe/Paris', 'AMBER', 'action', '2026-11-25T04:00:00Z', '@lead:x', ?, ?)",
                    (ROOM, T, T))
        raw.executemany("INSERT INTO agencies (op_id, code, country, tz, name, created_by, "
                        "created_at) VALUES (1, ?, ?, ?, NULL, '@lead:x', ?)",
                        [(f"{c}-A", c, z, T) for c, z in (("FR", "Europe/Paris"),
                                                          ("DE", "Europe/Berlin"),
                                                          ("NL", "Europe/Amsterdam"))])
        raw.executemany(
            "INSERT INTO seizures (op_id, seq, type, value, country, provider, status, tlp, "
            "created_by, created_at, updated_at) VALUES (1, ?, ?, ?, 'NL', 'Hoster', ?, ?, "
            "'@o:x', ?, ?)",
            ((i, TYPES[i % 5], _value(TYPES[i % 5], i), STATUSES[i % 6],
              ("GREEN", "AMBER", "RED")[i % 3], T, T) for i in range(1, seizures + 1)))
        raw.executemany(
            "INSERT INTO tasks (op_id, seq, text, assignee, agency, due, priority, status, tlp, "
            "created_by, created_at, updated_at) VALUES (1, ?, ?, NULL, ?, ?, 'normal', ?, "
            "'AMBER', '@o:x', ?, ?)",
            ((i, f"task {i}", ("FR-A", "DE-A", "NL-A")[i % 3],
              "2026-11-24T10:00:00Z" if i % 4 == 0 else None, ("open", "done")[i % 2], T, T)
             for i in range(1, tasks + 1)))
        raw.executemany(
            "INSERT INTO arrests (op_id, seq, ref, country, agency, at, tlp, created_by, "
            "created_at, updated_at) VALUES (1, ?, ?, ?, 'FR-A', ?, 'AMBER', '@o:x', ?, ?)",
            ((i, f"R-{i}", ("FR", "DE", "NL", "ES")[i % 4], T, T, T)
             for i in range(1, arrests + 1)))
        raw.executemany(
            "INSERT INTO takedowns (op_id, seq, target, seizure_seq, agency, planned_at, status, "
            "executed_at, tlp, created_by, created_at, updated_at) VALUES (1, ?, ?, ?, 'DE-A', "
            "'2026-11-25T04:00:00Z', ?, ?, 'AMBER', '@o:x', ?, ?)",
            ((i, f"S-{i}", i, "done" if i % 2 else "planned",
              f"2026-11-25T04:{i % 60:02d}:00Z" if i % 2 else None, T, T)
             for i in range(1, takedowns + 1)))
        audit_every_row(raw)
    raw.close()
    return path


def audit_every_row(raw: sqlite3.Connection) -> None:
    raw.row_factory = sqlite3.Row
    prev, n, entries = GENESIS, 0, []
    for table in ("operations", "agencies", "seizures", "tasks", "arrests", "takedowns"):
        for row in raw.execute(f"SELECT * FROM {table} ORDER BY id"):
            n += 1
            entry = {"room_id": ROOM, "n": n, "at": T, "sender": "@o:x", "event_id": f"$e{n}",
                     "command": "(bench)", "action": "insert", "tbl": table,
                     "row_id": row["id"], "before": None, "after": canonical(image(dict(row))),
                     "undoes": None, "prev_hash": prev, "sent_at": None}
            entry["hash"] = prev = entry_hash(entry)
            entries.append(entry)
    raw.row_factory = None
    cols = list(entries[0])
    raw.executemany(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})", ([e[c] for c in cols] for e in entries))
    raw.execute("INSERT INTO audit_heads (room_id, n, hash) VALUES (?, ?, ?)", (ROOM, n, prev))
