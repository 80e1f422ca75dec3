"""What two operations compare to find that they hold the same thing (deconfliction).

A record gives zero or more (kind, normal value) keys. Indicators are compared in the form
`validate.indicator` stores them (refanged; domains, and the host of URLs and servers, as
IDNA A-labels; IPs canonical), so every spelling of one value is one key. On top of that:

- a **server**'s host also counts as the domain or IP it is (`evil.example:443` is the
  machine `evil.example` another operation recorded as a domain); a URL's host does not:
  two operations with URLs on one big platform are not on the same target;
- a **wallet** is compared in lower case where its format does not tell cases apart: EVM
  (`0x` + 40 hex; upper case letters are only a checksum) and bech32 (`bc1…`, `ltc1…`,
  written in one case). Base58 addresses (legacy Bitcoin, Monero, Tron) are case-sensitive
  and compared as typed;
- an **account** is compared case-folded (NFKC), the domain of an e-mail address as its
  A-label: platforms and mail hosts treat `Admin@Evil.example` as `admin@evil.example`, and
  a hit between two spellings costs two leads a call, a miss costs a blown takedown;
- a **suspect** is the arrest's reference (`REF`, e.g. FR-2026-0142), case-folded: it is
  what identifies the person across operations (names never reach the bot), while the
  agency code is each operation's own label and the charge or role are not identities.
  Devices and "other" items are free descriptions, not identifiers: not compared.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from commands.core import idn, validate

Key = tuple[str, str]
COMPARED_TYPES = frozenset({"domain", "ip", "url", "server", "wallet", "account"})

_EVM = re.compile(r"0x[0-9a-f]{40}", re.IGNORECASE)
# bech32/bech32m: human-readable part, the separator 1, data in the bech32 alphabet.
_BECH32 = re.compile(r"[a-z][a-z0-9]{0,82}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}",
                     re.IGNORECASE)


def of_record(table: str, row: Mapping[str, Any]) -> set[Key]:
    if table == "arrests":
        return {("suspect", str(row["ref"]).casefold())}
    if table == "seizures":
        return of_indicator(str(row["type"]), str(row["value"]))
    return set()


def of_indicator(kind: str, value: str) -> set[Key]:
    if kind not in COMPARED_TYPES:
        return set()
    try:
        normal = validate.indicator(kind, value)
    except ValueError:
        normal = value  # a row stored by an older, laxer version: compared as it is
    if kind == "server":
        return {("server", normal), _host_key(validate.host_of("server", normal) or normal)}
    if kind == "wallet":
        return {("wallet", _wallet(normal))}
    if kind == "account":
        return {("account", _account(normal))}
    return {(kind, normal)}


def _host_key(host: str) -> Key:
    try:
        return "ip", str(ipaddress.ip_address(host))
    except ValueError:
        return "domain", host


def _wallet(value: str) -> str:
    if _EVM.fullmatch(value):
        return value.lower()
    if _BECH32.fullmatch(value) and (value.islower() or value.isupper()):
        return value.lower()
    return value


def _account(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    local, at, domain = folded.rpartition("@")
    if at and local and domain:
        try:
            return f"{local}@{idn.to_ascii(domain)}"
        except idn.IDNError:
            pass
    return folded
