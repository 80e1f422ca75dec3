"""How values are written to and read from the database, in one place.

Times are ISO 8601 UTC text with a `Z`, seconds precision: they sort as text, read well
in exports, and round-trip exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def to_db_time(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("naive datetime cannot be stored; attach a zone first")
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@overload
def from_db_time(text: str) -> datetime: ...
@overload
def from_db_time(text: None) -> None: ...
@overload
def from_db_time(text: str | None) -> datetime | None: ...


def from_db_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
