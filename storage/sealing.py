"""Personal values sealed per data subject, so that destroying one key erases them everywhere.

Why sealing and not deleting: the audit log is a hash chain that is never edited, and
backups, the WAL and free pages keep old bytes after a DELETE. A value written only as
AES-256-GCM ciphertext under its subject's own key (storage.keystore) becomes unreadable
in all those copies at once when that key is destroyed, while the chain still verifies
byte for byte: it hashes the ciphertext (crypto-shredding).

A sealed value is a BLOB: MAGIC, the key's id, the table and field it belongs to, a nonce,
then the ciphertext. The header is the associated data, so a value moved to another record
(another key) or another field does not open. The audit log's images hold a sealed value
as TOKEN + its hex, a text SQLite can produce too (storage.witness compares rows with it);
an erasure that also drops the ciphertext leaves DIGEST + the token's SHA-256 in its place,
which hashes the same (storage.audit.entry_hash), so the chain still verifies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.personal import BLIND_INDEXES

MAGIC = b"SL1\x00"
TOKEN = "\x00s:"
DIGEST = "\x00d:"
# TOKEN in SQL (a NUL cannot be written inside an SQL text literal).
SEALED_SQL_PREFIX = "char(0)||'s:'"
ERASED = "[erased]"
UNREADABLE = "[unreadable]"
_NONCE = 12
# A token inside the JSON text of an image (json.dumps writes the NUL as \u0000).
_TOKEN_IN_JSON = re.compile(r"\\u0000s:([0-9A-F]+)")
_DIGEST_IN_JSON = re.compile(r"\\u0000d:[0-9a-f]{64}")


class Keys(Protocol):
    def aead(self, key_id: int) -> AESGCM | None: ...


class Opened(str):
    """A sealed field's value as read: its text (ERASED once the key is gone) with the
    stored bytes kept beside it, so the audit log records the bytes, never the text."""

    blob: bytes
    erased: bool


def _opened(text: str, blob: bytes, erased: bool) -> Opened:
    value = Opened(text)
    value.blob = blob
    value.erased = erased
    return value


def header(key_id: int, table: str, column: str) -> bytes:
    return MAGIC + key_id.to_bytes(8, "big") + _place(table, column)


@functools.lru_cache(maxsize=256)
def _place(table: str, column: str) -> bytes:
    t, c = table.encode(), column.encode()
    return bytes([len(t)]) + t + bytes([len(c)]) + c


def _parse(blob: bytes) -> tuple[int, str, str, int]:
    """Key id, table, field and the header's length."""
    key_id = int.from_bytes(blob[4:12], "big")
    t_len = blob[12]
    table = blob[13:13 + t_len].decode()
    c_len = blob[13 + t_len]
    column = blob[14 + t_len:14 + t_len + c_len].decode()
    return key_id, table, column, 14 + t_len + c_len


def key_of(blob: bytes) -> int:
    return _parse(blob)[0]


def is_sealed(value: Any) -> bool:
    return type(value) is bytes and value[:4] == MAGIC


def seal(aead: AESGCM, key_id: int, table: str, column: str, value: str) -> bytes:
    head = header(key_id, table, column)
    nonce = os.urandom(_NONCE)
    return head + nonce + aead.encrypt(nonce, value.encode("utf-8"), head)


def open_value(keys: Keys, blob: bytes) -> Opened:
    try:
        key_id, _table, _column, size = _parse(blob)
    except (IndexError, UnicodeDecodeError):
        return _opened(UNREADABLE, blob, True)
    aead = keys.aead(key_id)
    if aead is None:
        return _opened(ERASED, blob, True)
    nonce = blob[size:size + _NONCE]
    try:
        text = aead.decrypt(nonce, blob[size + _NONCE:], blob[:size]).decode("utf-8")
    except (InvalidTag, ValueError, UnicodeDecodeError):
        return _opened(UNREADABLE, blob, True)
    return _opened(text, blob, False)


def opened_row(keys: Keys | None, row: Mapping[str, Any],
               known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A row with its sealed fields opened (left as they are without keys); `known`: the
    text of fields just sealed, which need no decrypting (a row an insert returns)."""
    out = {}
    for name, value in row.items():
        if type(value) is bytes:
            if name in BLIND_INDEXES:
                continue
            if value[:4] == MAGIC:
                text = known.get(name) if known else None
                if isinstance(text, str) and not is_token(text):
                    value = _opened(text, value, False)
                elif keys is not None:
                    value = open_value(keys, value)
        out[name] = value
    return out


def token(blob: bytes) -> str:
    return TOKEN + blob.hex().upper()


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN)


def from_token(value: str) -> bytes:
    return bytes.fromhex(value[len(TOKEN):])


def logged(value: Any) -> Any:
    """A value as the audit log keeps it: a sealed one as its token."""
    if isinstance(value, Opened):
        return token(value.blob)
    if type(value) is bytes and value[:4] == MAGIC:
        return token(value)
    return value


def digested(image_json: str) -> str:
    """An image's JSON with every sealed value replaced by its digest: what the chain
    hashes, so dropping the ciphertext later (a hard erasure) leaves the hash as it was."""
    if "\\u0000s:" not in image_json:
        return image_json
    return _TOKEN_IN_JSON.sub(
        lambda m: "\\u0000d:" + hashlib.sha256((TOKEN + m.group(1)).encode()).hexdigest(),
        image_json)


def tokens_keys(image_json: str) -> set[int]:
    """The key ids of the sealed values in an image's JSON."""
    return {int(m.group(1)[len(MAGIC) * 2:len(MAGIC) * 2 + 16], 16)
            for m in _TOKEN_IN_JSON.finditer(image_json)}


def digested_value(value: Any) -> Any:
    """A sealed text value (the audit log's command line) as its digest; others as they are."""
    if is_token(value):
        return DIGEST + hashlib.sha256(value.encode()).hexdigest()
    return value


def open_text(keys: Keys | None, value: Any) -> Any:
    """A sealed text value opened for a reader (ERASED once its key is gone)."""
    if isinstance(value, str) and value.startswith(DIGEST):
        return ERASED
    if is_token(value):
        return open_value(keys, from_token(value)) if keys else ERASED
    return value


def open_image_text(keys: Keys | None, text: str | None) -> str | None:
    """An audit image's JSON, opened for a reader (an export of the log)."""
    if text is None or ("\\u0000s:" not in text and "\\u0000d:" not in text):
        return text
    # In the text, not through json.loads/dumps: an export of 100,000 entries opens each
    # token where it stands (the image is canonical JSON, so the result is too).
    def opened(match: re.Match[str]) -> str:
        value = open_value(keys, bytes.fromhex(match.group(1))) if keys else ERASED
        return json.dumps(str(value), ensure_ascii=False)[1:-1]

    text = _TOKEN_IN_JSON.sub(opened, text)
    return _DIGEST_IN_JSON.sub(json.dumps(ERASED)[1:-1], text)


def open_image(keys: Keys | None, image: Mapping[str, Any]) -> dict[str, Any]:
    """An audit image with its tokens opened, for showing it (an /undo, a deleted record's
    last state); digests and erased values read as ERASED."""
    out = dict(image)
    for name, value in out.items():
        if isinstance(value, str) and value.startswith(DIGEST):
            out[name] = ERASED
        elif is_token(value):
            out[name] = open_value(keys, from_token(value)) if keys else ERASED
    return out
