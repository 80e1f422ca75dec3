"""Build an export file from the database without holding up the bot.

Reads go through a separate read-only connection (`db.snapshot()`), and formatting runs
in a worker thread, so other commands keep being answered while a big export is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from commands.context import Attachment
from exports import csv_export, json_export, markdown, pdf, stix
from exports.snapshot import Snapshot, load
from storage.codec import to_db_time
from storage.database import Database

FORMATS: dict[str, tuple[Callable[[Snapshot], bytes], str, str]] = {
    "md": (markdown.build, "md", "text/markdown"),
    "json": (json_export.build, "json", "application/json"),
    "csv": (csv_export.build, "zip", "application/zip"),
    "stix": (stix.build, "stix.json", "application/stix+json"),
    "pdf": (pdf.build, "pdf", "application/pdf"),
}


def filename(code: str, now: datetime, tlp: str, ext: str) -> str:
    return f"{code}-{to_db_time(now)[:16].replace('-', '').replace(':', '')}Z-{tlp}.{ext}"


async def build_export(db: Database, room_id: str, fmt: str, tlp: str | None,
                       now: datetime) -> tuple[Attachment, Snapshot]:
    builder, ext, mimetype = FORMATS[fmt]
    async with db.snapshot() as tx:
        snap = await load(tx, room_id, tlp, to_db_time(now), with_audit=fmt == "json")
    data = await asyncio.to_thread(builder, snap)
    name = filename(snap.op["code"], now, snap.tlp, ext)
    return Attachment(filename=name, mimetype=mimetype, data=data), snap
