"""Argument types shared by the command declarations (one definition each), with the
usage placeholder each shows (`TIME`, `CC`, …)."""

from __future__ import annotations

from commands.core import i18n, timeparse, validate
from commands.core.i18n import N_, tr
from commands.core.spec import Choice, EnvFn, Fn, ParseEnv
from storage.personal import CATEGORIES


def _time(raw: str, env: ParseEnv) -> timeparse.ParsedTime:
    return timeparse.parse_time(raw, now=env.now, zone=env.zone, hhour=env.hhour)


def text(field: str, max_len: int = 500, metavar: str = N_('"text"')) -> Fn[str]:
    """Free text; `field` names it in a refusal ("task text"): mark it with `N_` where
    declared, `validate.text` translates it."""

    def parse(raw: str) -> str:
        return validate.text(raw, field=field, max_len=max_len)

    return Fn(parse, metavar)


def ref(prefix: str) -> Fn[int]:
    """A record number typed as `T-4`, `t4` or `4`."""

    def parse(raw: str) -> int:
        return validate.record_ref(raw, prefix)

    return Fn(parse, f"{prefix}-N", fixed=True)


def _positive_int(raw: str) -> int:
    s = raw.strip()
    if not s.isdigit() or len(s) > 6 or int(s) < 1:
        raise ValueError(tr("{value} is not a page number (1, 2, 3 …)").format(value=repr(raw)))
    return int(s)


TIME = EnvFn(_time, "TIME")
DURATION = Fn(timeparse.parse_duration, "DURATION")
COUNTRY = Fn(validate.country, "CC", fixed=True)
ZONE = Fn(validate.timezone, "Zone")
TLP = Fn(validate.tlp, "CLEAR|GREEN|AMBER|AMBER+STRICT|RED", fixed=True)
AGENCY = Fn(validate.agency_code, "CODE", fixed=True)
LANGUAGE = Fn(i18n.choose, "|".join(i18n.LANGUAGES), fixed=True)
AMOUNT = Fn(validate.amount, "AMOUNT")
CURRENCY = Fn(validate.currency, "CURRENCY")
PAGE = Fn(_positive_int, "N", fixed=True)
# Whose data a record holds (Directive 2016/680 art. 6): its retention period follows it.
SUBJECT = Choice(CATEGORIES)
