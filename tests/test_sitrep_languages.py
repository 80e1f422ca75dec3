"""Sitreps, reminders and the board in the reader's language (issue 17).

Dates and numbers come from Babel's locale data (CLDR), not from our translations, so a
French sitrep writes `25 nov. 2026, 06:00` beside its DTG; its sentences come from the
French catalogue.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from commands import reminders
from commands.core import i18n
from commands.core.i18n import speaking
from exports import charts
from exports.board import read_board
from exports.shaping import for_display
from tests.harness import OFFICER, Harness


async def _sitrep_text(h: Harness, lang: str) -> str:
    await h.ok(f"!lang {lang}")
    await h.ok("!hhour 2026-11-25T04:00Z")
    h.clock.current = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    return (await h.ok("!sitrep")).text


async def test_a_french_readers_sitrep_writes_its_local_time_the_french_way(
        h: Harness) -> None:
    text = await _sitrep_text(h, "fr")
    # The DTGs stay as they are, in every language.
    assert "250500ZNOV26" in text and "250400ZNOV26" in text
    # Beside them, the local time as French writes it: day first, "nov.", 24 hours.
    assert "25 nov. 2026, 06:00" in text and "25 nov. 2026, 05:00" in text
    assert "Nov 25" not in text and "\u202fAM" not in text


async def test_an_english_readers_sitrep_writes_its_local_time_the_english_way(
        h: Harness) -> None:
    text = await _sitrep_text(h, "en")
    assert "Local time (Europe/Paris): Nov 25, 2026, 06:00 · H-hour " \
           "Nov 25, 2026, 05:00" in text
    assert "nov." not in text


def _op(**over: Any) -> dict[str, Any]:
    return {"code": "FIREBREAK", "tz": "Europe/Paris", "hhour": "2026-11-26T12:00:00Z",
            **over}


def test_a_reminder_under_speaking_fr_gives_hhour_in_french_beside_the_dtg() -> None:
    hhour = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    with speaking("fr"):
        reply = reminders._t_minus(_op(), "H-1h", hhour, hhour - timedelta(hours=1), False)
    assert "261200ZNOV26" in reply.text  # the DTG, as it is
    assert "26 nov. 2026, 13:00" in reply.text
    with speaking("es"):
        reply = reminders._t_minus(_op(), "H-1h", hhour, hhour - timedelta(hours=1), False)
    assert "26 nov 2026, 13:00" in reply.text
    with speaking("en"):
        reply = reminders._t_minus(_op(), "H-1h", hhour, hhour - timedelta(hours=1), False)
    assert "Nov 26, 2026, 13:00" in reply.text


async def test_the_boards_local_times_name_the_month_in_the_readers_language(
        h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add forum.example agency=FR-OFAC at=H")
    await h.ok("!takedown add 198.51.100.7 agency=DE-BKA at=H+30m", sender=OFFICER)
    found = await read_board(h.db, h.room, h.clock.now())
    assert found is not None
    board = found[1]
    with speaking("en"):
        english = [line.local for line in charts.lines(board) if line.takedown]
    with speaking("fr"):
        french = [line.local for line in charts.lines(board) if line.takedown]
    assert english == ["plan 25 Nov 05:30 CET", "plan 25 Nov 05:00 CET"]
    assert all("25 nov. 05:" in local for local in french), french


def test_arabic_drawn_by_pillow_is_shaped_and_latin_is_left_alone() -> None:
    latin = "K-1 forum[.]example · plan 25 Nov"
    assert for_display(latin) == latin
    shown = for_display("لوحة يوم التنفيذ")
    # Joined (presentation) forms, in display order: the last word's letters come first.
    assert all("\ufb50" <= ch <= "\ufeff" or ch == " " for ch in shown), shown
    assert shown != "لوحة يوم التنفيذ"


async def test_a_french_readers_sitrep_is_in_french(h: Harness) -> None:
    text = await _sitrep_text(h, "fr")
    assert text.startswith("POINT DE SITUATION n° 1 · ")
    assert "Heure locale (Europe/Paris) : " in text
    assert "phase planning" in text  # the phase is a keyword, as typed


def test_an_arabic_local_time_carries_no_bidi_mark_of_babels() -> None:
    """Babel's Arabic date pattern holds RIGHT-TO-LEFT MARKs; a reply would show them as
    `<U+200F>`: the bot's own marks are placed by commands.core.direction only."""
    from zoneinfo import ZoneInfo



    with speaking("ar"):
        shown = i18n.local_time(datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
                                ZoneInfo("Europe/Paris"))
    assert "2026" in shown and not set(shown) & {"\u200e", "\u200f", "\u061c"}, repr(shown)


def test_changes_say_when_hhour_was_cleared() -> None:
    from commands.sitrep_render import changes

    assert changes({"H-hour": "2026-11-25T04:00:00Z"}, {"H-hour": "—"}) == [
        "H-hour: 250400ZNOV26 → —"]
    assert changes({"H-hour": "—"}, {"H-hour": "2026-11-25T04:00:00Z"}) == [
        "H-hour: — → 250400ZNOV26"]
