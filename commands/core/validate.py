"""Validation and normalisation of what officers type: countries, zones, TLP labels,
agency codes, Matrix IDs, free text, indicators (with defanging), amounts and currencies.

Every function raises `ValidationError` (a ValueError) with a message an officer on a phone
can act on, and nothing else, whatever the input.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from urllib.parse import urlsplit, urlunsplit

import pycountry

from commands.core import idn
from commands.core.i18n import N_, current, tr


class ValidationError(ValueError):
    pass


TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
SEIZURE_TYPES = ("domain", "ip", "url", "server", "wallet", "account", "device", "other")
CRYPTO_CURRENCIES = frozenset({
    "BTC", "ETH", "XMR", "USDT", "USDC", "LTC", "BCH", "DOGE", "TRX", "SOL", "BNB", "DAI",
    "XRP", "ADA", "DOT", "ZEC", "DASH",
})
URL_SCHEMES = ("http", "https", "ftp")
MAX_AMOUNT = Decimal(10) ** 15


def tlp(s: str) -> str:
    value = s.strip().upper().replace(" ", "")
    if value.startswith("TLP:"):
        value = value[4:]
    if value == "WHITE":
        raise ValidationError(tr("TLP:WHITE is TLP 1.0; TLP 2.0 calls it CLEAR"))
    if value not in TLP_LEVELS:
        raise ValidationError(tr("{value} is not a TLP 2.0 level ({levels})").format(
            value=repr(s), levels=", ".join(TLP_LEVELS)))
    return value


def tlp_rank(level: str) -> int:
    return TLP_LEVELS.index(level)


def levels_up_to(level: str) -> tuple[str, ...]:
    """The levels a reader cleared for `level` may see: it and every lower one."""
    return TLP_LEVELS[:tlp_rank(level) + 1]


def country(s: str) -> str:
    code = s.strip().upper()
    if code == "UK":
        raise ValidationError(tr("UK is not an ISO 3166 code: the United Kingdom is GB"))
    if len(code) != 2 or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(tr("{value} is not an ISO 3166 alpha-2 country code (e.g. FR, DE, NL)"
                               ).format(value=repr(s)))
    return code


@cache
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def timezone(s: str) -> str:
    name = _zones_by_lower().get(s.strip().lower())
    if name is None:
        raise ValidationError(tr("{value} is not an IANA time zone (e.g. Europe/Paris, UTC)"
                                 ).format(value=repr(s)))
    return name


_AGENCY_RE = re.compile(r"^[A-Z][A-Z0-9-]{1,19}$")


def agency_code(s: str) -> str:
    code = s.strip().upper()
    if not _AGENCY_RE.match(code) or code.endswith("-") or "--" in code:
        raise ValidationError(tr(
            "{value} is not a code: 2–20 letters, digits or hyphens, starting with a letter "
            "(e.g. FR-OFAC)").format(value=repr(s)))
    return code


_MXID_RE = re.compile(r"^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|"
                      r"^@[a-z0-9._=/+\-]+:\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def mxid(s: str) -> str:
    value = s.strip()
    if len(value) > 255 or not _MXID_RE.match(value):
        raise ValidationError(tr("{value} is not a Matrix user ID (e.g. @anna:police.example)"
                               ).format(value=repr(s[:80])))
    return value


def text(s: str, *, field: str, max_len: int = 500) -> str:
    """`field` names the value in the message ("task text"): callers mark it with `N_`,
    it is translated here."""
    value = s.strip()
    if not value:
        raise ValidationError(tr("{field} is empty").format(field=tr(field)))
    if len(value) > max_len:
        raise ValidationError(tr("{field} is {n} characters; the limit is {limit}").format(
            field=tr(field), n=len(value), limit=max_len))
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200d":
            raise ValidationError(tr("{field} contains a control or invisible character "
                                     "({code})").format(field=tr(field),
                                                        code=f"U+{ord(ch):04X}"))
    return value


_REFANG = [
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.I), "."),
    (re.compile(r"\[@\]|\(@\)|\[at\]", re.I), "@"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[/\]"), "/"),
    (re.compile(r"^hxxp", re.I), "http"),
    (re.compile(r"^fxp", re.I), "ftp"),
]


def refang(s: str) -> str:
    value = s.strip()
    for pattern, repl in _REFANG:
        value = pattern.sub(repl, value)
    return value


def defang(kind: str, value: str) -> str:
    """Make an indicator unclickable in chat; refang() is its inverse."""
    if kind in ("domain", "ip", "server"):
        return value.replace(".", "[.]")
    if kind == "url":
        parts = urlsplit(value)
        scheme = parts.scheme.replace("http", "hxxp").replace("ftp", "fxp")
        return urlunsplit((scheme, parts.netloc.replace(".", "[.]"), parts.path, parts.query,
                           parts.fragment))
    if kind == "account":
        return value.replace("@", "[@]").replace(".", "[.]")
    return value


def host_of(kind: str, value: str) -> str | None:
    """The host a domain, URL or server value names (None for other kinds)."""
    if kind == "domain":
        return value
    if kind == "url":
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    if kind == "server":
        host, sep, port = value.rpartition(":")
        return host if sep and port.isdigit() and value.count(":") == 1 else value
    return None


def _with_host(kind: str, value: str, host: str, new: str) -> str:
    if kind == "url":
        parts = urlsplit(value)
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(host, new, 1)))
    return new + value[len(host):] if value.startswith(host) else value


def legacy_spelling(kind: str, value: str) -> str:
    """How records made before domains were stored as A-labels spell this value (its host
    in Unicode), so a duplicate of one of them is still caught."""
    host = host_of(kind, value)
    if not host or _IP_LIKE.match(host):
        return value
    return _with_host(kind, value, host, idn.to_unicode(host))


def ascii_spelling(kind: str, value: str) -> str:
    """The stored value with its host as the IDNA A-label, the one spelling tools compare:
    records made before domains were stored as A-labels hold the Unicode form."""
    host = host_of(kind, value)
    if not host or host.isascii():
        return value
    forms = _host_forms(host)
    return value if forms is None else _with_host(kind, value, host, forms[0])


def shown(kind: str, value: str) -> str:
    """An indicator as chat and human exports show it: defanged, its domain as the A-label,
    and when that is punycode, the Unicode form too with what makes it deceptive:
    `xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️ Cyrillic а р ӏ е look like Latin a p l e)`."""
    host = host_of(kind, value)
    if not host or _IP_LIKE.match(host) or (host.isascii() and "xn--" not in host):
        return defang(kind, value)  # the common case, kept fast for long lists and exports
    forms = _host_forms(host)
    if forms is None:
        return defang(kind, value)
    ascii_host, unicode_host = forms
    ascii_value = _with_host(kind, value, host, ascii_host)
    if unicode_host == ascii_host:
        return defang(kind, ascii_value)
    unicode_shown = defang(kind, _with_host(kind, ascii_value, ascii_host, unicode_host))
    flags = _warnings(unicode_host, current())
    note = f" — ⚠️ {'; '.join(flags)}" if flags else ""
    return f"{defang(kind, ascii_value)} ({unicode_shown}{note})"


@lru_cache(maxsize=4096)
def _host_forms(host: str) -> tuple[str, str] | None:
    """A-label and Unicode form of a host; cached since lists repeat hosts."""
    try:
        ascii_host = idn.to_ascii(host)  # rows stored before A-labels hold the Unicode form
    except idn.IDNError:
        return None
    unicode_host = idn.to_unicode(ascii_host)
    return ascii_host, unicode_host


@lru_cache(maxsize=4096)
def _warnings(unicode_host: str, language: str) -> tuple[str, ...]:
    """What makes a host deceptive, in `language` (the one in force: a key of the cache)."""
    return tuple(idn.warnings(unicode_host))


_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IP_LIKE = re.compile(r"^[0-9.]+$|:")


def _domain(value: str) -> str:
    """The domain as its IDNA A-label (`commands.core.idn`): one spelling to store and compare."""
    name = value.strip().rstrip(".")
    if not name or any(ch.isspace() for ch in name):
        raise ValidationError(tr("{value} is not a domain name").format(value=repr(value)))
    try:
        ascii_name = idn.to_ascii(name)
    except idn.IDNError as exc:
        raise ValidationError(tr("{value} is not a valid (IDNA) domain name: {reason}").format(
            value=repr(value), reason=exc)) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(x) for x in labels):
        raise ValidationError(tr("{value} is not a valid domain name (e.g. evil.example)").format(
            value=repr(value)))
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        raise ValidationError(tr("{value} does not end in a valid top-level domain").format(
            value=repr(value)))
    return ascii_name


def _ip(value: str) -> str:
    if "/" in value:
        raise ValidationError(tr("{value} is a network range; record single addresses").format(
            value=repr(value)))
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        raise ValidationError(tr("{value} is not an IPv4 or IPv6 address").format(
            value=repr(value))) from None


def _host(value: str) -> str:
    try:
        return _ip(value)
    except ValidationError:
        return _domain(value)


def _url(value: str) -> str:
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValidationError(tr("{value} is not a valid URL").format(value=repr(value))) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise ValidationError(tr("{value} has no scheme: write http://, https:// or ftp://").format(
            value=repr(value)))
    if scheme not in URL_SCHEMES:
        raise ValidationError(tr("{scheme}: URLs are refused; only http, https and ftp").format(
            scheme=scheme))
    if not parts.hostname:
        raise ValidationError(tr("{value} has no host").format(value=repr(value)))
    host = _host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValidationError(tr("URLs with user:password@ are refused (credentials in chat)"))
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


_WALLET_RE = re.compile(r"^[A-Za-z0-9:_.\-]{1,128}$")


def indicator(kind: str, value: str) -> str:
    if kind not in SEIZURE_TYPES:
        raise ValidationError(tr("{value} is not a type ({types})").format(
            value=repr(kind), types=", ".join(SEIZURE_TYPES)))
    raw = refang(value)
    if kind == "domain":
        return _domain(raw)
    if kind == "ip":
        return _ip(raw)
    if kind == "url":
        return _url(raw)
    if kind == "server":
        host, sep, port = raw.rpartition(":")
        if sep and port.isdigit() and not raw.count(":") > 1:
            if not 0 < int(port) < 65536:
                raise ValidationError(tr("port {port} is out of range").format(port=port))
            return f"{_host(host)}:{int(port)}"
        return _host(raw)
    if kind == "wallet":
        if not _WALLET_RE.match(raw):
            raise ValidationError(tr("{value} is not a wallet address (letters and digits, "
                                     "up to 128)").format(value=repr(value[:80])))
        return raw
    if " " in raw and kind == "account":
        raise ValidationError(tr("an account identifier has no spaces"))
    return text(raw, field=kind, max_len=200)  # the type keyword, as typed


_AMOUNT_RE = re.compile(r"^\d{1,16}(\.\d{1,18})?$")


def amount(s: str) -> Decimal:
    raw = s.strip().replace("_", "").replace("'", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw):
        raw = raw.replace(",", "")
    if not _AMOUNT_RE.match(raw):
        raise ValidationError(tr("{value} is not an amount (e.g. 2.5 or 120000)").format(
            value=repr(s[:40])))
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(tr("{value} is not an amount").format(value=repr(s[:40]))) from None
    if value <= 0:
        raise ValidationError(tr("the amount must be more than zero"))
    if value > MAX_AMOUNT:
        raise ValidationError(tr("the amount is implausibly large (over 10^15)"))
    return value


def currency(s: str) -> str:
    code = s.strip().upper()
    if code in CRYPTO_CURRENCIES:
        return code
    if len(code) == 3 and code.isalpha() and pycountry.currencies.get(alpha_3=code):
        return code
    raise ValidationError(tr("{value} is not an ISO 4217 currency or a known crypto code "
                             "(e.g. EUR, USD, BTC, XMR)").format(value=repr(s[:20])))


_REF_RE = re.compile(r"^#?([A-Za-z])?-?(\d{1,10})$")
# What an id of another kind is, and what this one needs: whole clauses per prefix (the
# article and the noun's gender differ in each language).
_GIVEN = {"T": N_("{ref} is a task id"), "A": N_("{ref} is an arrest id"),
          "S": N_("{ref} is a seized item id"), "K": N_("{ref} is a takedown id"),
          "P": N_("{ref} is a preservation/MLA request id"),
          "M": N_("{ref} is an asset record id"), "F": N_("{ref} is a request form draft id"),
          "R": N_("{ref} is a roll call id"),
          "D": N_("{ref} is a deconfliction hit id")}
_OTHER_GIVEN = N_("{ref} is an other record id")
_NEEDED = {"T": N_("this needs a task id ({prefix}-N)"),
           "A": N_("this needs an arrest id ({prefix}-N)"),
           "S": N_("this needs a seized item id ({prefix}-N)"),
           "K": N_("this needs a takedown id ({prefix}-N)"),
           "P": N_("this needs a preservation/MLA request id ({prefix}-N)"),
           "M": N_("this needs an asset record id ({prefix}-N)"),
           "F": N_("this needs a request form draft id ({prefix}-N)"),
           "R": N_("this needs a roll call id ({prefix}-N)"),
           "D": N_("this needs a deconfliction hit id ({prefix}-N)")}
_OTHER_NEEDED = N_("this needs a {prefix} id ({prefix}-N)")


def record_ref(s: str, prefix: str) -> int:
    m = _REF_RE.match(s.strip())
    if not m:
        raise ValidationError(tr("{value} is not an id like {prefix}-12").format(
            value=repr(s[:40]), prefix=prefix))
    given = (m.group(1) or prefix).upper()
    if given != prefix:
        is_kind = tr(_GIVEN.get(given, _OTHER_GIVEN)).format(ref=f"{given}-{m.group(2)}")
        needs = tr(_NEEDED.get(prefix, _OTHER_NEEDED)).format(prefix=prefix)
        raise ValidationError(tr("{is_kind}; {needs}").format(is_kind=is_kind, needs=needs))
    number = int(m.group(2))
    if not 0 < number < 10**9:
        raise ValidationError(tr("{value} is not a valid id").format(value=repr(s)))
    return number
