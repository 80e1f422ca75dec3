"""`opsroom export` on the server: the same bytes as the room export for the same data
and time, written to a file."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from commands import Attachment, Settings, form_draft, validate
from exports.build import FORMATS, build_export
from exports.form_writer import write_form
from storage.database import Database


async def export_to_file(db_path: Path, room_id: str, fmt: str, tlp: str | None,
                         out: Path | None, now: datetime | None = None, *,
                         left_out: list[str] | None = None, lang: str | None = None
                         ) -> Path:
    """The file, written in `lang` (by default the language in force). Raises
    `commands.ExportRefused` while records changed behind the audit log are not
    acknowledged; once they are, their names are added to `left_out` (they are not in the
    file)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
    level = validate.tlp(tlp) if tlp else None
    db = await Database.open(db_path)
    try:
        attachment, summary = await build_export(db, room_id, fmt, level, now or datetime.now(UTC),
                                                  lang=lang)
    finally:
        await db.close()
    if left_out is not None:
        left_out.extend(summary.left_out)
    return _place(attachment, out)


def _place(attachment: Attachment, out: Path | None) -> Path:
    """Moves the file the worker wrote to `out` (a file or a directory), private."""
    path = out or Path(attachment.filename)
    if path.is_dir():
        path = path / attachment.filename
    assert attachment.path is not None  # export files are written to disk, never held
    shutil.move(attachment.path, path)
    path.chmod(0o600)
    return path


async def form_to_file(db_path: Path, settings: Settings, room_id: str, seq: int, fmt: str,
                       out: Path | None, now: datetime | None = None) -> Path:
    """`opsroom form`: a request form draft's file, as `/form F-n export` writes it. Read
    only: the room's audit log records the exports made in the room, not this one."""
    db = await Database.open(db_path)
    try:
        draft = await db.read(lambda tx: form_draft(tx, settings, room_id, seq,
                                                    now or datetime.now(UTC)))
        attachment = await write_form(db_path, draft, fmt)
    finally:
        await db.close()
    return _place(attachment, out)
