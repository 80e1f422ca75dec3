"""Build an export file from the database without holding up the bot.

The whole export runs in a separate worker process: serialising 100,000 records is CPU
work that holds Python's GIL, which in a thread would stall the bot's event loop. The
worker streams rows from a read-only transaction into a file (0600, `exports/` in the data
dir), so neither process ever holds the whole export in memory; the bot uploads the file
as a stream and deletes it once sent.

The file is written in the language of the member who asked for it: the one in force when
`build_export` is called (the dispatcher keeps the sender's around a command's slow part).
A context variable does not cross into a worker process, so its code is handed over with
the job and set again there around the build.

Each format's module is imported by the worker when it first builds that format, never by
the bot: matplotlib, reportlab, stix2 and pymisp together would add some 70 MB to a process
that only hands the job over.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from commands import (
    Attachment,
    Exporter,
    ExportRefused,
    ExportSummary,
    export_refusal,
    i18n,
    mismatch_name,
    speaking,
    tr,
)
from exports import pool
from exports.files import export_dir
from exports.snapshot import Snapshot, load, operation_room
from storage import witness
from storage.codec import to_db_time
from storage.database import Database, read_only_sync


class Format(NamedTuple):
    module: str  # in exports/, with `build(snapshot, out)`
    extension: str
    mimetype: str


FORMATS: dict[str, Format] = {
    "md": Format("markdown", "md", "text/markdown"),
    "json": Format("json_export", "json", "application/json"),
    "csv": Format("csv_export", "zip", "application/zip"),
    "stix": Format("stix", "stix.json", "application/stix+json"),
    "misp": Format("misp", "misp.json", "application/json"),
    "pdf": Format("pdf", "pdf", "application/pdf"),
}


def builder(fmt: str) -> Callable[[Snapshot, BinaryIO], None]:
    build: Callable[[Snapshot, BinaryIO], None] = importlib.import_module(
        f"exports.{FORMATS[fmt].module}").build
    return build


def filename(code: str, now: datetime, tlp: str, ext: str) -> str:
    return f"{code}-{to_db_time(now)[:16].replace('-', '').replace(':', '')}Z-{tlp}.{ext}"


def _make(path: Path, room_id: str, fmt: str, tlp: str | None, generated_at: str,
          out_path: Path, lang: str = i18n.SOURCE, held: bool = False) -> ExportSummary:
    """In the worker process: the file of one export, written in `lang`. A partner room's
    export is guarded by its operation's audit log too, but names none of the records
    held back: they need not be the partner's."""
    with speaking(lang), read_only_sync(path) as conn:
        op_room = operation_room(conn, room_id, fmt)
        left_out = _witnessed(conn, op_room, partner=op_room != room_id)
        snap = load(conn, room_id, tlp, generated_at, with_audit=fmt == "json",
                    show_held=held)
        snap.workdir = out_path.parent
        fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            builder(fmt)(snap, out)
        return ExportSummary(snap.stem, snap.tlp, snap.total, snap.counts["seizures"],
                       snap.audit_included, snap.audit_withheld, left_out,
                       snap.held_left_out)


def _witnessed(conn: sqlite3.Connection, room_id: str, *, partner: bool = False
               ) -> tuple[str, ...]:
    """The gate before any export: records changed behind the audit log stop it until a
    lead acknowledges them, and then stay out of it, since what they hold now is what the
    log never allowed (a RED item relabelled GREEN). Checked on the export's own read
    transaction, so what is checked is what is exported. Returns the names left out."""
    found = witness.check_sync(conn, room_id)
    if found.open:
        raise ExportRefused(tr("the operation's records must be checked by a lead before "
                               "anything is exported; ask the operation") if partner
                            else export_refusal(found))
    witness.leave_out(conn, ((m.tbl, m.row_id) for m in found.acknowledged))
    if partner:
        return ()
    return tuple(sorted({mismatch_name(m) for m in found.acknowledged}))


async def build_export(db: Database, room_id: str, fmt: str, tlp: str | None,
                       now: datetime, *, lang: str | None = None, held: bool = False
                       ) -> tuple[Attachment, ExportSummary]:
    """`lang`: the file's language; by default the one in force."""
    _, ext, mimetype = FORMATS[fmt]
    directory = export_dir(db.path)
    directory.mkdir(mode=0o700, exist_ok=True)
    out_path = directory / f"{uuid.uuid4().hex}.part"
    loop = asyncio.get_running_loop()
    try:
        summary = await loop.run_in_executor(
            pool.executor(), _make, db.path, room_id, fmt, tlp, to_db_time(now), out_path,
            lang or i18n.current(), held)
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    name = filename(summary.code, now, summary.tlp, ext)
    return Attachment(filename=name, mimetype=mimetype, path=out_path), summary


def exporter(db: Database) -> Exporter:
    """The /export builder the runtime gives the dispatcher."""

    async def export(room_id: str, fmt: str, tlp: str | None, at: datetime, *,
                     held: bool = False) -> tuple[Attachment, ExportSummary]:
        return await build_export(db, room_id, fmt, tlp, at, held=held)

    return export
