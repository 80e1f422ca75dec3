"""The language a reply or a room post is written in, and the catalogue lookups.

One catalogue (GNU gettext, kept with Babel: `locale/<lang>/LC_MESSAGES/opsroom.po`) holds
every string a member of a room reads. Which language is in force is a context variable,
not an argument: the dispatcher sets the sender's language around one command, the
scheduler and the notices set the room's around one post, and everything underneath
(handlers, validators, renderers, exports) asks `tr()` without threading a language
through every call. asyncio copies context variables into the tasks it starts, so a
post made while handling a command keeps the language it was started in.

Names: `tr` (not the conventional `_`, which Python code also uses as a throwaway
variable, and a `_, row = …` in a function would silently shadow it), `trn` for plural
forms, `N_` to mark a string declared at import time (a command's summary) that is
translated where it is shown. `pybabel extract` knows the three (see babel.cfg).

Command names, keys (`due=`), record prefixes (T-, A-) and TLP labels are never in the
catalogue: an order typed from a French manual works in an Arabic room.

Leaf module: imports nothing of the project.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "opsroom"
LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
# INTERPOL's working languages; English is the source language of the catalogue.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español",
                             "ar": "العربية"}
SOURCE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})

_current: ContextVar[str] = ContextVar("opsroom_language", default=SOURCE)


def current() -> str:
    return _current.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Everything built inside is in `language` (the source language when None or unknown)."""
    lang = language if language in LANGUAGES else SOURCE
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def right_to_left(language: str | None = None) -> bool:
    return (language or current()) in RIGHT_TO_LEFT


def tr(message: str) -> str:
    """`message` in the language in force (itself when the catalogue lacks it)."""
    return catalogue(current()).gettext(message)


def trn(singular: str, plural: str, n: int) -> str:
    """The plural form for `n` in the language in force (Arabic has six)."""
    return catalogue(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it: for text declared at
    import time, before any language is in force, and translated with `tr` where shown."""
    return message


def choose(raw: str) -> str:
    """A language code as typed (`FR`, `fr-CA` → `fr`), or ValueError naming the choices."""
    code = raw.strip().lower().replace("_", "-").split("-")[0]
    if code in LANGUAGES:
        return code
    raise ValueError(tr("unknown language {code}; choose one of: {choices}").format(
        code=repr(raw), choices=choices()))


def named(code: str) -> str:
    """A language as members see it named: "Français (fr)"."""
    return f"{LANGUAGES.get(code, code)} ({code})"


def choices() -> str:
    return ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue (`make` builds the .mo files). A .mo missing or older than
    its .po is compiled in memory from the .po instead, so an edited translation is never
    silently replaced by a stale one."""
    if language == SOURCE or language not in LANGUAGES:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if not po.exists():
        log.error("no catalogue for %s in %s: replies stay in English", language, folder)
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(compile_po(po)))


def compile_po(po: Path) -> bytes:
    """The .mo bytes of a .po file (Babel's reader and writer, as `pybabel compile`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        cat = read_po(f)
    out = io.BytesIO()
    write_mo(out, cat)
    return out.getvalue()


# -- dates and numbers in the reader's locale (the DTG stays as it is beside them) --------

_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")


def local_time(when: datetime, zone: tzinfo) -> str:
    """A date and a 24-hour time as the reader's locale writes them, in `zone` ("Nov 25,
    2026, 05:00", "25 nov. 2026, 05:00", "25 نوفمبر 2026، 05:00"). Without the direction
    marks CLDR puts in some patterns: a reply shows every such mark from elsewhere as
    <U+200F>, and its own right-to-left marks are added where it is sent."""
    from babel.dates import format_skeleton, get_datetime_format

    day = format_skeleton("yMMMd", when, tzinfo=zone, locale=current())
    pattern = str(get_datetime_format("medium", locale=current()))
    return pattern.replace("{1}", day).replace("{0}", local_clock(when, zone)).translate(
        _DIRECTION_MARKS)


def local_clock(when: datetime, zone: tzinfo) -> str:
    """A 24-hour time of day as the reader's locale writes it, in `zone`."""
    from babel.dates import format_skeleton

    return format_skeleton("Hm", when, tzinfo=zone, locale=current()).translate(
        _DIRECTION_MARKS)


def number(value: float | int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=current()).translate(_DIRECTION_MARKS)


def money(amount: Decimal | float, currency: str) -> str:
    """An amount with its currency as the reader's locale writes it ("1 234,50 €"), never
    rounded nor padded: a code CLDR does not know as a currency (a crypto-asset: BTC,
    USDT), or an amount its currency's usual digits would round (0.125 EUR), shows every
    digit of the value, in the locale's separators, before its code ("0,00012345 BTC")."""
    from babel.numbers import format_currency, format_decimal, get_currency_precision, is_currency

    code = currency.upper()
    exact = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if is_currency(code) and exact == exact.quantize(
            Decimal(1).scaleb(-get_currency_precision(code))):
        text = format_currency(exact, code, locale=current())
    else:
        text = (f"{format_decimal(exact, locale=current(), decimal_quantization=False)} "
                f"{currency}")
    return text.translate(_DIRECTION_MARKS)
