"""A commit that does not happen (a power cut, a dying disk), for the tests that prove
nothing is acknowledged or kept without it: the batch's statements have all run when the
COMMIT fails, exactly where a crash would hit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from storage.database import Database


@contextmanager
def commit_fails(db: Database, error: BaseException) -> Iterator[None]:
    """Every commit of `db` raises `error` instead of committing, until the block ends."""

    async def failing(writes: int) -> None:
        raise error

    db._commit = failing  # type: ignore[method-assign]
    try:
        yield
    finally:
        del db._commit  # the class's own again
