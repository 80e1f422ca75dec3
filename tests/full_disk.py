"""A filesystem that really fills up, for the disk-full tests.

A 2 MB tmpfs mounted for the test (the tests run as root) and filled with a file, so
SQLite gets ENOSPC from the kernel exactly as on a full server disk. Where mounting is
not permitted, SQLite's `max_page_count` makes the database itself refuse to grow
(with its free space used up first), which SQLite reports with the same SQLITE_FULL,
and a file-size limit (RLIMIT_FSIZE) makes plain files refuse to grow; `how` says which
one a test ran with.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.database import Database


class FullDisk:
    def __init__(self, root: Path, size: str = "2m") -> None:
        self.root = root
        self.how = "tmpfs"
        self._db: Database | None = None
        self._fill = root / "fill"
        root.mkdir(parents=True, exist_ok=True)
        if os.environ.get("OPSROOM_TEST_NO_MOUNT"):  # to try the fallback where mount works
            self.how = "max_page_count"
            return
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(root)],
                                 capture_output=True)
        if mounted.returncode != 0:
            self.how = "max_page_count"

    def fill(self, db: Database) -> None:
        if self.how == "max_page_count":
            self._db = db
            self._fill_database(db._raw)
            return
        fd = os.open(self._fill, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass  # full
        try:
            while True:
                os.write(fd, b"\0" * 512)  # the last crumbs too
        except OSError:
            pass
        finally:
            os.close(fd)

    @staticmethod
    def _fill_database(raw: sqlite3.Connection) -> None:
        """No page to spare, and no room left in the last page of `processed_events`, which
        every command appends to: its next write needs a page, and there is none."""
        raw.execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)")
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        raw.execute(f"PRAGMA max_page_count={pages}")
        fillers = (
            "INSERT INTO test_filler VALUES (zeroblob(?))",  # free pages
            "INSERT INTO processed_events (event_id, room_id, sender, reply, delivered, "
            "processed_at) VALUES ('$~fill' || random(), '!fill', '', zeroblob(?), 1, '')",
        )
        for sql in fillers:
            for size in (4096, 1024, 256, 64, 16, 1):
                try:
                    while True:
                        raw.execute(sql, (size,))
                except sqlite3.OperationalError:
                    pass

    @contextmanager
    def full_for_files(self) -> Iterator[None]:
        """No room for files (the database is not involved), then space again."""
        if self.how == "tmpfs":
            self.fill(None)  # type: ignore[arg-type]
            try:
                yield
            finally:
                self.free()
            return
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
            signal.signal(signal.SIGXFSZ, handler)

    def free(self) -> None:
        if self._db is not None and not self._db._closed:
            raw = self._db._raw
            raw.execute("PRAGMA max_page_count=1073741823")
            raw.execute("DELETE FROM processed_events WHERE room_id='!fill'")
            raw.execute("DROP TABLE IF EXISTS test_filler")
        self._db = None
        self._fill.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.how == "tmpfs":
            subprocess.run(["umount", "-l", str(self.root)], check=False)
