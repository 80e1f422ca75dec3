"""What sealing personal fields costs a mutation (issue 18): durable mutations per second
through the storage layer, sealed against in clear, and the sealing work alone.

A mutation here is what a command's write is without the chat around it: an audited insert
of a task (text sealed under a new key of its own, the command line under another) made
durable by the group commit. Target: >= 4,000 durable mutations/s sealed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from storage.audit import Actor
from storage.database import Database
from storage.tx import Tx

WRITERS = 200
TOTAL = 20_000
TARGET = 4000


async def _rate(path: Path, *, sealed: bool) -> float:
    db = await Database.open(path)
    db.keys.seal_new = sealed

    async def setup(tx: Tx) -> int:
        return int(await tx.execute(
            "INSERT INTO operations (room_id, name, code, tz, tlp, created_by, created_at, "
            "updated_at) VALUES ('!b:x', 'Bench', 'BENCH', 'UTC', 'AMBER', '@a:x', "
            "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"))

    op_id = await db.write(setup)

    def insert(i: int) -> tuple[Actor, object]:
        actor = Actor("!b:x", "@a:x", f"$e{i}", f'/task add "Contact Jane Doe-{i}"',
                      "2026-01-01T00:00:00Z")

        async def fn(tx: Tx) -> None:
            await tx.insert("tasks", {
                "op_id": op_id, "seq": await tx.next_seq(op_id, "T"),
                "text": f"Contact Jane Doe-{i}", "tlp": "AMBER", "created_by": "@a:x",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
        return actor, fn

    async def writer(w: int) -> None:
        for i in range(w, TOTAL, WRITERS):
            actor, fn = insert(i)
            await db.write(fn, actor)  # type: ignore[arg-type]

    start = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    rate = TOTAL / (time.perf_counter() - start)
    await db.close()
    return rate


def _sealing_us() -> float:
    """The sealing work of one mutation alone: a new key (wrapped) and two seals."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    from storage.sealing import seal
    kek = AESGCM.generate_key(bit_length=256)
    n = 20_000
    start = time.perf_counter()
    for i in range(n):
        for _ in range(2):  # the record's key and the command's
            dek = AESGCM.generate_key(bit_length=256)
            aes_key_wrap(kek, dek)
            seal(AESGCM(dek), i, "tasks", "text", f"Contact Jane Doe-{i}")
    return (time.perf_counter() - start) / n * 1e6


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        clear = await _rate(Path(tmp) / "clear" / "opsroom.db", sealed=False)
        sealed = await _rate(Path(tmp) / "sealed" / "opsroom.db", sealed=True)
    return {
        "durable_mutations_per_s_sealed": round(sealed),
        "durable_mutations_per_s_clear": round(clear),
        "target_mutations_per_s_sealed": TARGET,
        "sealing_us_per_mutation_cpu": round(_sealing_us(), 1),
    }
