"""Times as officers type them, and as the bot shows them.

Accepted: ISO 8601 (`2026-11-25T04:00Z`; without a zone it is read in `zone`), a date and
time with an IANA zone (`2026-11-25 05:00 Europe/Paris`), a time alone (`05:00`, today in
`zone` or the named zone), a date alone (00:00 in `zone`), a military DTG (`250400ZNOV26`,
any zone letter but J; without a year, the current UTC year), `now`, `in 2h`, `+30m`,
`-1d`, and `H`, `H-1h`, `H+30m` relative to H-hour.

Decisions: a wall time that does not exist (spring-forward gap) is refused; an ambiguous
one (fall-back) is read as the first occurrence (fold=0). Slash dates (11/12/26) are
refused as ambiguous between day-first and month-first. Only `TimeError` escapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.core import i18n
from commands.core.i18n import N_, tr

# Shown after a time that could not be read; translated where shown (`tr(HELP)`).
HELP = N_('use ISO 8601 (2026-11-25T04:00Z), "2026-11-25 05:00 Europe/Paris", a DTG '
          "(250400ZNOV26), now, in 2h, +30m, -1d, H, H-1h, H+30m")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MAX_SPAN = timedelta(days=3650)


class TimeError(ValueError):
    pass


@dataclass(frozen=True)
class ParsedTime:
    at: datetime
    h_offset: timedelta | None = None


_DURATION_RE = re.compile(r"^(?:(\d{1,4})w)?(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m(?:in)?)?$")


def parse_duration(text: str) -> timedelta:
    raw = text.strip().lower().replace(" ", "")
    m = _DURATION_RE.match(raw)
    if not raw or not m or not any(m.groups()):
        if re.fullmatch(r"\d+s(ec)?", raw):
            raise TimeError(tr("{value}: seconds are too fine; use minutes (e.g. 5m)").format(
                value=repr(text)))
        raise TimeError(tr("{value} is not a duration (e.g. 30m, 2h, 1h30m, 1d, 90d, 2w)").format(
            value=repr(text[:40])))
    w, d, h, mins = (int(g) if g else 0 for g in m.groups())
    delta = timedelta(weeks=w, days=d, hours=h, minutes=mins)
    if delta <= timedelta(0):
        raise TimeError(tr("{value}: the duration must be more than zero").format(value=repr(text)))
    if delta > MAX_SPAN:
        raise TimeError(tr("{value}: more than ten years is not plausible").format(
            value=repr(text)))
    return delta


def _military_offset(letter: str) -> timedelta:
    letter = letter.upper()
    if letter == "Z":
        return timedelta(0)
    if "A" <= letter <= "I":
        return timedelta(hours=ord(letter) - ord("A") + 1)
    if "K" <= letter <= "M":
        return timedelta(hours=ord(letter) - ord("K") + 10)
    if "N" <= letter <= "Y":
        return -timedelta(hours=ord(letter) - ord("N") + 1)
    raise TimeError(tr("zone letter {letter} is not a military time zone (J is local time)"
                       ).format(letter=letter))


_DTG_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})([A-Za-z])([A-Za-z]{3})(\d{2})?$")


def _dtg(raw: str, now: datetime) -> datetime:
    m = _DTG_RE.match(raw)
    assert m
    day, hour, minute, letter, mon, yy = m.groups()
    if mon.upper() not in MONTHS:
        raise TimeError(tr("{value} is not a month (JAN … DEC)").format(value=repr(mon)))
    year = 2000 + int(yy) if yy else now.astimezone(UTC).year
    offset = _military_offset(letter)
    try:
        local = datetime(year, MONTHS.index(mon.upper()) + 1, int(day), int(hour), int(minute))
    except ValueError:
        raise TimeError(tr("{value} is not a real date and time").format(value=repr(raw))) from None
    return (local - offset).replace(tzinfo=UTC)


def _zone(name: str) -> ZoneInfo:
    from commands.core import validate

    try:
        return ZoneInfo(validate.timezone(name))
    except (ValueError, ZoneInfoNotFoundError):
        raise TimeError(tr("{value} is not an IANA time zone (e.g. Europe/Paris)").format(
            value=repr(name))) from None


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    aware = naive.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise TimeError(tr("{when} does not exist in {zone} (clocks jump forward then)").format(
            when=f"{naive:%Y-%m-%d %H:%M}", zone=zone.key))
    return aware.astimezone(UTC)


_TIME_ONLY_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def _absolute(raw: str, now: datetime, zone: ZoneInfo) -> datetime:
    words = raw.split()
    if len(words) >= 2 and ("/" in words[-1] or words[-1].upper() == "UTC"):
        zone = _zone(words[-1])
        raw = " ".join(words[:-1])
    if "/" in raw:
        raise TimeError(tr("{value} is ambiguous (day or month first?); use 2026-11-25").format(
            value=repr(raw)))
    m = _TIME_ONLY_RE.match(raw)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise TimeError(tr("{value} is not a time of day").format(value=repr(raw)))
        today = now.astimezone(zone).date()
        return _localize(datetime.combine(today, time(hour, minute)), zone)
    candidate = raw.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} ", raw) else raw
    if not re.match(r"^\d{4}-\d{2}-\d{2}", candidate):
        raise TimeError(tr("{value} is not a time: {help}").format(value=repr(raw[:60]),
                                                                help=tr(HELP)))
    try:
        if len(candidate) == 10:
            parsed = datetime.combine(date.fromisoformat(candidate), time(0, 0))
        else:
            parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise TimeError(tr("{value} is not a valid date and time: {help}").format(
            value=repr(raw[:60]), help=tr(HELP))) from None
    if parsed.tzinfo is None:
        return _localize(parsed, zone)
    return parsed.astimezone(UTC)


_REL_RE = re.compile(r"^(?:in\s+|([+-]))\s*(.+)$", re.I)
_H_RE = re.compile(r"^h(?:\s*([+-])\s*(.+))?$", re.I)


def parse_time(text: str, *, now: datetime, zone: ZoneInfo, hhour: datetime | None
               ) -> ParsedTime:
    raw = " ".join(text.strip().split())
    if not raw:
        raise TimeError(tr("no time given: {help}").format(help=tr(HELP)))
    if len(raw) > 60:
        raise TimeError(tr("{value}… is too long for a time: {help}").format(value=repr(raw[:40]),
                                                                         help=tr(HELP)))
    lowered = raw.lower()
    if lowered == "now":
        return ParsedTime(now.astimezone(UTC))
    h = _H_RE.match(raw)
    if h:
        if hhour is None:
            raise TimeError(tr("H-hour is not set: a lead sets it with /hhour TIME"))
        offset = timedelta(0)
        if h.group(1):
            offset = parse_duration(h.group(2))
            offset = -offset if h.group(1) == "-" else offset
        return ParsedTime((hhour + offset).astimezone(UTC), h_offset=offset)
    rel = _REL_RE.match(raw)
    if rel:
        delta = parse_duration(rel.group(2))
        at = now - delta if rel.group(1) == "-" else now + delta
        return ParsedTime(at.astimezone(UTC))
    if _DTG_RE.match(raw):
        at = _dtg(raw, now)
    else:
        at = _absolute(raw, now, zone)
    if not 2000 <= at.year <= 2100:
        raise TimeError(tr("{value}: the year {year} is not plausible").format(value=repr(raw),
                                                                          year=at.year))
    return ParsedTime(at)


def format_dtg(dt: datetime) -> str:
    utc = dt.astimezone(UTC)
    return f"{utc:%d%H%M}Z{MONTHS[utc.month - 1]}{utc:%y}"


def format_local(dt: datetime, zone: str) -> str:
    """A time on `zone`'s clock, short, its month named in the reader's language:
    `25 Nov 05:00 CET`, `25 nov. 05:00 CET`."""
    from babel.dates import format_datetime

    local = dt.astimezone(ZoneInfo(zone))
    return f"{format_datetime(local, 'dd MMM HH:mm', locale=i18n.current())} {local.tzname()}"


def format_offset(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total) // 60
    days, rem = divmod(total, 1440)
    hours, minutes = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes or not parts:
        parts.append(f"{minutes}m")
    return sign + "".join(parts)
