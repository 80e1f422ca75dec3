"""One command script in four rooms set to English, French, Spanish and Arabic.

Every reply is in its room's language and in no other (no English sentence left over,
judged from the catalogues by tests.languages), the rooms hold the same records, and
their exports hold the same data: the language changes what members read, never what is
recorded. Keys, command names, record numbers and TLP labels are typed the same way in
every room.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from commands.core.types import Reply, Settings
from tests.harness import LEAD, OFFICER, Harness
from tests.languages import english_left, languages_seen

ROOMS = {"en": "!en:localhost", "fr": "!fr:localhost", "es": "!es:localhost",
         "ar": "!ar:localhost"}

SCRIPT = [
    '!op init "Operation Firebreak" code=FIREBREAK tz=Europe/Paris tlp=AMBER lang={lang}',
    "!agency add FR-OFAC country=FR tz=Europe/Paris",
    '!agency add DE-BKA country=DE tz=Europe/Berlin "Bundeskriminalamt"',
    f"!member {LEAD} agency=FR-OFAC",
    f"!member {OFFICER} agency=DE-BKA",
    "!hhour 2026-11-25 05:00 Europe/Paris",
    f'!task add "Image server fra-2" {OFFICER} due=H+2h priority=high',
    "!task add \"Brief the prosecutor\"",
    "!task list",
    "!task done T-2",
    '!arrest add FR-2026-0142 country=FR agency=FR-OFAC charge="fraud" role=admin',
    "!arrest list",
    '!seize domain evil[.]example country=NL provider="Example Registrar"',
    "!seize ip 192.0.2.10 country=DE",
    "!seize list",
    "!takedown add S-1 agency=DE-BKA at=H+30m",
    "!takedown list",
    "!preserve add ExampleHost country=US ref=2026-PR-17 expires=+90d",
    "!preserve list",
    "!asset frozen 120000 EUR",
    "!tally searches +12 country=DE",
    "!rollcall",
    "!ready",
    "!op",
    "!sitrep",
    "!help",
    "!help task",
    "!undo",
    # mistakes: each answered with the reason and the usage, in the room's language
    "!task frob",
    "!tsk list",
    "!task add",
    '!task add "x" due=someday',
    "!seize domain not_a_domain",
    "!op phase closing",
    "!lang xx",
    "!takedown done K-9",
]


async def run_script(tmp: Path) -> dict[str, list[tuple[str, Reply]]]:
    h = await Harness.open(tmp, Settings(deconfliction=False))
    answers: dict[str, list[tuple[str, Reply]]] = {}
    for lang, room in ROOMS.items():
        h.room = room
        answers[lang] = [(line, await h.send(line.format(lang=lang))) for line in SCRIPT]
    h.room = ROOMS["en"]
    answers["export"] = []
    for room in ROOMS.values():
        answers["export"].append(("!export json", await h.send("!export json", room=room)))
    answers["records"] = [(room, Reply(ok=True, text=json.dumps(await _records(h, room)),
                                       html="")) for room in ROOMS.values()]
    await h.close()
    return answers


async def _records(h: Harness, room: str) -> list[list[object]]:
    rows = []
    for table in ("tasks", "arrests", "seizures", "takedowns", "preservations", "assets",
                  "tallies"):
        for row in await h.rows(
                f"SELECT t.* FROM {table} t JOIN operations o ON o.id=t.op_id "
                "WHERE o.room_id=? ORDER BY t.seq", (room,)):
            rows.append([table, *(v for k, v in sorted(row.items())
                                  if k not in ("id", "op_id", "subject_key"))])
    return rows


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, Reply]]]:
    """Run once for the module's tests (four rooms, ~150 commands)."""
    return asyncio.run(run_script(tmp_path_factory.mktemp("script")))


@pytest.mark.parametrize("lang", ["en", "fr", "es", "ar"])
async def test_every_reply_is_in_its_rooms_language_and_no_other(
        answers: dict[str, list[tuple[str, Reply]]], lang: str) -> None:
    spoken = 0
    for line, reply in answers[lang]:
        assert reply.lang == lang, line
        seen = languages_seen(reply.text)
        assert seen <= {lang}, (f"{line!r} in the {lang} room reads {sorted(seen)}: "
                                f"{english_left(reply.text) if 'en' in seen else ''}\n"
                                f"{reply.text}")
        spoken += bool(seen)
    # Replies made only of data (a record number and its value) speak no language; the
    # rest, most of the script, must be recognisably the room's.
    assert spoken >= len(SCRIPT) * 2 // 3, f"{lang}: only {spoken} replies read as {lang}"


def test_mistakes_are_answered_in_the_rooms_language_with_the_usage(
        answers: dict[str, list[tuple[str, Reply]]]) -> None:
    for lang in ROOMS:
        failed = [(line, r) for line, r in answers[lang] if not r.ok]
        assert len(failed) >= 8, [line for line, _ in failed]
        for line, reply in failed:
            assert languages_seen(reply.text) == {lang}, (lang, line, reply.text)
        usage = dict(failed)['!task add "x" due=someday'].text
        assert '/task add "' in usage, usage  # the usage line itself is syntax: as typed


def test_the_four_rooms_hold_the_same_records(
        answers: dict[str, list[tuple[str, Reply]]]) -> None:
    records = [json.loads(r.text) for _, r in answers["records"]]
    assert records[0], "the script recorded nothing"
    timeless = [[[v for v in row if not (isinstance(v, str) and v.startswith("2026-"))]
                 for row in rows] for rows in records]
    assert timeless[1:] == [timeless[0]] * 3


def test_the_four_rooms_export_the_same_data(
        answers: dict[str, list[tuple[str, Reply]]]) -> None:
    datasets = []
    for _, reply in answers["export"]:
        assert reply.ok and reply.attachment is not None, reply.text
        lines = reply.attachment.read().decode().splitlines()
        data = json.loads("\n".join(lines)) if lines[0].startswith("{") else lines
        datasets.append(_without_room(data["records"] if isinstance(data, dict) else data))
    assert datasets[0]
    assert datasets[1:] == [datasets[0]] * 3


def _without_room(value: object) -> object:
    """The export's data without what differs by room and moment (ids, times, hashes)."""
    if isinstance(value, dict):
        return {k: _without_room(v) for k, v in value.items()
                if k not in ("room_id", "id", "op_id", "created_at", "updated_at", "event_id",
                             "hash", "prev", "at", "generated_at")}
    if isinstance(value, list):
        return [_without_room(v) for v in value]
    return value

