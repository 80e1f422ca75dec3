"""Request form drafts (F-n), each drafted from one preservation / MLA request (P-n).

The officer's own values are kept as JSON text in the row, so a change to any of them is
one audited update whose before and after the log shows whole.
"""

from __future__ import annotations

import json
from typing import Any

from storage.sealing import ERASED, UNREADABLE
from storage.tx import Row, Tx


def values(row: Row, column: str) -> Any:
    """A JSON column of a form row (`fields`, `items`, `red_override`) as Python data; an
    erased one (storage.sealing) as empty: the officer's values are gone, the draft stays."""
    text = row[column]
    if text in (ERASED, UNREADABLE):
        return {}
    return json.loads(text)


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def of_request(tx: Tx, preservation_id: int) -> list[Row]:
    """The request's form drafts, the newest first (its newest form says how it extends)."""
    return await tx.all("SELECT * FROM forms WHERE preservation_id=? ORDER BY seq DESC",
                        (preservation_id,))


async def request_of(tx: Tx, form: Row) -> Row:
    row = await tx.one("SELECT * FROM preservations WHERE id=?", (form["preservation_id"],))
    assert row is not None  # a foreign key: a form is never without its request
    return row


async def others_newest_first(tx: Tx, op_id: int, form_id: int) -> list[Row]:
    """The operation's other drafts, the newest first: what they were told about the
    operation (its offence) is what the room knows when the next one is drafted."""
    return await tx.all("SELECT fields FROM forms WHERE op_id=? AND id != ? ORDER BY seq DESC",
                        (op_id, form_id))


async def listing(tx: Tx, op_id: int) -> list[Row]:
    return await tx.all("SELECT f.*, p.seq AS request_seq, p.provider, p.country "
                        "FROM forms f JOIN preservations p ON p.id = f.preservation_id "
                        "WHERE f.op_id=? ORDER BY f.seq", (op_id,))
