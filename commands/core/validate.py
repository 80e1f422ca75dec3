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
        raise ValidationError("TLP:WHITE is TLP 1.0; TLP 2.0 calls it CLEAR")
    if value not in TLP_LEVELS:
        raise ValidationError(f"{s!r} is not a TLP 2.0 level ({', '.join(TLP_LEVELS)})")
    return value


def tlp_rank(level: str) -> int:
    return TLP_LEVELS.index(level)


def levels_up_to(level: str) -> tuple[str, ...]:
    """The levels a reader cleared for `level` may see: it and every lower one."""
    return TLP_LEVELS[:tlp_rank(level) + 1]


def country(s: str) -> str:
    code = s.strip().upper()
    if code == "UK":
        raise ValidationError("UK is not an ISO 3166 code: the United Kingdom is GB")
    if len(code) != 2 or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(f"{s!r} is not an ISO 3166 alpha-2 country code (e.g. FR, DE, NL)")
    return code


@cache
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def timezone(s: str) -> str:
    name = _zones_by_lower().get(s.strip().lower())
    if name is None:
        raise ValidationError(f"{s!r} is not an IANA time zone (e.g. Europe/Paris, UTC)")
    return name


_AGENCY_RE = re.compile(r"^[A-Z][A-Z0-9-]{1,19}$")


def agency_code(s: str) -> str:
    code = s.strip().upper()
    if not _AGENCY_RE.match(code) or code.endswith("-") or "--" in code:
        raise ValidationError(
            f"{s!r} is not a code: 2–20 letters, digits or hyphens, starting with a letter "
            "(e.g. FR-OFAC)"
        )
    return code


_MXID_RE = re.compile(r"^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|"
                      r"^@[a-z0-9._=/+\-]+:\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def mxid(s: str) -> str:
    value = s.strip()
    if len(value) > 255 or not _MXID_RE.match(value):
        raise ValidationError(f"{s[:80]!r} is not a Matrix user ID (e.g. @anna:police.example)")
    return value


def text(s: str, *, field: str, max_len: int = 500) -> str:
    value = s.strip()
    if not value:
        raise ValidationError(f"{field} is empty")
    if len(value) > max_len:
        raise ValidationError(f"{field} is {len(value)} characters; the limit is {max_len}")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200d":
            raise ValidationError(f"{field} contains a control or invisible character "
                                  f"(U+{ord(ch):04X})")
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
    ascii_host, unicode_host, flags = forms
    ascii_value = _with_host(kind, value, host, ascii_host)
    if unicode_host == ascii_host:
        return defang(kind, ascii_value)
    unicode_shown = defang(kind, _with_host(kind, ascii_value, ascii_host, unicode_host))
    note = f" — ⚠️ {'; '.join(flags)}" if flags else ""
    return f"{defang(kind, ascii_value)} ({unicode_shown}{note})"


@lru_cache(maxsize=4096)
def _host_forms(host: str) -> tuple[str, str, tuple[str, ...]] | None:
    """A-label, Unicode form and warnings of a host; cached since lists repeat hosts."""
    try:
        ascii_host = idn.to_ascii(host)  # rows stored before A-labels hold the Unicode form
    except idn.IDNError:
        return None
    unicode_host = idn.to_unicode(ascii_host)
    return ascii_host, unicode_host, tuple(idn.warnings(unicode_host))


_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IP_LIKE = re.compile(r"^[0-9.]+$|:")


def _domain(value: str) -> str:
    """The domain as its IDNA A-label (`commands.core.idn`): one spelling to store and compare."""
    name = value.strip().rstrip(".")
    if not name or any(ch.isspace() for ch in name):
        raise ValidationError(f"{value!r} is not a domain name")
    try:
        ascii_name = idn.to_ascii(name)
    except idn.IDNError as exc:
        raise ValidationError(f"{value!r} is not a valid (IDNA) domain name: {exc}") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(x) for x in labels):
        raise ValidationError(f"{value!r} is not a valid domain name (e.g. evil.example)")
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        raise ValidationError(f"{value!r} does not end in a valid top-level domain")
    return ascii_name


def _ip(value: str) -> str:
    if "/" in value:
        raise ValidationError(f"{value!r} is a network range; record single addresses")
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        raise ValidationError(f"{value!r} is not an IPv4 or IPv6 address") from None


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
        raise ValidationError(f"{value!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise ValidationError(f"{value!r} has no scheme: write http://, https:// or ftp://")
    if scheme not in URL_SCHEMES:
        raise ValidationError(f"{scheme}: URLs are refused; only http, https and ftp")
    if not parts.hostname:
        raise ValidationError(f"{value!r} has no host")
    host = _host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValidationError("URLs with user:password@ are refused (credentials in chat)")
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


_WALLET_RE = re.compile(r"^[A-Za-z0-9:_.\-]{1,128}$")


def indicator(kind: str, value: str) -> str:
    if kind not in SEIZURE_TYPES:
        raise ValidationError(f"{kind!r} is not a type ({', '.join(SEIZURE_TYPES)})")
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
                raise ValidationError(f"port {port} is out of range")
            return f"{_host(host)}:{int(port)}"
        return _host(raw)
    if kind == "wallet":
        if not _WALLET_RE.match(raw):
            raise ValidationError(f"{value[:80]!r} is not a wallet address (letters and digits, "
                                  "up to 128)")
        return raw
    if " " in raw and kind == "account":
        raise ValidationError("an account identifier has no spaces")
    return text(raw, field=kind, max_len=200)


_AMOUNT_RE = re.compile(r"^\d{1,16}(\.\d{1,18})?$")


def amount(s: str) -> Decimal:
    raw = s.strip().replace("_", "").replace("'", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw):
        raw = raw.replace(",", "")
    if not _AMOUNT_RE.match(raw):
        raise ValidationError(f"{s[:40]!r} is not an amount (e.g. 2.5 or 120000)")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(f"{s[:40]!r} is not an amount") from None
    if value <= 0:
        raise ValidationError("the amount must be more than zero")
    if value > MAX_AMOUNT:
        raise ValidationError("the amount is implausibly large (over 10^15)")
    return value


def currency(s: str) -> str:
    code = s.strip().upper()
    if code in CRYPTO_CURRENCIES:
        return code
    if len(code) == 3 and code.isalpha() and pycountry.currencies.get(alpha_3=code):
        return code
    raise ValidationError(f"{s[:20]!r} is not an ISO 4217 currency or a known crypto code "
                          "(e.g. EUR, USD, BTC, XMR)")


_REF_RE = re.compile(r"^#?([A-Za-z])?-?(\d{1,10})$")
_PREFIX_NOUNS = {"T": "task", "A": "arrest", "S": "seized item", "K": "takedown",
                 "P": "preservation/MLA request", "F": "asset record", "R": "roll call",
                 "D": "deconfliction hit"}


def record_ref(s: str, prefix: str) -> int:
    m = _REF_RE.match(s.strip())
    if not m:
        raise ValidationError(f"{s[:40]!r} is not an id like {prefix}-12")
    given = (m.group(1) or prefix).upper()
    if given != prefix:
        noun = _PREFIX_NOUNS.get(given, "other record")
        article = "an" if noun[0] in "aeiou" else "a"
        raise ValidationError(f"{given}-{m.group(2)} is {article} {noun} id; "
                              f"this needs a {_PREFIX_NOUNS.get(prefix, prefix)} id ({prefix}-N)")
    number = int(m.group(2))
    if not 0 < number < 10**9:
        raise ValidationError(f"{s!r} is not a valid id")
    return number
