"""What languages cost: the catalogue lookup per call and per reply, a command answered in
English vs Arabic (the language read, the catalogue, the right-to-left marks), and the
large operation's sitrep rendered in each language.

Target (issue 17): the sitrep render and a command's round trip no slower than 5% than
in English, which is the cost of the code before languages (English is the source text:
its lookups return the msgid).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bigop import ROOM, build
from commands import Settings, i18n, notice_content, produce_sitrep, speaking, tr
from storage.database import Database
from tests.harness import Harness

COMMANDS = 300
LOOKUPS = 100_000


def _lookup_ns(lang: str) -> float:
    with speaking(lang):
        tr("Usage: {usage}")  # the catalogue loaded before timing
        start = time.perf_counter()
        for _ in range(LOOKUPS):
            tr("Usage: {usage}")
        return (time.perf_counter() - start) / LOOKUPS * 1e9


async def _commands_ms(lang: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness.open(Path(tmp), Settings(deconfliction=False, language=lang))
        await h.setup_operation()
        times = []
        for i in range(COMMANDS):
            start = time.perf_counter()
            reply = await h.send(f'!task add "Server {i}" due=H+2h')
            notice_content(reply.text, reply.html, "$x", lang=reply.lang)
            times.append(time.perf_counter() - start)
        await h.close()
        return statistics.median(times) * 1000


async def _sitrep_ms(db: Database, op: dict, lang: str) -> float:
    times = []
    for _ in range(5):
        with speaking(lang):
            start = time.perf_counter()
            reply = await db.write(lambda tx: produce_sitrep(tx, op, datetime.now(UTC)))
            assert reply is not None
            notice_content(reply.text, reply.html, lang=lang)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def _counted_lookups() -> tuple[int, int]:
    counted = 0
    original = i18n.catalogue

    def counting(language: str):  # type: ignore[no-untyped-def]
        nonlocal counted
        counted += 1
        return original(language)

    lines = ('!task add "Image server fra-2" due=H+2h', "!task list", "!op",
             "!seize domain evil.example", "!task frob")
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness.open(Path(tmp), Settings(deconfliction=False, language="ar"))
        await h.setup_operation()
        i18n.catalogue = counting  # type: ignore[assignment]
        try:
            for line in lines:
                await h.send(line)
        finally:
            i18n.catalogue = original  # type: ignore[assignment]
        await h.close()
    return counted, len(lines)


async def main() -> dict:
    results: dict[str, float] = {}
    for lang in ("en", "ar"):
        results[f"catalogue_lookup_ns_{lang}"] = round(_lookup_ns(lang))
    lookups, replies = await _counted_lookups()
    results["lookups_per_reply"] = round(lookups / replies, 1)
    results["catalogue_us_per_reply_ar"] = round(
        lookups / replies * results["catalogue_lookup_ns_ar"] / 1000, 1)
    for lang in ("en", "ar"):
        results[f"command_ms_p50_{lang}"] = round(await _commands_ms(lang), 2)
    results["command_ar_over_en"] = round(results["command_ms_p50_ar"]
                                          / results["command_ms_p50_en"], 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = await build(Path(tmp) / "big.db")
        db = await Database.open(path)
        op = await db.read(lambda tx: tx.one("SELECT * FROM operations WHERE room_id=?",
                                             (ROOM,)))
        for lang in ("en", "fr", "ar"):
            results[f"sitrep_ms_p50_{lang}"] = round(await _sitrep_ms(db, dict(op), lang), 1)
        await db.close()
    results["sitrep_ar_over_en"] = round(results["sitrep_ms_p50_ar"]
                                         / results["sitrep_ms_p50_en"], 3)
    return results
