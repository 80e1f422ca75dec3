"""The provider directory: where a request to each service provider goes, from a data file.

Providers' law-enforcement contacts, portals and EU legal representatives change often
(PILON advises re-checking them for every request), so they are data an operator keeps in
a TOML file named by `[forms] providers` in the config, never code; each entry carries the
date it was last checked against the provider's own guidelines, and readers are shown it.

A bad file stops the bot at start with the entry and key at fault ("providers[2].country:
…", entries counted from 1 as they appear in the file), like the rest of the config: a
draft addressed from a half-read directory would go to the wrong place silently.
Operator-facing, so its errors are English.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from commands.core import validate
from commands.core.types import Settings
from commands.forms.fields import FORMS


class DirectoryError(ValueError):
    """What is wrong with the providers file, naming the entry and key."""


@dataclass(frozen=True)
class Representative:
    """The legal representative or designated establishment in the EU an EU order is
    addressed to (Directive (EU) 2023/1544), when the provider is established outside."""

    name: str
    address: str
    country: str


@dataclass(frozen=True)
class Provider:
    name: str
    country: str
    checked: date  # last checked against the provider's own law-enforcement guidelines
    aliases: tuple[str, ...] = ()
    address: str | None = None
    email: str | None = None
    portal: str | None = None
    accepts: tuple[str, ...] = ()  # forms of commands.forms.fields.FORMS
    legal_representative: Representative | None = None
    emergency: str | None = None
    notes: str | None = None

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Directory:
    providers: tuple[Provider, ...] = ()

    def named(self, name: str) -> tuple[Provider, ...]:
        """Every entry whose name or alias is `name`, case and spacing aside (one provider
        may have an entry per country: the US company and its EU establishment)."""
        wanted = _folded(name)
        return tuple(p for p in self.providers if wanted in {_folded(n) for n in p.names()})

    def find(self, name: str, country: str | None = None) -> Provider | None:
        """The entry for `name`; `country` narrows it to the entry in that country."""
        for provider in self.named(name):
            if country is None or provider.country == country.upper():
                return provider
        return None

    def entries(self) -> tuple[Provider, ...]:
        return self.providers


EMPTY = Directory()


def of(settings: Settings) -> Directory:
    """The directory the bot was started with (Settings carries it untyped, see there)."""
    if settings.providers is None:
        return EMPTY
    assert isinstance(settings.providers, Directory)
    return settings.providers


def load(path: Path) -> Directory:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{path}: not valid TOML ({exc})") from None
    return parse(data)


ENTRY_KEYS = ("name", "aliases", "country", "address", "email", "portal", "accepts",
              "legal_representative", "emergency", "notes", "checked")
REPRESENTATIVE_KEYS = ("name", "address", "country")


def parse(data: dict[str, Any]) -> Directory:
    unknown = sorted(set(data) - {"providers"})
    if unknown:
        raise DirectoryError(f"{unknown[0]}: unknown key (a providers file holds [[providers]] "
                             "entries only)")
    entries = data.get("providers", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DirectoryError("providers: expected [[providers]] entries")
    providers: list[Provider] = []
    seen: dict[tuple[str, str], int] = {}
    for number, entry in enumerate(entries, start=1):
        provider = _entry(entry, f"providers[{number}]")
        for name in provider.names():
            earlier = seen.setdefault((_folded(name), provider.country), number)
            if earlier != number:
                raise DirectoryError(
                    f"providers[{number}].name: {name!r} in {provider.country} is already "
                    f"listed as providers[{earlier}]; keep one entry per provider and country")
        providers.append(provider)
    return Directory(tuple(providers))


def _entry(entry: dict[str, Any], where: str) -> Provider:
    _known(entry, where, ENTRY_KEYS)
    name = _text(entry, where, "name", required=True)
    assert name is not None
    aliases = _texts(entry, where, "aliases")
    accepts = _texts(entry, where, "accepts")
    for form in accepts:
        if form not in FORMS:
            raise DirectoryError(f"{where}.accepts: {form!r} is not a form "
                                 f"(expected some of {', '.join(FORMS)})")
    portal = _text(entry, where, "portal")
    if portal is not None:
        parts = urlsplit(portal)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DirectoryError(f"{where}.portal: expected an http(s) URL (got {portal!r})")
    email = _text(entry, where, "email")
    if email is not None and (email.count("@") != 1 or " " in email
                              or not all(email.split("@"))):
        raise DirectoryError(f"{where}.email: expected an e-mail address (got {email!r})")
    checked = entry.get("checked")
    if not isinstance(checked, date) or not _is_date(checked):
        raise DirectoryError(f"{where}.checked: expected the date the entry was last checked "
                             "against the provider's law-enforcement guidelines, e.g. "
                             "checked = 2026-11-01")
    representative = entry.get("legal_representative")
    if representative is not None:
        representative = _representative(representative, f"{where}.legal_representative")
    return Provider(name=name, country=_country(entry, where), checked=checked,
                    aliases=aliases, address=_text(entry, where, "address"), email=email,
                    portal=portal, accepts=accepts, legal_representative=representative,
                    emergency=_text(entry, where, "emergency"),
                    notes=_text(entry, where, "notes"))


def _is_date(value: date) -> bool:
    return type(value) is date  # a TOML date-time is a datetime, which is a date too


def _representative(value: Any, where: str) -> Representative:
    if not isinstance(value, dict):
        raise DirectoryError(f"{where}: expected a table with name, address and country")
    _known(value, where, REPRESENTATIVE_KEYS)
    name = _text(value, where, "name", required=True)
    address = _text(value, where, "address", required=True)
    assert name is not None and address is not None
    return Representative(name=name, address=address, country=_country(value, where))


def _known(table: dict[str, Any], where: str, keys: tuple[str, ...]) -> None:
    for key in table:
        if key not in keys:
            raise DirectoryError(f"{where}.{key}: unknown key (known: {', '.join(keys)})")


def _text(table: dict[str, Any], where: str, key: str, *, required: bool = False
          ) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise DirectoryError(f"{where}.{key}: missing; expected text")
        return None
    if not isinstance(value, str) or not value.strip():
        raise DirectoryError(f"{where}.{key}: expected non-empty text")
    return value.strip()


def _texts(table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DirectoryError(f"{where}.{key}: expected a list of text, e.g. [\"a\", \"b\"]")
    return tuple(v.strip() for v in value)


def _country(table: dict[str, Any], where: str) -> str:
    value = _text(table, where, "country", required=True)
    assert value is not None
    try:
        return validate.country(value)
    except ValueError:
        raise DirectoryError(f"{where}.country: expected an ISO 3166 alpha-2 country code "
                             f"such as NL or US (got {value!r})") from None


# Orders under Regulation (EU) 2023/1543: addressed to the provider's designated
# establishment or legal representative in the EU, enforced by that one's Member State.
EU_ORDERS = ("epoc", "epoc-pr")


def addressing(directory: Directory, name: str, country: str | None, form: str
               ) -> dict[str, str | None]:
    """What the directory fills in a draft of `form` for the provider a P-n names (the
    AUTO keys addressee, address, contact, enforcing_state of commands.forms.fields); {}
    when it does not know the provider. The P-n's country picks the entry; a name listed
    once is taken whatever country the P-n gives (it may be where the data are held).
    An EU order goes to the legal representative and is enforced where it sits; other
    forms go to the provider itself, and the enforcing State is left to the caller."""
    provider = directory.find(name, country)
    if provider is None:
        listed = directory.named(name)
        provider = listed[0] if len(listed) == 1 else None
    if provider is None:
        return {}
    contact = " · ".join(c for c in (provider.email, provider.portal) if c) or None
    rep = provider.legal_representative
    if form in EU_ORDERS and rep is not None:
        return {"addressee": rep.name, "address": rep.address, "contact": contact,
                "enforcing_state": rep.country}
    return {"addressee": provider.name, "address": provider.address, "contact": contact,
            "enforcing_state": None}
