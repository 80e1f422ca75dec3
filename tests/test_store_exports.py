"""The export reads keep to the levels they are handed, and their filters (one record by
number, takedowns by status, in execution order) pick what they say (storage.exports)."""

from __future__ import annotations

import pytest

from storage import exports
from storage.database import read_only_sync
from tests.harness import Harness

GREEN_AND_BELOW = ("CLEAR", "GREEN")


@pytest.fixture
async def op(h: Harness) -> Harness:
    for line in [
        "!hhour 2026-11-25T04:00Z",
        "!seize domain red.example tlp=RED",
        "!seize ip 203.0.113.7 tlp=GREEN",
        "!takedown add S-1 agency=FR-OFAC at=H+2h tlp=GREEN",
        "!takedown add S-2 agency=FR-OFAC at=H+1h tlp=GREEN",
        "!takedown add free.example agency=FR-OFAC at=H tlp=GREEN",
        "!takedown add S-2 agency=FR-OFAC at=H+3h tlp=RED",
    ]:
        await h.ok(line)
    await h.ok("!takedown done K-2")
    return h


def _op_id(op: Harness) -> int:
    with read_only_sync(op.db.path) as conn:
        found = exports.operation(conn, op.room)
        assert found is not None
        return int(found["id"])


async def test_records_above_the_levels_are_not_read(op: Harness) -> None:
    op_id = _op_id(op)
    with read_only_sync(op.db.path) as conn:
        seizures = list(exports.records(conn, "seizures", op_id, GREEN_AND_BELOW))
        assert [s["value"] for s in seizures] == ["203.0.113.7"]
        assert exports.count(conn, "takedowns", op_id, GREEN_AND_BELOW) == 3
        assert exports.count(conn, "takedowns", op_id, (*GREEN_AND_BELOW, "AMBER", "RED")) == 4
        assert exports.levels_used(conn, "takedowns", op_id, GREEN_AND_BELOW) == {"GREEN"}


async def test_a_takedown_says_whether_its_seized_item_is_at_the_levels(op: Harness) -> None:
    op_id = _op_id(op)
    with read_only_sync(op.db.path) as conn:
        shown = {k["seq"]: k["seizure_shown"]
                 for k in exports.records(conn, "takedowns", op_id, GREEN_AND_BELOW)}
        assert shown == {1: 0, 2: 1, 3: 1}  # S-1 is RED; K-3 names no seized item
        assert not exports.seizure_shown(conn, op_id, 1, GREEN_AND_BELOW)
        assert exports.seizure_shown(conn, op_id, 1, ("CLEAR", "GREEN", "AMBER", "RED"))


async def test_the_filters_pick_one_record_the_done_ones_and_the_execution_order(
        op: Harness) -> None:
    op_id = _op_id(op)
    with read_only_sync(op.db.path) as conn:
        [one] = exports.records(conn, "seizures", op_id, GREEN_AND_BELOW, seq=2)
        assert one["value"] == "203.0.113.7"
        assert list(exports.records(conn, "seizures", op_id, GREEN_AND_BELOW, seq=1)) == []
        assert exports.count(conn, "takedowns", op_id, GREEN_AND_BELOW, status="done") == 1
        # Executed first (K-2, at the command's time), then by plan: K-3 at H, K-1 at H+2h.
        order = [k["seq"] for k in exports.records(conn, "takedowns", op_id, GREEN_AND_BELOW,
                                                    order="execution")]
        assert order == [2, 3, 1]
        assert [k["seq"] for k in exports.records(conn, "takedowns", op_id, GREEN_AND_BELOW,
                                                  limit=2)] == [1, 2]


async def test_a_table_that_is_not_a_record_kind_is_refused(op: Harness) -> None:
    op_id = _op_id(op)
    with read_only_sync(op.db.path) as conn:
        with pytest.raises(ValueError, match="not an exported record kind"):
            exports.count(conn, "audit_log", op_id, GREEN_AND_BELOW)
