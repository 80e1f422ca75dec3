"""Partner rooms: which room is fed from which operation, what each partner was assigned,
and what partners reported.

What a partner may see is decided here in one query per kind (`assigned`): a record is
theirs only while it is assigned to their live link and at or below the link's TLP (the
levels are handed in, as everywhere in storage), so every reader (the room's posts, the
partner sitrep, the partner's export) shows the same.
"""

from __future__ import annotations

from storage.statements import placeholders
from storage.tx import Row, Tx

KINDS = ("seizures", "takedowns")


async def live_for_room(tx: Tx, room_id: str) -> Row | None:
    """The live link that makes `room_id` a partner room, if any."""
    return await tx.one("SELECT * FROM partner_links WHERE room_id=? AND active=1", (room_id,))


async def live_of_op(tx: Tx, op_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM partner_links WHERE op_id=? AND active=1 ORDER BY id",
                        (op_id,))


async def live_named(tx: Tx, op_id: int, name: str) -> Row | None:
    return await tx.one("SELECT * FROM partner_links WHERE op_id=? AND active=1 AND "
                        "name=? COLLATE NOCASE", (op_id, name))


async def assignment(tx: Tx, link_id: int, table: str, row_id: int) -> Row | None:
    return await tx.one("SELECT * FROM partner_assignments WHERE link_id=? AND tbl=? AND "
                        "row_id=?", (link_id, table, row_id))


async def assigned_elsewhere(tx: Tx, op_id: int, link_id: int, table: str, row_id: int
                             ) -> list[str]:
    """The other live partners a record is assigned to (a server may be one host's and a
    registrar's at once)."""
    rows = await tx.all("SELECT l.name FROM partner_assignments a JOIN partner_links l "
                        "ON l.id = a.link_id WHERE l.op_id=? AND l.active=1 AND l.id != ? "
                        "AND a.tbl=? AND a.row_id=? ORDER BY l.name",
                        (op_id, link_id, table, row_id))
    return [row["name"] for row in rows]


async def assigned(tx: Tx, link: Row, table: str, levels: tuple[str, ...]) -> list[Row]:
    """The records of `table` the partner of `link` may see: assigned to this live link and
    at one of `levels`, those of the link's TLP (a record raised above it after it was
    assigned drops out)."""
    if table not in KINDS:
        raise ValueError(f"partners are never assigned {table}")
    return await tx.all(
        f"SELECT r.* FROM partner_assignments a JOIN {table} r ON r.id = a.row_id "
        f"JOIN partner_links l ON l.id = a.link_id WHERE a.link_id=? AND a.tbl=? "
        f"AND l.active=1 AND r.tlp IN ({placeholders(levels)}) ORDER BY r.seq",
        (link["id"], table, *levels))


async def reports(tx: Tx, link_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM partner_reports WHERE link_id=? ORDER BY id", (link_id,))
