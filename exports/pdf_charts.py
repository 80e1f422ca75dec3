"""The pdf's charts: arrests by country, seized infrastructure by kind and status, the
takedown timeline; drawn by exports.charts, embedded as PNG.

What they show comes from the export's snapshot only, whose every query holds nothing
above the export's TLP (exports.snapshot): a chart cannot show what the tables may not,
a RED seizure's kind included. `chart_data` is that input, kept apart so it can be
checked without reading pixels. Its words are in the language in force where it is made
(the export's, set in the worker that builds the pdf).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image

from commands import i18n, tr, trn
from exports import chart_input, charts
from exports.board import takedown
from exports.snapshot import Snapshot
from storage.codec import from_db_time

SMALL_COUNT = 3  # a country's count below this, with an erased arrest in it, is not shown
MAX_BARS = 25  # countries; the rest are one bar, so the chart fits a page
WIDTH = 170 * mm
MAX_HEIGHT = 230 * mm


@dataclass(frozen=True)
class ChartData:
    arrests_by_country: dict[str, int]
    seizures_by_kind_status: dict[tuple[str, str], int]
    timeline: chart_input.Board
    takedowns_left_out: int  # beyond the timeline's limit


def chart_data(snap: Snapshot, limit: int) -> ChartData:
    """The charts' input, from the TLP-filtered snapshot; the timeline draws the first
    `limit` takedowns by planned time (the pdf lists no more either)."""
    by_country, small = _arrests_by_country(snap)
    ranked = sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
    arrests = dict(ranked[:MAX_BARS])
    if len(ranked) > MAX_BARS:
        others = len(ranked) - MAX_BARS
        arrests[trn("{n} other", "{n} others", others).format(n=i18n.number(others))] = sum(
            n for _, n in ranked[MAX_BARS:])
    if small:
        arrests[tr("fewer than {n} each").format(n=SMALL_COUNT)] = small
    seizures = {(kind, status): n
                for (kind, status), n in snap.counts_by("seizures", "type", "status").items()}
    takedowns = [takedown(r) for r in snap.rows("takedowns", order="plan", limit=limit)]
    generated = from_db_time(snap.generated_at)
    assert generated is not None
    board = chart_input.Board(title=tr("Takedown timeline · TLP:{tlp}").format(tlp=snap.tlp),
                              now=generated,
                         hhour=from_db_time(snap.op["hhour"]),
                         agencies=[chart_input.Agency(a["code"], a["tz"]) for a in snap.agencies],
                         takedowns=takedowns)
    return ChartData(arrests, seizures, board,
                     max(0, snap.counts["takedowns"] - len(takedowns)))


def _arrests_by_country(snap: Snapshot) -> tuple[dict[str, int], int]:
    """Arrests per country, and the arrests of the countries left out: those with fewer
    than SMALL_COUNT of which one was erased are summed in one bar that names none of them,
    so a chart cannot point at the few people an erasure was for (the totals still add up)."""
    counts: dict[str, int] = {}
    erased: set[str] = set()
    for (country, erased_by), n in snap.counts_by("arrests", "country", "erased_by").items():
        counts[country] = counts.get(country, 0) + n
        if erased_by is not None:
            erased.add(country)
    hidden = {c for c in erased if counts[c] < SMALL_COUNT}
    return ({c: n for c, n in counts.items() if c not in hidden},
            sum(counts[c] for c in hidden))


def _embedded(picture: chart_input.Png) -> Flowable:
    width = min(WIDTH, picture.width * 0.75)  # px at 96 dpi in points, at most the frame
    height = width * picture.height / picture.width
    if height > MAX_HEIGHT:
        width, height = width * MAX_HEIGHT / height, MAX_HEIGHT
    return Image(io.BytesIO(picture.data), width=width, height=height)


def summary_charts(data: ChartData) -> list[Flowable]:
    return [_embedded(charts.arrests_by_country(data.arrests_by_country)),
            _embedded(charts.seizures_by_kind_and_status(data.seizures_by_kind_status))]


def timeline_chart(data: ChartData) -> Flowable:
    return _embedded(charts.timeline(data.timeline))
