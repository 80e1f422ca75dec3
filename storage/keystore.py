"""The subjects' keys: a SQLite file of its own, each key wrapped by a key kept outside it.

Why apart from the operation database: erasing a subject is destroying its key, and a key
must not survive in the places a deleted row survives (the WAL, free pages, the backups
of the operation database). The key store is small, so after an erasure it is vacuumed
and its WAL truncated at once, and the wrapping key (KEK) is replaced: the live keys are
wrapped again under a new KEK and the old one is destroyed, so a copy of the key store
taken before the erasure, even with the erased key in it, opens nothing (nor does a copy
of the KEK file without the key store).

Durability: a record is sealed under a key created in the same batch, so the key store
commits before the operation database (storage.database) does. A crash between the two
leaves a key no record uses, never a record without its key.

The KEK file holds lines `generation:hex`; during a rotation it holds the old and the new
one, so a crash at any point leaves every wrapped key openable. It is created on first
start (0600) when missing; `[personal_data] kek_file` puts it elsewhere, e.g. on a
credential store mounted apart from the data directory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

KEK_ENV = "OPSROOM_KEK_FILE"
_PREFETCH = 512
_CACHE_MAX = 500_000  # so a spawned export worker finds a KEK kept elsewhere

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subject_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    category TEXT NOT NULL,
    kek INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
);
"""


class KeyStoreError(RuntimeError):
    pass


def default_paths(db_path: Path) -> tuple[Path, Path]:
    """The key store beside the database; the KEK where the environment says, else beside."""
    keys = db_path.with_suffix(".keys")
    kek = Path(os.environ[KEK_ENV]) if os.environ.get(KEK_ENV) else db_path.with_suffix(".kek")
    return keys, kek


def _write_private(path: Path, text: str) -> None:
    """Replace the file atomically, 0600, flushed to disk before it replaces the old one."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_kek(path: Path) -> dict[int, bytes]:
    keks: dict[int, bytes] = {}
    try:
        lines = path.read_text().split()
    except FileNotFoundError:
        return keks
    for line in lines:
        gen, _, hexkey = line.partition(":")
        try:
            key = bytes.fromhex(hexkey)
            keks[int(gen)] = key
        except ValueError:
            raise KeyStoreError(f"{path}: not a KEK file (line {line[:12]!r}…)") from None
        if len(key) != 32:
            raise KeyStoreError(f"{path}: a KEK must be 32 bytes")
    return keks


def _kek_text(keks: dict[int, bytes]) -> str:
    return "".join(f"{gen}:{key.hex()}\n" for gen, key in sorted(keks.items()))


class KeyStore:
    """One per database file; `seal_new=False` stores new values in clear (only the canary
    test does that, to show its scan finds what sealing hides)."""

    def __init__(self, path: Path, kek_path: Path, *, read_only: bool = False,
                 seal_new: bool = True) -> None:
        self.path, self.kek_path, self.read_only = path, kek_path, read_only
        self.seal_new = seal_new
        self._lock = threading.RLock()
        self._cache: dict[int, AESGCM] = {}
        # Keys drawn since the last commit: (id, table, category, key, created_at).
        self._pending: list[tuple[int, str, str, bytes, str]] = []
        self._next_id: int | None = None
        self._random = b""
        self._version: int | None = None  # the key store's data_version last seen (refresh)
        self._conn: sqlite3.Connection | None
        if read_only and not path.exists():
            # A database the bot has not opened since sealing came (`opsroom check-config`
            # reads its version first): nothing in it is sealed, nothing to open.
            self._conn, self._keks = None, {}
            return
        if read_only:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                   isolation_level=None, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA auto_vacuum=FULL")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.executescript(_SCHEMA)
        self._conn = conn
        self._keks = _read_kek(kek_path)
        if not self._keks:
            if read_only:
                raise KeyStoreError(f"no KEK at {kek_path}")
            if conn.execute("SELECT 1 FROM subject_keys LIMIT 1").fetchone():
                raise KeyStoreError(
                    f"{kek_path} is missing but {path} holds keys wrapped by it: without it "
                    "no sealed value opens. Restore the KEK file.")
            self._keks = {1: os.urandom(32)}
            _write_private(kek_path, _kek_text(self._keks))
        self._finish_rotation()

    @property
    def generation(self) -> int:
        return max(self._keks)

    # -- creating and reading keys ---------------------------------------------------------
    def new_key(self, table: str, category: str, at: str) -> tuple[int, AESGCM]:
        """A fresh key for one subject. It is written (wrapped) by `commit`, which the
        database runs on its commit thread before its own COMMIT: the event loop only draws
        the key and numbers it (ids are never reused, as AUTOINCREMENT would have it)."""
        with self._lock:
            if len(self._random) < 32:  # one read of the OS's CSPRNG for 64 keys
                self._random = os.urandom(32 * 64)
            dek, self._random = self._random[:32], self._random[32:]
            if self._next_id is None:
                row = self._db.execute(
                    "SELECT seq FROM sqlite_sequence WHERE name='subject_keys'").fetchone()
                self._next_id = (int(row[0]) if row else 0) + 1
            key_id = self._next_id
            self._next_id += 1
            self._pending.append((key_id, table, category, dek, at))
        aead = AESGCM(dek)
        self._cache[key_id] = aead
        return key_id, aead

    @property
    def pending(self) -> bool:
        return bool(self._pending) or (self._conn is not None and self._conn.in_transaction)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise KeyStoreError(f"{self.path} does not exist")
        return self._conn

    def commit(self) -> None:
        with self._lock:
            drawn, self._pending = self._pending, []
            if drawn:
                gen = self.generation
                kek = self._keks[gen]
                if not self._db.in_transaction:
                    self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO subject_keys (id, tbl, category, kek, wrapped, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(key_id, table, category, gen, aes_key_wrap(kek, dek), at)
                     for key_id, table, category, dek, at in drawn])
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def aead(self, key_id: int) -> AESGCM | None:
        """The subject's key, None once it was destroyed (or never existed)."""
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        if self._conn is None:
            return None
        # Records are mostly read in number order and were keyed in that order: one read
        # fetches the neighbours too (an export of 100,000 records costs 200 reads, not
        # 100,000).
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kek, wrapped FROM subject_keys WHERE id >= ? ORDER BY id LIMIT ?",
                (key_id, _PREFETCH)).fetchall()
        if len(self._cache) > _CACHE_MAX:
            self._cache.clear()
        for found, gen, wrapped in rows:
            self._cache[int(found)] = AESGCM(self._unwrap(int(gen), bytes(wrapped)))
        return self._cache.get(key_id)

    def refresh(self) -> None:
        """Forget cached keys if another process changed the key store since (an erasure
        in the bot, seen from an export worker): a destroyed key must not outlive it in a
        worker's memory."""
        if not self.read_only or self._conn is None:
            return
        with self._lock:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._cache.clear()
            self._version = version

    def _unwrap(self, gen: int, wrapped: bytes) -> bytes:
        for attempt in range(2):
            kek = self._keks.get(gen)
            if kek is not None:
                try:
                    return aes_key_unwrap(kek, wrapped)
                except InvalidUnwrap:
                    pass
            if attempt == 0:  # another process may have rotated the KEK since
                self._keks = _read_kek(self.kek_path) or self._keks
        raise KeyStoreError(f"a key in {self.path} does not open with the KEK in "
                            f"{self.kek_path}: the two files do not belong together")

    # -- erasing -----------------------------------------------------------------------------
    def destroy(self, key_ids: list[int]) -> int:
        """Delete the keys (idempotent: an erasure resumed after a crash calls it again)."""
        destroyed = 0
        with self._lock:
            self.commit()
            self._db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(key_ids), 500):
                chunk = key_ids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                destroyed += self._db.execute(
                    f"DELETE FROM subject_keys WHERE id IN ({marks})", chunk).rowcount
            self._db.execute("COMMIT")
        for key_id in key_ids:
            self._cache.pop(key_id, None)
        return destroyed

    def scrub(self) -> None:
        """Nothing of a destroyed key left in free pages or the WAL of the key store."""
        with self._lock:
            self.commit()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def rotate(self) -> int:
        """Wrap every live key under a new KEK and destroy the old KEK; the new generation."""
        new_gen = self.generation + 1
        self._keks = {**self._keks, new_gen: os.urandom(32)}
        _write_private(self.kek_path, _kek_text(self._keks))
        self._finish_rotation()
        return new_gen

    def _finish_rotation(self) -> None:
        """Rewrap keys still under an older KEK, then drop the older KEKs from the file; run
        at every start as well, so a rotation cut short by a crash completes."""
        if self.read_only or len(self._keks) == 1:
            return
        gen = self.generation
        with self._lock:
            self.commit()
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute("SELECT id, kek, wrapped FROM subject_keys WHERE kek<>?",
                                      (gen,)).fetchall()
            for key_id, old, wrapped in rows:
                dek = self._unwrap(int(old), bytes(wrapped))
                self._db.execute("UPDATE subject_keys SET kek=?, wrapped=? WHERE id=?",
                                   (gen, aes_key_wrap(self._keks[gen], dek), key_id))
            self._db.execute("COMMIT")
        self._keks = {gen: self._keks[gen]}
        _write_private(self.kek_path, _kek_text(self._keks))
        self.scrub()

    def close(self) -> None:
        with self._lock:
            self.commit()
            if self._conn is not None:
                self._conn.close()


_OPEN: dict[Path, tuple[KeyStore, int]] = {}


def for_database(db_path: Path, *, kek_path: Path | None = None, read_only: bool = False
                 ) -> KeyStore:
    """The key store of a database file, opened once per process (a writer's is shared
    with the snapshots the same process reads); `release` when done with it."""
    db_path = Path(db_path).resolve()
    store, users = _OPEN.get(db_path, (None, 0))
    if store is None or (store.read_only and not read_only):
        keys, default_kek = default_paths(db_path)
        store = KeyStore(keys, kek_path or default_kek, read_only=read_only)
    _OPEN[db_path] = (store, users + 1)
    return store


def release(db_path: Path) -> None:
    db_path = Path(db_path).resolve()
    store, users = _OPEN.get(db_path, (None, 0))
    if store is None:
        return
    if users > 1:
        _OPEN[db_path] = (store, users - 1)
        return
    del _OPEN[db_path]
    store.close()
