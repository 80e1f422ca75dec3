"""Build an export file from the database without holding up the bot.

The whole export — reading a read-only snapshot and formatting it — runs in a separate
worker process. A thread is not enough: serialising 100,000 records is CPU work that holds
Python's GIL (json.dumps of a large document holds it for seconds), which would stall the
bot's event loop. Only the finished bytes come back.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commands.context import Attachment
from exports import csv_export, json_export, markdown, pdf, stix
from exports.snapshot import Snapshot, load
from storage.codec import to_db_time
from storage.database import Database, read_snapshot

FORMATS: dict[str, tuple[Callable[[Snapshot], bytes], str, str]] = {
    "md": (markdown.build, "md", "text/markdown"),
    "json": (json_export.build, "json", "application/json"),
    "csv": (csv_export.build, "zip", "application/zip"),
    "stix": (stix.build, "stix.json", "application/stix+json"),
    "pdf": (pdf.build, "pdf", "application/pdf"),
}
_pool: ProcessPoolExecutor | None = None


@dataclass(frozen=True)
class Summary:
    """What the reply says about an export, without shipping the records back."""

    code: str
    tlp: str
    total: int
    seizures: int
    audit_included: bool


def filename(code: str, now: datetime, tlp: str, ext: str) -> str:
    return f"{code}-{to_db_time(now)[:16].replace('-', '').replace(':', '')}Z-{tlp}.{ext}"


async def _make(path: Path, room_id: str, fmt: str, tlp: str | None, generated_at: str
                ) -> tuple[bytes, Summary]:
    async with read_snapshot(path) as tx:
        snap = await load(tx, room_id, tlp, generated_at, with_audit=fmt == "json")
    data = FORMATS[fmt][0](snap)
    return data, Summary(snap.op["code"], snap.tlp, snap.total, len(snap.records["seizures"]),
                         snap.audit_included)


def _worker(path: str, room_id: str, fmt: str, tlp: str | None, generated_at: str
            ) -> tuple[bytes, Summary]:
    return asyncio.run(_make(Path(path), room_id, fmt, tlp, generated_at))


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the bot process has threads (aiosqlite, nio) a fork would copy.
        _pool = ProcessPoolExecutor(max_workers=1,
                                    mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def build_export(db: Database, room_id: str, fmt: str, tlp: str | None,
                       now: datetime) -> tuple[Attachment, Summary]:
    _, ext, mimetype = FORMATS[fmt]
    loop = asyncio.get_running_loop()
    data, summary = await loop.run_in_executor(
        _executor(), _worker, str(db.path), room_id, fmt, tlp, to_db_time(now))
    name = filename(summary.code, now, summary.tlp, ext)
    return Attachment(filename=name, mimetype=mimetype, data=data), summary
