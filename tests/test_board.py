"""/board: the action-day board as a picture, what it shows, and how it is sent."""

from __future__ import annotations

import io
from typing import Any

from nio import RoomSendResponse, UploadResponse
from PIL import Image

from bot.sending import Outgoing, SendQueues
from exports import charts
from exports.board import read_board as board_data
from exports.chart_input import Board, Png
from tests.harness import OFFICER, Harness

RGB = {status: tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
       for status, colour in charts.STATUS_COLOURS.items()}


def colour_pixels(png: bytes) -> dict[str, int]:
    """How many pixels of the picture have each status's exact colour."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = {rgb: n for n, rgb in image.getcolors(maxcolors=image.width * image.height)}
    return {status: counts.get(rgb, 0) for status, rgb in RGB.items()}


async def plan_action_day(h: Harness) -> None:
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add forum.example agency=FR-OFAC at=H")
    await h.ok("!takedown add 198.51.100.7 agency=DE-BKA at=H+30m", sender=OFFICER)
    await h.ok("!takedown add shop.example agency=FR-OFAC at=H+1h")
    await h.ok('!takedown add "mail backend" agency=FR-OFAC at=H+2h')
    await h.ok("!takedown done K-1")
    await h.ok('!takedown failed K-2 "door locked"', sender=OFFICER)
    await h.ok("!takedown go K-3")


async def test_board_is_a_png_of_its_stated_size_with_a_colour_per_status_present(
        h: Harness) -> None:
    await plan_action_day(h)
    reply = await h.ok("!board", sender=OFFICER)
    picture = reply.attachment
    assert picture is not None and picture.is_image and picture.mimetype == "image/png"
    assert picture.filename == "FIREBREAK-board-20261124T1200Z-TLP-AMBER.png"
    assert "4 takedowns: 1 planned · 1 go · 1 done · 1 failed" in reply.text
    image = Image.open(io.BytesIO(picture.read()))
    assert image.format == "PNG" and image.size == (picture.width, picture.height)
    assert picture.size == len(picture.read())
    seen = colour_pixels(picture.read())
    for status in ("planned", "go", "done", "failed"):
        assert seen[status] >= 30, f"{status} is not on the board: {seen}"
    assert seen["aborted"] == 0, "a status no takedown has must not be drawn"
    thumb = picture.thumbnail
    assert thumb is not None and thumb.is_image
    small = Image.open(io.BytesIO(thumb.read()))
    assert small.size == (thumb.width, thumb.height)
    assert small.width <= 800 and small.height <= 600 and small.width < image.width

    await h.ok("!takedown abort K-4")  # the planned one is called off: colours follow
    after = colour_pixels((await h.ok("!board")).attachment.read())
    assert after["planned"] == 0 and after["aborted"] >= 30


def test_a_tall_board_gets_a_readable_thumbnail_of_its_top() -> None:
    """A 500-takedown board is 1200×7700: scaled whole into 800×600 it would be 93 px wide."""
    tall = Image.new("RGB", (1200, 7700), "white")
    tall.paste((200, 0, 0), (0, 0, 1200, 120))  # the header band, which must stay in view
    out = io.BytesIO()
    tall.save(out, "PNG")
    thumb = charts.thumbnail(Png(out.getvalue(), 1200, 7700))
    small = Image.open(io.BytesIO(thumb.data)).convert("RGB")
    assert (thumb.width, thumb.height) == small.size == (800, 600)
    assert small.getpixel((400, 20)) == (200, 0, 0)
    wide = Image.new("RGB", (1200, 400), "white")
    out = io.BytesIO()
    wide.save(out, "PNG")
    assert charts.thumbnail(Png(out.getvalue(), 1200, 400)).width == 800  # whole


async def test_rows_show_each_agency_clock_and_its_roll_call_answer(h: Harness) -> None:
    await h.ok("!agency add US-FBI country=US tz=America/New_York")
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!takedown add forum.example agency=FR-OFAC at=H")
    await h.ok("!takedown add 198.51.100.7 agency=US-FBI at=H+30m")
    await h.ok("!takedown add shop.example agency=DE-BKA at=H+1h")
    await h.ok("!takedown done K-1")
    await h.ok("!rollcall")
    await h.ok("!ready")
    await h.ok('!notready "warrant pending"', sender=OFFICER)
    board = await read_board(h)
    rows = [(line.label, line.note, line.local) for line in charts.lines(board)]
    assert rows == [
        ("DE-BKA · Europe/Berlin", "roll call: NO-GO (warrant pending)", ""),
        ("K-3 shop[.]example", "", "plan 25 Nov 06:00 CET"),
        ("FR-OFAC · Europe/Paris", "roll call: GO", ""),
        ("K-1 forum[.]example", "", "plan 25 Nov 05:00 CET · done 13:00 CET"),
        ("US-FBI · America/New_York", "roll call: waiting", ""),
        ("K-2 198[.]51[.]100[.]7", "", "plan 24 Nov 23:30 EST"),
    ]
    assert board.rollcall == "Go/no-go: R-1 (open) GO 1 · NO-GO DE-BKA · waiting US-FBI"


async def read_board(h: Harness, tlp: str | None = None) -> Board:
    """The board as it is drawn: the rows the worker is handed."""
    found = await board_data(h.db, h.room, h.clock.now(), tlp)
    assert found is not None
    return found[1]


def drawn_text(board: Board) -> str:
    return "\n".join([board.title, board.rollcall, *(f"{line.label} {line.note} {line.local}"
                                                    for line in charts.lines(board))])


async def plan_with_red(h: Harness) -> None:
    """An AMBER operation's day with a RED takedown and an AMBER takedown of a RED seized
    item, besides an AMBER one of an AMBER item."""
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok("!seize domain red-seized.example tlp=RED")
    await h.ok("!seize domain amber-seized.example")
    await h.ok("!takedown add S-1 agency=FR-OFAC at=H")
    await h.ok('!takedown add "red-relay-host" agency=FR-OFAC at=H+30m tlp=RED')
    await h.ok("!takedown add S-2 agency=FR-OFAC at=H+1h")
    await h.ok("!takedown go K-2")


async def test_an_amber_board_draws_no_red_takedown_and_no_red_seized_value(
        h: Harness) -> None:
    await plan_with_red(h)
    reply = await h.ok("!board", sender=OFFICER)
    assert reply.attachment.filename == "FIREBREAK-board-20261124T1200Z-TLP-AMBER.png"
    assert "Action-day board · TLP:AMBER · 2 takedowns: 2 planned" in reply.text
    assert "1 takedown above TLP:AMBER not drawn." in reply.text
    assert colour_pixels(reply.attachment.read())["go"] == 0  # the RED one is under way
    amber = await read_board(h)
    assert amber.title.endswith("· TLP:AMBER") and amber.tlp == "AMBER"
    assert [(t.ref, t.target) for t in amber.takedowns] == [
        ("K-1", "S-1 (withheld)"), ("K-3", "S-2 amber-seized[.]example")]
    text = drawn_text(amber)
    assert "red-seized" not in text and "red-relay-host" not in text and "K-2" not in text
    assert "amber-seized[.]example" in text


async def test_a_red_board_draws_the_red_takedown_and_the_red_seized_value(
        h: Harness) -> None:
    await plan_with_red(h)
    reply = await h.ok("!board tlp=RED", sender=OFFICER)
    assert reply.attachment.filename == "FIREBREAK-board-20261124T1200Z-TLP-RED.png"
    assert "TLP:RED · 3 takedowns" in reply.text and "not drawn" not in reply.text
    assert colour_pixels(reply.attachment.read())["go"] >= 30
    red = await read_board(h, "RED")
    assert red.title.endswith("· TLP:RED")
    assert [(t.ref, t.target) for t in red.takedowns] == [
        ("K-1", "S-1 red-seized[.]example"), ("K-2", "red-relay-host"),
        ("K-3", "S-2 amber-seized[.]example")]


async def test_a_board_below_the_operations_level_draws_no_roll_call_reason(
        h: Harness) -> None:
    await h.ok("!takedown add forum.example agency=FR-OFAC")
    await h.ok("!takedown add shop.example agency=DE-BKA tlp=GREEN")
    await h.ok("!rollcall")
    await h.ok('!notready "warrant-pending-at-amber"', sender=OFFICER)  # DE-BKA's answer
    green = await read_board(h, "GREEN")
    assert [t.ref for t in green.takedowns] == ["K-2"]
    assert "NO-GO" in drawn_text(green) and "warrant-pending" not in drawn_text(green)
    assert "NO-GO (warrant-pending-at-amber)" in drawn_text(await read_board(h))
    reply = await h.ok("!board tlp=CLEAR")
    assert reply.attachment is None
    assert "No takedown is at or below TLP:CLEAR" in reply.text and "2 takedowns" in reply.text


async def test_no_takedowns_is_answered_in_words_not_an_empty_picture(h: Harness) -> None:
    reply = await h.ok("!board")
    assert reply.attachment is None
    assert "No takedowns are planned yet" in reply.text and "/takedown add" in reply.text
    assert "not bound to an operation" in (await h.fails("!board", room="!elsewhere:x")).text


async def test_without_h_hour_the_board_is_drawn_and_says_how_to_set_it(h: Harness) -> None:
    await h.ok("!takedown add forum.example agency=FR-OFAC")  # at H: no time yet
    await h.ok("!takedown add shop.example agency=DE-BKA at=2026-11-25T05:00Z")
    reply = await h.ok("!board")
    assert reply.attachment is not None and reply.attachment.is_image
    assert "H-hour is not set" in reply.text and "/hhour TIME" in reply.text
    notes = [line.note for line in charts.lines(await read_board(h)) if line.takedown]
    assert "no time yet: at H, H-hour not set" in notes
    assert colour_pixels(reply.attachment.read())["planned"] >= 30  # both rows have a chip


async def test_a_board_unsent_at_a_crash_is_drawn_again_after_restart(h: Harness,
                                                                      tmp_path: Any) -> None:
    await plan_action_day(h)
    first = await h.ok("!board", event_id="$board")
    assert first.attachment is not None  # drawn, but the bot died before sending it
    await h.close()
    restarted = await Harness.open(tmp_path)
    [stored] = [r for _, e, r in await restarted.dispatcher.undelivered() if e == "$board"]
    assert stored.attachment is None  # only the text was stored
    again = await restarted.dispatcher.finish(stored)
    assert again.attachment is not None and again.attachment.is_image
    assert colour_pixels(again.attachment.read())["done"] >= 30
    await restarted.close()


async def test_a_board_asked_at_red_is_drawn_at_red_again_after_restart(
        h: Harness, tmp_path: Any) -> None:
    await plan_with_red(h)
    await h.ok("!board tlp=RED", event_id="$board")  # drawn; the bot dies before sending
    await h.close()
    restarted = await Harness.open(tmp_path)
    try:
        [stored] = [r for _, e, r in await restarted.dispatcher.undelivered()
                    if e == "$board"]
        again = await restarted.dispatcher.finish(stored)
        assert again.attachment.filename.endswith("-TLP-RED.png")
        assert "TLP:RED · 3 takedowns" in again.text
        assert colour_pixels(again.attachment.read())["go"] >= 30
    finally:
        await restarted.close()


class UploadingClient:
    """Stands in for nio's client in an encrypted room: records uploads and events."""

    def __init__(self) -> None:
        self.rooms = {"!r:x": type("Room", (), {"encrypted": True})()}
        self.uploads: list[tuple[bytes, str, bool]] = []
        self.sent: list[dict] = []

    async def upload(self, f: Any, content_type: str, filename: str, encrypt: bool,
                     filesize: int) -> tuple[UploadResponse, dict]:
        data = f.read()
        assert len(data) == filesize
        self.uploads.append((data, filename, encrypt))
        n = len(self.uploads)
        keys = {"key": {"k": f"key{n}"}, "iv": f"iv{n}", "hashes": {"sha256": f"h{n}"},
                "v": "v2"}
        return UploadResponse(f"mxc://x/{n}"), keys

    async def room_send(self, room_id: str, event_type: str, content: dict, **_: Any) -> Any:
        self.sent.append(content)
        return RoomSendResponse("$e", room_id)


async def test_an_image_goes_as_encrypted_m_image_with_an_encrypted_thumbnail(
        h: Harness) -> None:
    await plan_action_day(h)
    picture = (await h.ok("!board")).attachment
    client = UploadingClient()
    queues = SendQueues(client)  # type: ignore[arg-type]
    queues.put(Outgoing("!r:x", {"m.relates_to": {"m.in_reply_to": {"event_id": "$c"}}},
                        attachment=picture))
    await queues.drain()
    await queues.close()
    [content] = client.sent
    assert content["msgtype"] == "m.image" and content["body"] == picture.filename
    assert "url" not in content and content["file"]["url"] == "mxc://x/1"
    assert content["file"]["key"] == {"k": "key1"}
    info = content["info"]
    assert info["w"] == picture.width and info["h"] == picture.height
    assert info["mimetype"] == "image/png" and info["size"] == picture.size
    assert "thumbnail_url" not in info and info["thumbnail_file"]["url"] == "mxc://x/2"
    assert info["thumbnail_file"]["key"] == {"k": "key2"}
    thumb = picture.thumbnail
    assert info["thumbnail_info"] == {"w": thumb.width, "h": thumb.height,
                                      "mimetype": "image/png", "size": thumb.size}
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$c"}}
    assert [(data, encrypt) for data, _, encrypt in client.uploads] == [
        (picture.read(), True), (thumb.read(), True)]
