"""Everything, machine-readable, with a schema version (schema: exports/schema/)."""

from __future__ import annotations

import json
from typing import Any

from exports.snapshot import RECORD_KINDS, SCHEMA_VERSION, Snapshot, public


def document(snap: Snapshot) -> dict[str, Any]:
    op = public(snap.op)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": snap.generated_at,
        "tlp": snap.tlp,
        "operation": {k: op[k] for k in ("room_id", "name", "code", "tz", "tlp", "phase",
                                         "hhour", "created_by", "created_at")},
        "agencies": snap.agencies,
        "members": snap.members,
        "records": {kind: [public(r) for r in snap.records[kind]] for kind in RECORD_KINDS},
        "rollcalls": [public(r) for r in snap.rollcalls],
        "audit_log_included": snap.audit_included,
        "audit_log": [{k: v for k, v in e.items() if k != "id"} for e in snap.audit],
    }


def build(snap: Snapshot) -> bytes:
    return json.dumps(document(snap), ensure_ascii=False, indent=1, sort_keys=True).encode()
