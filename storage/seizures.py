"""Seized or targeted infrastructure (S-n): domains, IPs, URLs, servers, wallets …"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from storage.statements import placeholders
from storage.tx import Row, Tx


async def value_key(tx: Tx, kind: str, value: str) -> bytes:
    """A keyed hash of the value, to find it again: the value itself is sealed (see
    storage.sealing) and cannot be compared in SQL; the key is the database's own secret,
    so the hash of a guessed value cannot be checked without the database."""
    secret = await tx.scalar("SELECT secret FROM deconfliction_secret")
    return hmac.new(bytes(secret), f"seizure-value\x00{kind}\x00{value}".encode(),
                    hashlib.sha256).digest()


async def seq_recorded(tx: Tx, op_id: int, kind: str, spellings: Sequence[str]) -> int | None:
    """The number of the item already recorded under any of `spellings` (an indicator may
    have been stored in an older spelling), None if there is none. Items recorded before
    values were sealed are still compared in clear."""
    keys = [await value_key(tx, kind, s) for s in spellings]
    seq = await tx.scalar(
        f"SELECT seq FROM seizures WHERE op_id=? AND type=? AND erased_by IS NULL "
        f"AND (value_key IN ({placeholders(keys)}) OR value IN ({placeholders(spellings)}))",
        (op_id, kind, *keys, *spellings))
    return int(seq) if seq is not None else None


async def held_seqs(tx: Tx, op_id: int, held: set[tuple[str, int]]) -> set[int]:
    """The numbers of the operation's seized items among `held` (storage.retention.held)."""
    ids = [row_id for tbl, row_id in held if tbl == "seizures"]
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found |= {int(r["seq"]) for r in await tx.all(
            f"SELECT seq FROM seizures WHERE op_id=? AND id IN ({placeholders(chunk)})",
            (op_id, *chunk))}
    return found


async def listing(tx: Tx, op_id: int, *, kind: str | None = None, status: str | None = None
                  ) -> list[Row]:
    """Items in number order; each given filter narrows the list."""
    where: list[str] = ["op_id=?"]
    params: list[object] = [op_id]
    for clause, value in (("type=?", kind), ("status=?", status)):
        if value is not None:
            where.append(clause)
            params.append(value)
    return await tx.all(f"SELECT * FROM seizures WHERE {' AND '.join(where)} ORDER BY seq",
                        params)
