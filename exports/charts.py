"""Pictures of an operation, drawn with matplotlib's Agg canvas directly (never pyplot:
no display, no global figure state, so a worker process may draw one after another): the
action-day board and the pdf's charts.

Everything here takes plain values (rows already read; for an export, already filtered by
TLP in exports.snapshot), so it never reads the database, never decides what may be shown
and knows nothing of Matrix.

Decisions:
- One colour per takedown status, used for nothing else in any picture, and a status's
  colour appears only when a takedown has that status (the legend lists the statuses
  present): a lead sees red and knows something failed. `STATUS_COLOURS`.
- The board is one row per takedown under its agency's header, on a UTC axis; the right
  column gives the planned time on the agency's own clock, the one it briefs its teams
  on. ◆ is the planned time, ● the actual one (done: executed; go, failed, aborted: when
  it was reported), joined by a line in the status colour.
- Big boards get thinner rows instead of being cut: 500 takedowns are still one picture.
- The per-row words (labels, local times, agency headers) are drawn by Pillow onto the
  rendered figure, at the rows' pixel positions: matplotlib 3.11 lays out every text
  through libraqm at about 0.5 ms a line, twice (measure, draw), so the 1,000 lines of a
  500-takedown board took 3.6 s of a 4 s render; Pillow draws them in a tenth of that.
  Titles, legend and the time axis stay matplotlib's.
- Words are in the language in force (the caller's `speaking`; in a worker process it is
  set around the drawing, exports.board.draw). matplotlib 3.11 shapes Arabic and puts
  it right to left by itself (libraqm); Pillow's BASIC layout does not, so the words it
  draws go through exports.shaping.for_display, and matplotlib's never do (it would
  reverse them a second time). Month names (a plan's local time, the axis's dates) are
  the reader's locale's, from Babel; the DTGs stay as they are.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image, ImageDraw, ImageFont

from commands import N_, i18n, timeparse, tr, trn
from exports.chart_input import STATUSES, Agency, Board, Png, Takedown, status_counts
from exports.shaping import for_display

STATUS_COLOURS = {
    "planned": "#4c72b0",  # blue: waiting
    "go": "#f5a623",  # amber: under way
    "done": "#2ca02c",  # green
    "failed": "#d62728",  # red
    "aborted": "#9467bd",  # purple: called off
}
HHOUR_COLOUR = "#000000"
NOW_COLOUR = "#808080"
BAND_COLOUR = "#eeeeee"  # agency header rows
TEXT_COLOUR = "#222222"
MUTED = "#666666"
# Seizure statuses (commands/seize.py) in the pdf's stacked bars: a palette of their own,
# so no bar is taken for a takedown status.
SEIZURE_COLOURS = {
    "identified": "#c6dbef", "requested": "#9ecae1", "seized": "#3182bd",
    "sinkholed": "#08519c", "offline": "#636363", "released": "#bdbdbd",
}
ARREST_COLOUR = "#3182bd"
DPI = 100
WIDTH = 1200  # px
THUMBNAIL_BOX = (800, 600)  # what clients ask the media repository for (Element: 800x600)
BIG = 40  # takedowns from which the board's rows get thinner
LABEL_CHARS = 40
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass(frozen=True)
class _Words:
    """Text Pillow draws onto the figure once matplotlib has rendered it."""

    x: int
    y: int
    text: str
    size: int
    anchor: str = "lm"
    style: str = "regular"
    colour: str = TEXT_COLOUR


@cache
def _font(style: str, size: int) -> ImageFont.FreeTypeFont:
    name = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf",
            "italic": "DejaVuSans-Oblique.ttf"}[style]
    return ImageFont.truetype(str(FONTS / name), size, layout_engine=ImageFont.Layout.BASIC)


def _png(fig: Figure, words: Sequence[_Words] = ()) -> Png:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA",
                             0, 1).convert("RGB")
    draw = ImageDraw.Draw(image)
    for w in words:
        draw.text((w.x, w.y), for_display(w.text), font=_font(w.style, w.size), fill=w.colour,
                  anchor=w.anchor)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # level 6: twice the time, 1% smaller here
    # The figure's artists hold its renderer in reference cycles, and with it the pixels
    # (37 MB for 500 takedowns) until the cyclic collector happens to run: a worker drawing
    # board after board grew by that much each time. Collecting here bounds it to the one
    # figure the caller still holds.
    del fig, canvas
    gc.collect()
    return Png(out.getvalue(), width, height)


def thumbnail(picture: Png, box: tuple[int, int] = THUMBNAIL_BOX) -> Png:
    """The m.image event's thumbnail: the picture scaled down to fit `box`. A board taller
    than the box's shape (one row per takedown: 500 make it 1200×7700) would shrink to an
    unreadable sliver, so its top (the header, H-hour, the roll call, the first rows) is
    what the thumbnail shows; the full picture is one tap away."""
    image: Image.Image = Image.open(io.BytesIO(picture.data))
    tallest = image.width * box[1] // box[0]
    if image.height > tallest:
        image = image.crop((0, 0, image.width, tallest))
    image.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return Png(out.getvalue(), image.width, image.height)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _axis_date(x: float, _pos: int | None = None) -> str:
    """A tick of the UTC axis: time of day over the date, the month in the reader's
    language."""
    from babel.dates import format_datetime

    return format_datetime(mdates.num2date(x, tz=UTC), "HH:mm\ndd MMM", tzinfo=UTC,
                           locale=i18n.current())


def _clock(at: datetime, zone: str) -> str:
    """The time of day alone, for an execution beside its planned time's full form."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%H:%M} {local.tzname()}"


def _span(times: Iterable[datetime], now: datetime) -> tuple[datetime, datetime]:
    """The UTC window a timeline shows: every known time, padded; around now if none."""
    known = sorted(times)
    if not known:
        return now - timedelta(hours=1), now + timedelta(hours=1)
    start, end = known[0], known[-1]
    pad = max((end - start) / 10, timedelta(minutes=15))
    return start - pad, end + pad


def _known_times(data: Board) -> list[datetime]:
    times = [x for t in data.takedowns for x in (t.planned, t.actual) if x is not None]
    return times + ([data.hhour] if data.hhour is not None else [])


def _time_axis(ax: Axes, start: datetime, end: datetime, hhour: datetime | None,
               now: datetime | None) -> None:
    """UTC ticks, H-hour and now marked: the same axis on the board and in the pdf."""
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=UTC, maxticks=12))
    ax.xaxis.set_major_formatter(FuncFormatter(_axis_date))
    ax.tick_params(axis="x", labelsize=8, colors=TEXT_COLOUR)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("UTC", fontsize=8, color=TEXT_COLOUR, loc="right", labelpad=1)
    ax.grid(axis="x", color="#dddddd", lw=0.6, zorder=0)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    top = ax.get_ylim()[1]
    for when, colour, style, name in ((hhour, HHOUR_COLOUR, "--", "H"),
                                      (now, NOW_COLOUR, ":", tr("now"))):
        if when is None or not start <= when <= end:
            continue
        x = mdates.date2num(when)
        ax.axvline(x, color=colour, ls=style, lw=1.2, zorder=1)
        ax.text(x, top, f" {name} {timeparse.format_dtg(when)}", ha="left", va="bottom", fontsize=8,
                color=colour, weight="bold" if name == "H" else "normal", clip_on=False)


def _marks(ax: Axes, rows: Sequence[tuple[float, Takedown]], size: float) -> None:
    """◆ planned, ● actual, a line between, in the status colour; one artist per status
    and kind of mark, so 500 takedowns are a handful of artists, not 1,500."""
    timed = [t.planned for _, t in rows if t.planned] + [t.actual for _, t in rows if t.actual]
    x = dict(zip(timed, mdates.date2num(timed), strict=True)) if timed else {}  # one call
    for status in STATUSES:
        colour = STATUS_COLOURS[status]
        mine = [(y, t) for y, t in rows if t.status == status]
        planned = [(x[t.planned], y) for y, t in mine if t.planned]
        actual = [(x[t.actual], y) for y, t in mine if t.actual]
        links = [[(x[t.planned], y), (x[t.actual], y)]
                 for y, t in mine if t.planned and t.actual]
        if links:
            ax.add_collection(LineCollection(links, colors=colour, linewidths=1.6, zorder=2))
        for points, marker, scale in ((planned, "D", 1.0), (actual, "o", 1.3)):
            if points:
                xs, ys = zip(*points, strict=True)
                ax.scatter(xs, ys, marker=marker, s=size * scale, color=colour, zorder=3,
                           linewidths=0)


def _legend(fig: Figure, counts: Mapping[str, int], top: float) -> None:
    # The statuses are keywords, shown as typed; the marks' meaning is words.
    fig.legend(handles=[Patch(color=STATUS_COLOURS[s], label=f"{s} {i18n.number(n)}")
                        for s, n in counts.items()],
               loc="upper right", bbox_to_anchor=(0.99, top), ncols=len(counts),
               fontsize=8, frameon=False, handlelength=1.2, title=tr("◆ planned   ● actual"),
               title_fontsize=8)


@dataclass(frozen=True)
class Line:
    """One row of the board: an agency's header (no takedown) or one of its takedowns."""

    takedown: Takedown | None
    label: str  # left of the time axis
    note: str = ""  # inside the row, at its start: a roll call answer, "no time yet"
    local: str = ""  # right of the axis: the agency's own clock
    quiet: bool = False  # an agency's note drawn regular, not bold: its answer is GO


def lines(data: Board) -> list[Line]:
    """The board's rows, top to bottom: agencies by code, each followed by its takedowns
    in the order given (planned time)."""
    agencies = {a.code: a for a in data.agencies}
    groups: dict[str, list[Takedown]] = {}
    for t in data.takedowns:
        groups.setdefault(t.agency, []).append(t)
    out: list[Line] = []
    for code in sorted(groups):
        agency = agencies.get(code, Agency(code, "UTC"))
        out.append(Line(None, f"{code} · {agency.zone}",
                        tr("roll call: {answer}").format(answer=agency.answer)
                        if agency.answer else "", quiet=agency.answer == "GO"))
        for t in groups[code]:
            local = []
            if t.planned:
                local.append(tr("plan {when}").format(
                    when=timeparse.format_local(t.planned, agency.zone)))
            if t.actual and t.status == "done":
                local.append(tr("done {when}").format(when=_clock(t.actual, agency.zone)))
            note = ""
            if t.planned is None and t.actual is None:
                note = (tr("no time yet: at H, H-hour not set") if data.hhour is None
                        else tr("no time yet"))
            out.append(Line(t, _short(f"{t.ref} {t.target}"), note, " · ".join(local)))
    return out


def board(data: Board) -> Png:
    """The action-day board (see the module's docstring). `data.takedowns` must not be
    empty: an empty board says nothing a line of text would not."""
    if not data.takedowns:
        raise ValueError("no takedowns to draw")
    rows = lines(data)
    big = len(data.takedowns) > BIG
    row, font, mark = (15, 10, 22) if big else (28, 12, 55)
    head, foot, left, right = 118, 58, 360, 300
    height = head + len(rows) * row + foot
    fig = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes((left / WIDTH, foot / height, 1 - (left + right) / WIDTH,
                       len(rows) * row / height))
    ax.set_ylim(len(rows) - 0.5, -0.5)  # row i's centre: head + (i + 0.5) * row px down
    ax.set_yticks([])

    words: list[_Words] = []
    placed: list[tuple[float, Takedown]] = []
    for i, line in enumerate(rows):
        y = round(head + (i + 0.5) * row)
        if line.takedown is None:
            ax.axhspan(i - 0.5, i + 0.5, color=BAND_COLOUR, zorder=0, lw=0)
            words.append(_Words(left - 10, y, line.label, font, "rm", "bold"))
            if line.note:
                words.append(_Words(left + 8, y, line.note, font,
                                    style="regular" if line.quiet else "bold"))
            continue
        placed.append((i, line.takedown))
        words.append(_Words(left - 18, y, line.label, font, "rm"))
        words.append(_Words(WIDTH - right + 10, y, line.local, font))
        if line.note:
            words.append(_Words(left + 8, y, line.note, font, style="italic", colour=MUTED))

    start, end = _span(_known_times(data), data.now)
    _time_axis(ax, start, end, data.hhour, data.now)
    _marks(ax, placed, mark)
    chips = blended_transform_factory(ax.transAxes, ax.transData)
    for status in STATUSES:  # a colour chip before each label, for rows without a time too
        ys = [y for y, t in placed if t.status == status]
        if ys:
            ax.scatter([-8 / (WIDTH - left - right)] * len(ys), ys, marker="s",
                       s=mark * 0.8, color=STATUS_COLOURS[status], transform=chips,
                       clip_on=False, zorder=3, linewidths=0)

    top = 1 - 10 / height
    fig.text(0.01, top, data.title, fontsize=13, weight="bold", va="top", color=TEXT_COLOUR)
    if data.hhour is None:
        hline = tr("H-hour not set")
    else:
        offset = timeparse.format_offset(data.now - data.hhour)
        hline = tr("H-hour {when} · H{offset}").format(
            when=timeparse.format_dtg(data.hhour), offset=offset)
    n = len(data.takedowns)
    fig.text(0.01, top - 30 / height,
             tr("Action-day board · {now} · {hhour} · {takedowns}").format(
                 now=timeparse.format_dtg(data.now), hhour=hline,
                 takedowns=trn("{n} takedown", "{n} takedowns", n).format(n=i18n.number(n))),
             fontsize=9, va="top", color=TEXT_COLOUR)
    if data.rollcall:
        fig.text(0.01, top - 52 / height, data.rollcall, fontsize=9, va="top",
                 color=TEXT_COLOUR)
    _legend(fig, status_counts(data.takedowns), top)
    return _png(fig, words)


def timeline(data: Board) -> Png:
    """The takedown timeline for the pdf: one lane per agency with all its takedowns, so
    it fits a page whatever their number (the pdf's tables list them one by one)."""
    lanes = sorted({t.agency for t in data.takedowns})
    head, foot, left, lane = 80, 58, 150, 34
    height = head + max(len(lanes), 1) * lane + foot
    fig = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes((left / WIDTH, foot / height, 1 - (left + 40) / WIDTH,
                       max(len(lanes), 1) * lane / height))
    ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)
    ax.set_yticks(range(len(lanes)), lanes, fontsize=9)
    start, end = _span(_known_times(data), data.now)
    _time_axis(ax, start, end, data.hhour, None)
    index = {code: n for n, code in enumerate(lanes)}
    _marks(ax, [(index[t.agency], t) for t in data.takedowns], 45)
    top = 1 - 10 / height
    fig.text(0.01, top, data.title, fontsize=11, weight="bold", va="top", color=TEXT_COLOUR)
    if not data.takedowns:
        ax.text(0.5, 0.5, tr("no takedowns at this level"), transform=ax.transAxes,
                ha="center", va="center", color=MUTED, fontsize=9)
    else:
        _legend(fig, status_counts(data.takedowns), top)
    return _png(fig)


def _bars(title: str, labels: Sequence[str], stacks: Mapping[str, Sequence[int]],
          colours: Mapping[str, str], empty: str) -> Png:
    """Horizontal bars, one per label, stacked by the keys of `stacks` (pdf charts).
    `title` and `empty` are catalogue strings (marked with N_), translated here; the
    labels and the keys of `stacks` (countries, kinds, statuses) are shown as they are."""
    height = 95 + max(len(labels), 1) * 28
    fig = Figure(figsize=(8.0, height / DPI), dpi=DPI)
    ax = fig.add_axes((0.2, 45 / height, 0.62, (height - 90) / height))
    fig.text(0.01, 1 - 10 / height, tr(title), fontsize=11, weight="bold", va="top",
             color=TEXT_COLOUR)
    if not labels:
        ax.set_axis_off()
        ax.text(0.5, 0.5, tr(empty), ha="center", va="center", color=MUTED, fontsize=9)
        return _png(fig)
    positions = list(range(len(labels)))
    base = [0] * len(labels)
    for name, values in stacks.items():
        ax.barh(positions, values, left=base, color=colours[name], label=name, height=0.6)
        base = [b + v for b, v in zip(base, values, strict=True)]
    for pos, total in zip(positions, base, strict=True):
        ax.text(total, pos, f" {i18n.number(total)}", va="center", fontsize=8, color=TEXT_COLOUR)
    ax.set_yticks(positions, list(labels), fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.margins(x=0.1)  # room for the totals at the bars' ends
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 arrests
    ax.tick_params(axis="x", labelsize=8)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if len(stacks) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=8, frameon=False)
    return _png(fig)


def arrests_by_country(counts: Mapping[str, int]) -> Png:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return _bars(N_("Arrests by country"), [c for c, _ in ordered],
                 {"arrests": [n for _, n in ordered]}, {"arrests": ARREST_COLOUR},
                 N_("no arrests at this level"))


def seizures_by_kind_and_status(counts: Mapping[tuple[str, str], int]) -> Png:
    kinds = sorted({kind for kind, _ in counts})
    statuses = [s for s in SEIZURE_COLOURS if any(st == s for _, st in counts)]
    stacks = {s: [counts.get((k, s), 0) for k in kinds] for s in statuses}
    return _bars(N_("Seized infrastructure by kind and status"), kinds, stacks,
                 SEIZURE_COLOURS, N_("no seized infrastructure at this level"))
