"""Everything, machine-readable, with a schema version (schema: exports/schema/).

Written piece by piece (one record a line) rather than as one `json.dumps`, so the
document never has to exist in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, BinaryIO

from exports.snapshot import RECORD_KINDS, SCHEMA_VERSION, Snapshot, public


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_array(out: BinaryIO, items: Iterable[Any]) -> None:
    out.write(b"[")
    for i, item in enumerate(items):
        out.write((b",\n" if i else b"\n") + dumps(item))
    out.write(b"\n]")


def build(snap: Snapshot, out: BinaryIO) -> None:
    op = public(snap.op)
    scalars = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": snap.generated_at,
        "tlp": snap.tlp,
        "operation": {k: op[k] for k in ("room_id", "name", "code", "tz", "tlp", "phase",
                                         "hhour", "created_by", "created_at")},
        "agencies": snap.agencies,
        "members": snap.members,
        "rollcalls": [public(r) for r in snap.rollcalls],
        "audit_log_included": snap.audit_included,
    }
    streamed = {
        "audit_log": lambda: write_array(
            out, ({k: v for k, v in e.items() if k != "id"} for e in snap.audit())),
        "records": lambda: _records(snap, out),
    }
    out.write(b"{")
    for i, key in enumerate(sorted([*scalars, *streamed])):
        out.write((b",\n" if i else b"\n") + dumps(key) + b": ")
        if key in streamed:
            streamed[key]()
        else:
            out.write(dumps(scalars[key]))
    out.write(b"\n}\n")


def _records(snap: Snapshot, out: BinaryIO) -> None:
    out.write(b"{")
    for i, kind in enumerate(sorted(RECORD_KINDS)):
        out.write((b",\n" if i else b"\n") + dumps(kind) + b": ")
        write_array(out, (public(r) for r in snap.rows(kind)))
    out.write(b"\n}")
