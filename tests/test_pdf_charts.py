"""The pdf's charts: embedded as images, drawn only from what the export's TLP lets out."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader

from exports.build import build_export
from exports.pdf_charts import chart_data
from exports.snapshot import load
from storage.database import read_only_sync
from tests.harness import OFFICER, Harness

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


@pytest.fixture
async def op(h: Harness) -> Harness:
    for line in [
        "!hhour 2026-11-25T04:00Z",
        "!seize wallet bc1qredonlywallet tlp=RED",
        "!seize ip 203.0.113.7 tlp=GREEN",
        "!seize domain evil.example tlp=GREEN",
        "!seize status S-3 seized",
        "!arrest add FR-1 country=FR agency=FR-OFAC tlp=GREEN",
        "!arrest add FR-2 country=FR agency=FR-OFAC tlp=GREEN",
        "!arrest add NL-1 country=NL agency=FR-OFAC tlp=RED",
        "!takedown add S-2 agency=FR-OFAC at=H tlp=GREEN",
        "!takedown add S-1 agency=FR-OFAC at=H+1h tlp=RED",
    ]:
        await h.ok(line)
    await h.ok("!takedown add forum.example agency=DE-BKA at=H+30m tlp=GREEN", sender=OFFICER)
    await h.ok("!takedown done K-1")
    return h


def charts_of(h: Harness, tlp: str):  # type: ignore[no-untyped-def]
    with read_only_sync(h.db.path) as conn:
        return chart_data(load(conn, h.room, tlp, "2026-11-25T06:00:00Z"), limit=500)


async def test_the_pdf_carries_the_three_charts_as_images(op: Harness) -> None:
    attachment, _ = await build_export(op.db, op.room, "pdf", "GREEN", NOW)
    reader = PdfReader(io.BytesIO(attachment.read()))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 3, [i.name for i in images]
    for image in images:
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.width >= 800 and decoded.height > 100


async def test_a_red_record_is_in_no_chart_of_a_green_pdf(op: Harness) -> None:
    green, red = charts_of(op, "GREEN"), charts_of(op, "RED")
    assert green.seizures_by_kind_status == {("domain", "seized"): 1, ("ip", "identified"): 1}
    assert ("wallet", "identified") in red.seizures_by_kind_status  # the RED one's kind
    assert green.arrests_by_country == {"FR": 2}
    assert red.arrests_by_country == {"FR": 2, "NL": 1}
    assert [t.ref for t in green.timeline.takedowns] == ["K-1", "K-3"]
    assert [t.ref for t in red.timeline.takedowns] == ["K-1", "K-3", "K-2"]
    # K-2 (RED) targets the RED wallet; K-1 (GREEN) its GREEN ip, shown as in the tables.
    assert green.timeline.takedowns[0].target == "S-2 203[.]0[.]113[.]7"
    assert all("bc1q" not in t.target for t in green.timeline.takedowns)
    assert green.timeline.title.endswith("TLP:GREEN")
