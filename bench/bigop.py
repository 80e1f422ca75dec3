"""A large operation written straight into SQLite (not through commands), for the sitrep
and export benchmarks: 100,000 seizures, 10,000 tasks, 1,000 arrests, 500 takedowns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
    raw.close()
    return path
