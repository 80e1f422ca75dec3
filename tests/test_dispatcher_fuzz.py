"""Whatever is typed, the dispatcher answers with a reason and never crashes.

More than 10,000 generated lines in total: random text, and valid commands (from every
declaration's usage and examples) mutated the way thumbs and autocorrect mutate them.
An "internal error" reply counts as a failure: it means a bug, not a user mistake.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.core import registry, spec
from storage import audit
from tests.harness import LEAD, OFFICER, Harness

registry.load()
SEEDS = sorted({c.usage for c in spec.REGISTRY.values()}
               | {e for c in spec.REGISTRY.values() for e in c.examples}
               | {'!task add "Image server" due=H+2h priority=high', "!seize ip 1.2.3[.]4",
                  "!takedown done K-1", "!task done T-1", "!seize status S-1 seized",
                  "!preserve status P-1 extended expires=+30d", "!rollcall", "!ready",
                  '!notready "no"', "!undo", "!audit verify", "!hhour", "!op"})
NOISE = st.sampled_from(['"', "“", "”", "„", "=", "@", "!", "/", "\x00", "\u202e", "\n", "\t",
                         "<script>", "&amp;", "9" * 40, "x" * 5000, "-", "+", "H", "T-",
                         "due=", "tlp=RED", " ", ":", "[.]", "é", "🚨", "'"])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup", "prefix"]))
        if op == "insert":
            line = line[:pos] + draw(NOISE) + line[pos:]
        elif op == "delete":
            end = pos + draw(st.integers(1, 6))
            line = line[:pos] + line[end:]
        elif op == "replace":
            line = line[:pos] + draw(st.text(max_size=3)) + line[pos + 1:]
        elif op == "dup":
            line = line + " " + line.split(" ")[-1]
        else:
            line = draw(st.sampled_from(["/", "!", "", " !"])) + line.lstrip("/!")
    return line


LINES = st.one_of(mutated(), st.text(max_size=200).map(lambda s: "!" + s),
                  st.text(max_size=60))


class World:
    """One database and event loop for all examples of a test, so runs stay fast."""

    def __init__(self, with_operation: bool) -> None:
        self.count = 0
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.h: Harness = self.loop.run_until_complete(Harness.open(Path(self.tmp.name)))
        if with_operation:
            self.loop.run_until_complete(self.h.setup_operation())
            for line in ("!hhour 2026-11-25T04:00Z", '!task add "seed"', "!seize ip 1.2.3.4",
                         "!takedown add S-1 agency=FR-OFAC", "!preserve add H country=US"):
                self.loop.run_until_complete(self.h.ok(line))

    def check(self, line: str, sender: str) -> None:
        self.count += 1
        reply = self.loop.run_until_complete(self.h.send(line, sender=sender))
        assert reply.text.strip() and reply.html.strip(), line
        assert "internal error" not in reply.text, (line, reply.text)
        if not reply.ok:
            assert "⚠️" in reply.text or "FAILED" in reply.text, (line, reply.text)

    def close(self) -> None:
        async def verify() -> list[audit.VerifyResult]:
            return await self.h.db.read(audit.verify_all)

        results = self.loop.run_until_complete(verify())
        assert all(r.ok for r in results), [r.problems for r in results]
        self.loop.run_until_complete(self.h.close())
        self.loop.close()
        self.tmp.cleanup()


FUZZ = settings(max_examples=3000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _run(with_operation: bool, sender: str, examples: int) -> None:
    world = World(with_operation)

    @settings(FUZZ, max_examples=examples)
    @given(LINES)
    def prop(line: str) -> None:
        world.check(line, sender)

    try:
        prop()
        # Hypothesis may stop early when it runs out of new inputs; make sure it did not.
        assert world.count >= examples, world.count
    finally:
        world.close()


def test_fuzz_lead_in_an_operation() -> None:
    _run(True, LEAD, 4000)


def test_fuzz_officer_in_an_operation() -> None:
    _run(True, OFFICER, 3500)


def test_fuzz_lead_in_a_room_without_operation() -> None:
    _run(False, LEAD, 1500)


def test_fuzz_officer_in_a_room_without_operation() -> None:
    _run(False, OFFICER, 1500)
