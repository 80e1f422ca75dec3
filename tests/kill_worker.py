"""Subprocess for the kill test: acknowledges commands one by one until it is SIGKILLed.

Prints each event id only after `handle` returned, i.e. after the commit: what a user saw
acknowledged (✅) is exactly what this prints.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.harness import Harness


async def main(directory: Path) -> None:
    h = await Harness.open(directory)
    await h.ok('!op init "Operation Kill" code=KILL')
    i = 0
    while True:
        i += 1
        event_id = f"$kill{i}"
        reply = await h.send(f'!task add "task {i}"', event_id=event_id)
        assert reply.ok
        print(event_id, flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
