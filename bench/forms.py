"""What a request form costs: drafting it, checking it and exporting its JSON are commands
(the draft is assembled from the records at each), and the DOCX and pdf are written by a
worker process after the command.

No target in issue 19; measured so a later change that makes a draft slow is seen. A draft
names up to a few dozen identifiers; 50 are used here.
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from commands import Settings
from exports import form_files
from tests.harness import Harness

ITEMS = 50
ROUNDS = 30


async def main() -> dict:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness.open(Path(tmp), Settings(deconfliction=False))
        await h.setup_operation()
        for i in range(ITEMS):
            await h.ok(f"!seize ip 198.51.{i // 250}.{i % 250 + 1}")
        items = ",".join(f"S-{i + 1}" for i in range(ITEMS))
        await h.ok(f"!preserve add ExampleHost country=NL items={items}")
        await h.ok("!preserve draft P-1 form=epoc")
        for line, key in (("!form F-1 check", "check_ms_p50"),
                          ('!form F-1 set facts="x"', "set_ms_p50"),
                          ("!form F-1 export json", "export_json_ms_p50")):
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                reply = await h.send(line)
                times.append(time.perf_counter() - start)
                assert reply.text
            results[key] = round(statistics.median(times) * 1000, 2)
        start = time.perf_counter()
        for _ in range(ROUNDS):
            await h.ok("!preserve draft P-1 form=epoc-pr")
        results["draft_ms_mean"] = round((time.perf_counter() - start) / ROUNDS * 1000, 2)
        reply = await h.ok("!form F-1 export json")
        assert reply.attachment is not None and reply.attachment.path is not None
        draft = json.loads(reply.attachment.path.read_bytes())
        for fmt in ("docx", "pdf"):
            form_files.write(draft, fmt, io.BytesIO())  # the libraries loaded before timing
            times = []
            for _ in range(5):
                start = time.perf_counter()
                form_files.write(draft, fmt, io.BytesIO())
                times.append(time.perf_counter() - start)
            results[f"write_{fmt}_ms_p50"] = round(statistics.median(times) * 1000, 1)
        await h.close()
    results["identifiers"] = ITEMS
    return results
