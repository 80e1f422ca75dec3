"""Writes a request form's file for the bot, in a worker process like every export.

python-docx and reportlab are imported by the worker only (exports/form_files.py imports
them when it writes a file of theirs), and
the file waits on disk (0600, the exports directory) until it is uploaded, as an
export's does.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from commands import Attachment, FormWriter, speaking
from exports import form_files, pool
from exports.files import export_dir
from storage.database import Database


def _write(draft: dict[str, Any], fmt: str, out_path: Path) -> None:
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with speaking(draft["language"]), os.fdopen(fd, "wb") as out:
        form_files.write(draft, fmt, out)


async def write_form(db_path: Path, draft: dict[str, Any], fmt: str) -> Attachment:
    directory = export_dir(db_path)
    directory.mkdir(mode=0o700, exist_ok=True)
    out_path = directory / f"{uuid.uuid4().hex}.part"
    try:
        await asyncio.get_running_loop().run_in_executor(pool.executor(), _write, draft, fmt,
                                                         out_path)
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    _, mimetype = form_files.FORMATS[fmt]
    return Attachment(filename=form_files.filename(draft, fmt), mimetype=mimetype,
                      path=out_path)


def form_writer(db: Database) -> FormWriter:
    """The /form export writer the runtime gives the dispatcher."""

    async def write(draft: dict[str, Any], fmt: str) -> Attachment:
        return await write_form(db.path, draft, fmt)

    return write
