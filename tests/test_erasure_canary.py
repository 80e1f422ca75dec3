"""The canary scan: a unique marker in every personal field, entered through the commands,
shown, exported in every format, then erased; afterwards no file of the data directory
(the database, its WAL and shared memory, the key store and its WAL, exports made since)
nor the log holds any marker in any usual encoding. With sealing off the same scan finds
them: the scan can fail."""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path

import pytest

from bot import erasure as run
from commands import Reply
from storage.outbox import Outbox
from storage.personal import CATEGORIES, PERSONAL
from tests.harness import OFFICER, Harness

pytestmark = pytest.mark.asyncio

PARTNER_ROOM = "!partner:localhost"
HOST = "@host:localhost"
FORMATS = ("md", "json", "csv", "stix", "misp", "pdf")


def _marker() -> str:
    return f"CANARY{uuid.uuid4().hex[:20].upper()}"


def encodings(marker: str) -> list[bytes]:
    """The marker as it may sit in a file: UTF-8, UTF-16 both ways, JSON \\u-escaped,
    base64 of it at each of the 3 alignments in a longer text, hex, and case-folded."""
    forms: list[bytes] = []
    for text in {marker, marker.lower(), marker.upper(), marker.casefold()}:
        raw = text.encode()
        forms += [raw, text.encode("utf-16-le"), text.encode("utf-16-be"),
                  raw.hex().encode(), raw.hex().upper().encode(),
                  "".join(f"\\u{ord(c):04x}" for c in text).encode(),
                  "".join(f"\\u{ord(c):04X}" for c in text).encode()]
        for shift in range(3):
            encoded = base64.b64encode(bytes(shift) + raw)
            start = 4 if shift else 0  # the first group mixes in what came before
            end = (shift + len(raw)) // 3 * 4  # the last partial group, what comes after
            forms.append(encoded[start:end])
    return forms


def found(markers: list[str], haystacks: dict[str, bytes]) -> list[tuple[str, str]]:
    hits = []
    for marker in markers:
        forms = encodings(marker)
        for name, data in haystacks.items():
            if any(form in data for form in forms):
                hits.append((marker, name))
    return hits


async def _scenario(h: Harness, markers: dict[tuple[str, str], str]) -> None:
    """Every personal field of storage.personal filled with its marker, through commands."""
    m = markers
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok(f'!arrest add NL-{m["arrests", "ref"]} country=FR agency=FR-OFAC '
               f'charge="{m["arrests", "charge"]}" role="{m["arrests", "role"]}" '
               f'assessment="{m["arrests", "assessment"]}" tlp=GREEN', sender=OFFICER)
    await h.ok(f"!seize account {m['seizures', 'value'].lower()}@mail.example country=NL "
               "provider=ExampleHost subject=victim tlp=GREEN")
    await h.ok(f'!task add "Interview {m["tasks", "text"]}" subject=witness tlp=GREEN')
    await h.ok(f'!task block T-1 "{m["tasks", "reason"]}"')
    await h.ok("!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN")
    await h.ok(f'!takedown go K-1 "{m["takedowns", "note"]}"')
    await h.ok(f'!asset seized 2.5 BTC "{m["assets", "note"]}" country=NL tlp=GREEN')
    await h.ok(f'!tally searches +3 "{m["tallies", "note"]}" country=FR tlp=GREEN')
    await h.ok(f'!sitrep note "{m["sitrep_notes", "note"]}"')
    await h.ok("!rollcall")
    await h.ok(f'!notready "{m["rollcall_answers", "reason"]}"', sender=OFFICER)
    await h.ok("!preserve add ExampleHost country=NL items=S-1")
    await h.ok("!preserve draft P-1 form=epoc-pr")
    await h.ok(f'!form F-1 set offence="{m["forms", "fields"]}"')
    await h.ok("!form F-1 item S-1 categories=subscriber")  # its items: S-1's value
    await h.ok(f'!partner link {PARTNER_ROOM} name="Example Hosting" tlp=GREEN')
    await h.ok('!partner assign K-1 "Example Hosting"')
    reply = await h.send(f'!done K-1 "{m["partner_reports", "note"]}"', sender=HOST,
                         room=PARTNER_ROOM)
    assert reply.ok, reply.text
    for line in ("!arrest list", "!seize list", "!task list", "!takedown list",
                 "!asset list", "!tally list", "!sitrep", "!form F-1", "!board"):
        await h.ok(line)
    for fmt in FORMATS:
        sent = await _export(h, fmt)
        assert sent.attachment is not None
        sent.attachment.discard()  # sent: the runtime discards the file


async def _export(h: Harness, fmt: str) -> Reply:
    reply = await h.ok(f"!export {fmt} tlp=AMBER")
    if reply.after_commit is not None:
        reply = await reply.after_commit()
    return reply


async def _delivered(h: Harness) -> None:
    """What the runtime does once the replies and posts reach their rooms."""
    outbox = Outbox(h.db)
    for post in await outbox.unsent():
        await outbox.sent(post.id)

    async def mark(tx):  # type: ignore[no-untyped-def]
        await tx.execute("UPDATE processed_events SET delivered=1")

    await h.db.write(mark)


def _files(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes()
            for p in sorted(data_dir.rglob("*")) if p.is_file()}


async def _run(tmp_path: Path, caplog: pytest.LogCaptureFixture, *, sealed: bool,
               purge: bool = False) -> tuple[list[str], list[tuple[str, str]], list[Reply]]:
    caplog.set_level(logging.INFO)
    h = await Harness.open(tmp_path)
    markers = {(tbl, field): _marker() for tbl, fields in PERSONAL.items() for field in fields}
    # A form's items are settings per seized item (S-1: categories, dates): no text to
    # type there; its items' values are read from the seizures, whose marker is scanned.
    markers["forms", "items"] = markers["seizures", "value"]
    # A takedown of S-1 names its value as the target.
    markers["takedowns", "target"] = markers["seizures", "value"]
    try:
        h.db.keys.seal_new = sealed
        await h.setup_operation()
        await _scenario(h, markers)
        await _delivered(h)
        for category in CATEGORIES:
            await h.send(f'!erase {category} "canary scan"' + (" purge" if purge else ""))
        await run.finish_all(h.db, h.clock.now())
        after = [await _export(h, fmt) for fmt in FORMATS]
        haystacks = _files(tmp_path / "data")
        for reply in after:
            assert reply.attachment is not None
            haystacks[reply.attachment.filename] = reply.attachment.read()
        haystacks["log"] = caplog.text.encode()
    finally:
        await h.close()
    names = sorted(set(markers.values()))
    return names, found(names, haystacks), after


@pytest.mark.parametrize("purge", [False, True])
async def test_no_trace_of_an_erased_subject_is_left_in_any_file_nor_in_the_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, purge: bool) -> None:
    _, hits, after = await _run(tmp_path, caplog, sealed=True, purge=purge)
    assert hits == [], "\n".join(sorted({f"{m} {w}" for m, w in hits}))
    assert {"data/opsroom.db", "data/opsroom.keys", "data/opsroom.kek"} <= {
        f"data/{p.name}" for p in (tmp_path / "data").iterdir()}
    md = after[0].attachment
    assert md is not None and "[erased]" in md.read().decode()


async def test_the_scan_finds_the_markers_when_nothing_is_sealed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    names, hits, _ = await _run(tmp_path, caplog, sealed=False)
    assert {marker for marker, _ in hits} == set(names)
    assert any(where == "opsroom.db" for _, where in hits)
