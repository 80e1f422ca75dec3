"""Which failures are the disk's, not the command's.

A full disk or a failing one needs the administrator, not the officer: the answer must
say so (instead of "internal error"), and the command must not be retried as if the
officer had typed something wrong. SQLite reports both through its result codes; files
written beside the database report them as OSError.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Literal

StorageFailure = Literal["full", "io"]

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def storage_failure(exc: BaseException | None) -> StorageFailure | None:
    """"full" or "io" when `exc`, or an exception it was raised from, is the storage
    refusing a write; None for anything else."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            primary = code & 0xFF if isinstance(code, int) else None
            text = str(exc)
            if primary == sqlite3.SQLITE_FULL or "database or disk is full" in text:
                return "full"
            if primary == sqlite3.SQLITE_IOERR or "disk I/O error" in text:
                return "io"
        elif isinstance(exc, OSError):
            if exc.errno in _FULL_ERRNOS:
                return "full"
            if exc.errno == errno.EIO:
                return "io"
        exc = exc.__cause__ or exc.__context__
    return None
