"""Exports in the language of the member who asked for them (issue 17).

The md and pdf headings, columns and TLP banner come from the catalogue, in the language in
force when the export is built; the build runs in a worker process, where that language is
set again from the code handed over with the job. The pdf prints Latin, Cyrillic (a
homograph's look-alike letters) and Arabic with a font that has their glyphs, Arabic
joined and right to left, and a pdf in Arabic is laid out from the right.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from bot import cli
from commands import speaking
from exports import shaping
from exports.build import build_export
from exports.offline import export_to_file
from tests.harness import OFFICER, ROOM, Harness, write_cli_config

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
HOMOGRAPH = "аррӏе.com"  # а р ӏ е are Cyrillic
ARABIC = "تفتيش الخادم في ليون قبل ساعة الصفر وتوثيق الأجهزة المضبوطة"
# Isolates, as a client may put around a record number (commands refuse them, a record made
# otherwise — an import, a migration — might hold them): python-bidi's algorithm has none.
ISOLATED = "راجع \u2067T-1\u2069 قبل \u2068H+1h\u2069"
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@pytest.fixture
async def op(h: Harness) -> Harness:
    for line in ["!hhour 2026-11-25T04:00Z",
                 f"!seize domain {HOMOGRAPH} tlp=GREEN",
                 f'!task add "{ARABIC}" tlp=GREEN',
                 "!takedown add S-1 agency=FR-OFAC at=H tlp=GREEN",
                 "!arrest add FR-2026-1 country=FR agency=FR-OFAC tlp=GREEN"]:
        await h.ok(line)
    return h


async def built(h: Harness, fmt: str, lang: str) -> bytes:
    """The export as the worker process builds it, asked for by a member reading `lang`."""
    with speaking(lang):
        attachment, _ = await build_export(h.db, h.room, fmt, "GREEN", NOW)
    return attachment.read()


def _arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff" or "\ufb50" <= char <= "\ufeff"


def _cmap(name: str) -> set[int]:
    return set(TTFont(FONTS / f"{name}.ttf").getBestCmap())


def _drawn_with(page: pdfium.PdfPage) -> list[tuple[int, str, str]]:
    """Each character pdfium finds on the page: its index, itself, the font it is drawn in."""
    text = page.get_textpage()
    found = []
    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if not char.strip():
            continue
        name = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        pdfium_raw.FPDFText_GetFontInfo(text.raw, i, name, 256, ctypes.byref(flags))
        found.append((i, char, name.value.decode()))
    return found


async def test_an_arabic_pdf_prints_arabic_and_cyrillic_without_boxes(op: Harness) -> None:
    data = await built(op, "pdf", "ar")
    reader = PdfReader(io.BytesIO(data))
    fonts = {str(f["/BaseFont"]).split("+")[-1] for p in reader.pages
             for f in p["/Resources"]["/Font"].values()}
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= fonts and not any("Vera" in f for f in fonts)
    # Every character the pdf holds has a glyph in the fonts it embeds (both: headings
    # are bold, and a heading may be Arabic).
    covered = _cmap("DejaVuSans") & _cmap("DejaVuSans-Bold")
    extracted = "".join(p.extract_text() for p in reader.pages)
    assert not {c for c in extracted if not c.isspace() and ord(c) not in covered}
    assert all(c in extracted for c in HOMOGRAPH.removesuffix(".com"))
    # Arabic as letters (pypdf gives the joined presentation forms, in the order drawn).
    letters = unicodedata.normalize("NFKC", extracted)
    for word in ARABIC.split():
        assert word in letters or word[::-1] in letters, word

    document = pdfium.PdfDocument(data)
    page = document[0]
    drawn = _drawn_with(page)
    fonts_of = {"DejaVuSans": _cmap("DejaVuSans"), "DejaVuSans-Bold": _cmap("DejaVuSans-Bold")}
    for _, char, font in drawn:
        if not char.isascii():  # the Cyrillic, the Arabic, the · and the —
            assert font in fonts_of and ord(char) in fonts_of[font], (char, font)
    # Where the Arabic is, the page is not blank: each letter's box holds its glyph's ink.
    text = page.get_textpage()
    boxes = [text.get_charbox(i) for i, char, _ in drawn if _arabic(char)]
    assert len(boxes) >= len(ARABIC.replace(" ", ""))
    scale = 3
    height = page.get_height()
    image = page.render(scale=scale).to_pil().convert("L")
    inked = 0
    for left, bottom, right, top in boxes:
        glyph = image.crop((int(left * scale), int((height - top) * scale),
                            int(right * scale) + 1, int((height - bottom) * scale) + 1))
        inked += sum(glyph.histogram()[:128]) > 0
    assert inked == len(boxes)


def _title_span(data: bytes) -> tuple[float, float]:
    """Left and right edge, in points, of the pdf's title ("Operation Firebreak (FIREBREAK)")."""
    page = pdfium.PdfDocument(data)[0]
    text = page.get_textpage()
    found = text.search("Operation Firebreak (FIREBREAK)").get_next()
    assert found is not None
    start, count = found
    return text.get_charbox(start)[0], text.get_charbox(start + count - 1)[2]


async def test_the_language_crosses_into_the_worker_process(op: Harness) -> None:
    """A context variable stays in the bot's process: the worker lays out the pdf in the
    language handed over with the job (Arabic: from the right)."""
    english = await built(op, "pdf", "en")
    width = pdfium.PdfDocument(english)[0].get_width()
    edge = (12 + 4) * 72 / 25.4  # the page's margin and the frame's padding, within 4 mm
    left, right = _title_span(english)
    assert left < edge and right < width - 2 * edge
    left, right = _title_span(await built(op, "pdf", "ar"))
    assert right > width - edge and left > 2 * edge


async def test_an_export_is_in_the_language_of_the_member_who_asked(op: Harness) -> None:
    """Through the dispatcher: the sender's language, kept around the command's slow part,
    is the one the worker builds in."""
    await op.ok("!lang ar", sender=OFFICER)
    reply = await op.ok("!export pdf tlp=GREEN", sender=OFFICER)
    assert reply.attachment is not None
    arabic = _title_span(reply.attachment.read())
    english = _title_span(await built(op, "pdf", "en"))
    assert arabic[0] > english[0] + 50 and arabic[1] > english[1] + 50  # from the right


async def test_offline_export_takes_the_language_given(op: Harness, tmp_path: Path) -> None:
    room = await built(op, "pdf", "ar")
    out = await export_to_file(op.db.path, op.room, "pdf", "GREEN", tmp_path, now=NOW, lang="ar")
    assert out.read_bytes() == room != await built(op, "pdf", "en")


def test_opsroom_export_writes_in_the_language_asked(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`opsroom export`: the configuration's [defaults] language, or --lang."""
    async def record() -> None:
        h = await Harness.open(tmp_path)
        try:
            await h.setup_operation()
            await h.ok(f'!task add "{ARABIC}" tlp=GREEN')
        finally:
            await h.close()

    asyncio.run(record())
    config = write_cli_config(tmp_path)
    config.write_text(config.read_text() + '\n[defaults]\nlanguage = "ar"\n')
    out = tmp_path / "out"
    out.mkdir()
    export = ["export", "-c", str(config), "--room", ROOM, "--format", "pdf", "--tlp", "GREEN"]
    assert cli.main([*export, "-o", str(out / "ar.pdf")]) == 0
    assert cli.main([*export, "--lang", "EN", "-o", str(out / "en.pdf")]) == 0
    assert cli.main([*export, "--lang", "xx", "-o", str(out / "xx.pdf")]) == cli.EXIT_BAD_INPUT
    assert "unknown language 'xx'" in capsys.readouterr().err
    assert sorted(f.name for f in out.iterdir()) == ["ar.pdf", "en.pdf"]
    english, arabic = (_title_span((out / name).read_bytes()) for name in ("en.pdf", "ar.pdf"))
    assert arabic[0] > english[0] + 50 and arabic[1] > english[1] + 50  # from the right


async def test_markdown_headings_are_in_the_readers_language(op: Harness) -> None:
    """Against this group's French strings (locale/fragments/exports.json): passes once the
    fragment is merged into locale/fr/LC_MESSAGES/opsroom.po."""
    english = (await built(op, "md", "en")).decode()
    french = (await built(op, "md", "fr")).decode()
    for line in ["**TLP:GREEN — records at or below TLP:GREEN only**", "## Agencies",
                 "## Tasks (1)", "## Seized infrastructure (1)", "## Takedown timeline",
                 "Generated 2026-11-25T06:00:00Z", "| id | status | text |"]:
        assert line in english and line not in french, line
    for line in ["**TLP:GREEN — uniquement les enregistrements de niveau TLP:GREEN ou inférieur**",
                 "## Services", "## Tâches (1)", "## Infrastructures saisies (1)",
                 "## Chronologie des neutralisations", "Généré le 2026-11-25T06:00:00Z",
                 "| n° | statut | texte |", "## Interpellations (1)"]:
        assert line in french, line
    # What was recorded is as recorded, in every language.
    for value in (ARABIC, "FR-2026-1", "xn--80ak6aa92e[.]com", "K-1 FR-OFAC planned"):
        assert value in english and value in french


def test_left_to_right_text_is_left_as_it_is() -> None:
    for text in ("Operation Firebreak (FIREBREAK)", "аррӏе[.]com", "K-1 FR-OFAC done: S-2", ""):
        assert shaping.for_display(text) == text
        assert not shaping.has_right_to_left(text)


def test_arabic_is_joined_and_put_right_to_left() -> None:
    shown = shaping.for_display("مهمة")
    assert shown == "\ufee3\ufeec\ufee4\ufe94"[::-1]  # joined forms, last letter drawn first
    assert unicodedata.normalize("NFKC", shown)[::-1] == "مهمة"


def test_a_paragraph_is_wrapped_before_it_is_reordered() -> None:
    """Reordering first would put the end of the sentence on the first line."""
    lines = shaping.display_lines("واحد اثنان ثلاثة أربعة", 11, len, right_to_left=True)
    assert lines == [shaping.for_display("واحد اثنان"), shaping.for_display("ثلاثة أربعة")]
    # In a right-to-left paragraph, a Latin run keeps its own order.
    [line] = shaping.display_lines("العملية FIREBREAK (T-12)", 100, len, right_to_left=True)
    assert "FIREBREAK" in line and "T-12" in line
    assert shaping.display_lines("a long word", 4, len) == ["a", "long", "word"]
    assert shaping.display_lines("abcdefghij", 4, len) == ["abcd", "efgh", "ij"]


def test_what_a_member_typed_cannot_stop_the_reordering() -> None:
    for typed in (ISOLATED, "مهمة \u0378 x"):  # isolates, an unassigned code point
        [line] = shaping.display_lines(typed, 1000, len, right_to_left=True)
        assert not set(line) & set("\u2066\u2067\u2068\u2069")
        assert "T-1" in line or "x" in line


def test_a_timestamp_stays_whole_in_arabic() -> None:
    when = "2026-11-25T06:00:00Z"
    [apart] = shaping.display_lines(f"أُنشئ في {when}", 1000, len, right_to_left=True)
    assert when not in apart  # what the bidirectional algorithm does to it alone
    [kept] = shaping.display_lines(f"أُنشئ في {shaping.left_to_right(when)}", 1000, len,
                                   right_to_left=True)
    assert kept.startswith(f"{when} ")
