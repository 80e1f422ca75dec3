"""The provider directory: loaded from the file `[forms] providers` names, a bad file stops
the bot naming the entry and key, and `/provider` answers from it in the room."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import ConfigError, load, parse
from commands.core.types import Settings
from commands.forms import providers
from commands.forms.providers import Directory, DirectoryError
from tests.harness import OFFICER, Harness

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "matrix": {"homeserver": "https://matrix.police.example", "user_id": "@bot:police.example",
               "password": "x"},
    "access": {"allowed_inviters": ["@*:police.example"]},
}
ENTRY = '''
[[providers]]
name = "ExampleHost"
aliases = ["Example Host B.V."]
country = "NL"
email = "le@examplehost.example"
portal = "https://le.examplehost.example"
accepts = ["epoc", "epoc-pr"]
legal_representative = { name = "EH Europe B.V.", address = "1 Straat", country = "NL" }
checked = 2026-11-01
'''


def config_with(tmp_path: Path, providers_file: str | None, text: str | None = None) -> dict:
    if text is not None:
        (tmp_path / "providers.toml").write_text(text)
    data = {k: dict(v) for k, v in GOOD.items()}
    if providers_file is not None:
        data["forms"] = {"providers": providers_file}
    return data


def test_the_example_config_loads_the_example_directory() -> None:
    directory = providers.of(load(ROOT / "config.example.toml").settings)
    host = directory.find("examplehost")
    assert host is not None and host.country == "NL"
    assert host.legal_representative is not None
    mail = directory.find("ExampleMail")
    assert mail is not None and mail.country == "US" and "2703f" in mail.accepts


def test_a_relative_providers_file_is_read_beside_the_config(tmp_path: Path) -> None:
    config = parse(config_with(tmp_path, "providers.toml", ENTRY), base=tmp_path)
    host = providers.of(config.settings).find("EXAMPLE HOST b.v.")
    assert host is not None and host.name == "ExampleHost"
    assert host.checked == date(2026, 11, 1) and host.accepts == ("epoc", "epoc-pr")


def test_without_a_providers_file_the_directory_is_empty(tmp_path: Path) -> None:
    config = parse(config_with(tmp_path, None), base=tmp_path)
    assert providers.of(config.settings).entries() == ()


def test_find_is_narrowed_by_country() -> None:
    directory = providers.parse({"providers": [
        {"name": "Example", "country": "US", "checked": date(2026, 1, 1)},
        {"name": "Example", "country": "IE", "checked": date(2026, 1, 1)},
    ]})
    assert directory.find("example").country == "US"  # type: ignore[union-attr]
    assert directory.find("example", country="ie").country == "IE"  # type: ignore[union-attr]
    assert directory.find("example", country="FR") is None
    assert directory.find("nobody") is None


@pytest.mark.parametrize(("text", "message"), [
    (ENTRY + '\n[[providers]]\nname = "B"\ncountry = "USA"\nchecked = 2026-01-01\n',
     "forms.providers: providers[2].country: expected an ISO 3166 alpha-2 country code"),
    (ENTRY.replace('"epoc-pr"]', '"epoc-xx"]'),
     "forms.providers: providers[1].accepts: 'epoc-xx' is not a form"),
    (ENTRY.replace("checked = 2026-11-01", ""),
     "forms.providers: providers[1].checked: expected the date the entry was last checked"),
    (ENTRY.replace("checked = 2026-11-01", 'checked = "recently"'),
     "forms.providers: providers[1].checked:"),
    (ENTRY.replace('name = "ExampleHost"', 'nmae = "ExampleHost"'),
     "forms.providers: providers[1].nmae: unknown key"),
    (ENTRY.replace('country = "NL" }', 'country = "XX" }'),
     "forms.providers: providers[1].legal_representative.country:"),
    (ENTRY.replace('address = "1 Straat", ', ''),
     "forms.providers: providers[1].legal_representative.address: missing"),
    (ENTRY.replace("https://le.examplehost.example", "le.examplehost.example"),
     "forms.providers: providers[1].portal: expected an http(s) URL"),
    (ENTRY + ENTRY.replace('aliases = ["Example Host B.V."]', ""),
     "forms.providers: providers[2].name: 'ExampleHost' in NL is already listed as "
     "providers[1]"),
    ('provider = "x"\n', "forms.providers: provider: unknown key"),
    ("[[providers]\n", "forms.providers: "),
])
def test_a_bad_providers_file_is_a_config_error_naming_the_key(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(config_with(tmp_path, "providers.toml", text), base=tmp_path)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_missing_providers_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^forms\.providers: .*gone\.toml: no such file"):
        parse(config_with(tmp_path, "gone.toml"), base=tmp_path)


def test_a_providers_file_key_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^forms\.providers: expected str"):
        parse(config_with(tmp_path, None) | {"forms": {"providers": 3}}, base=tmp_path)


def test_the_parser_raises_its_own_error_for_the_config_to_name() -> None:
    with pytest.raises(DirectoryError, match=r"^providers\[1\]\.name: missing"):
        providers.parse({"providers": [{"country": "NL", "checked": date(2026, 1, 1)}]})


# -- /provider ----------------------------------------------------------------------------

@pytest.fixture
async def hp(tmp_path: Path) -> AsyncIterator[Harness]:
    """FIREBREAK with the example directory (plus a stale entry)."""
    directory = providers.of(load(ROOT / "config.example.toml").settings)
    stale = providers.parse({"providers": [{"name": "OldHost", "country": "FR",
                                             "checked": date(2025, 1, 1)}]})
    settings = Settings(providers=Directory((*directory.entries(), *stale.entries())))
    harness = await Harness.open(tmp_path, settings)
    await harness.setup_operation()
    yield harness
    await harness.close()


async def test_provider_shows_an_entry_with_its_contacts_and_legal_representative(
        hp: Harness) -> None:
    reply = await hp.ok("!provider examplehost", sender=OFFICER)
    lines = reply.text.splitlines()
    assert lines[0] == "ExampleHost (NL)"
    assert "law-enforcement e-mail: lawenforcement@examplehost.example" in lines
    assert "portal: https://le.examplehost.example/requests" in lines
    assert "accepts: epoc, epoc-pr, art29" in lines
    assert any(line.startswith("EU legal representative (addressee of EU orders): "
                               "ExampleHost Europe B.V.") for line in lines)
    assert "last checked against its law-enforcement guidelines: 2026-11-01" in lines
    assert lines[-1].startswith("The bot never sends a request itself: EU orders go through "
                                "the national exchange system")
    assert "<b>ExampleHost</b>" in reply.html


async def test_provider_by_alias_and_with_spaces_finds_the_entry(hp: Harness) -> None:
    reply = await hp.ok("!provider Example Host B.V.", sender=OFFICER)
    assert reply.text.startswith("ExampleHost (NL)")


async def test_provider_without_a_name_lists_the_directory(hp: Harness) -> None:
    reply = await hp.ok("!provider", sender=OFFICER)
    lines = reply.text.splitlines()
    assert lines[0] == "Provider directory: 4 entries"
    assert "• ExampleMail (US) · accepts 2703f, art29 · checked 2026-10-15" in lines
    assert "national exchange system" in lines[-1]
    us = (await hp.ok("!provider country=US", sender=OFFICER)).text.splitlines()
    assert us[0] == "Provider directory: 2 entries"


async def test_an_entry_checked_long_ago_is_flagged(hp: Harness) -> None:
    reply = await hp.ok("!provider OldHost", sender=OFFICER)
    assert ("That check is 692 days old: re-check the provider's guidelines before sending."
            in reply.text.splitlines())
    assert "re-check" not in (await hp.ok("!provider ExampleHost", sender=OFFICER)).text


async def test_a_provider_not_in_the_directory_is_answered_with_who_adds_it(
        hp: Harness) -> None:
    reply = await hp.fails("!provider Nowhere Networks", sender=OFFICER)
    assert reply.text == ("⚠️ Nowhere Networks is not in the provider directory; ask the bot's "
                          "operator to add it to the providers file ([forms] providers in the "
                          "bot's configuration).")
    assert "did you mean ExampleMail?" in (
        await hp.fails("!provider ExampleMial", sender=OFFICER)).text
    assert "ExampleMail is in the provider directory for US only, not for NL" in (
        await hp.fails("!provider ExampleMail country=NL", sender=OFFICER)).text


async def test_an_empty_directory_says_where_providers_are_listed(h: Harness) -> None:
    reply = await h.ok("!provider", sender=OFFICER)
    assert reply.text.startswith("The provider directory is empty: the bot's operator lists "
                                 "providers in the file named by [forms] providers")
    assert "is not in the provider directory" in (
        await h.fails("!provider ExampleHost", sender=OFFICER)).text


# -- what a draft takes from the directory ------------------------------------------------

def example() -> Directory:
    return providers.of(load(ROOT / "config.example.toml").settings)


def test_an_eu_order_is_addressed_to_the_legal_representative_and_enforced_where_it_is(
        ) -> None:
    values = providers.addressing(example(), "examplecloud", "US", "epoc-pr")
    assert values == {"addressee": "ExampleCloud EU Representative Ltd",
                      "address": "1 Sample Quay, Dublin 2, Ireland",
                      "contact": "le-requests@examplecloud.example · "
                                 "https://examplecloud.example/law-enforcement",
                      "enforcing_state": "IE"}


def test_other_forms_are_addressed_to_the_provider_itself() -> None:
    values = providers.addressing(example(), "ExampleMail", "US", "2703f")
    assert values["addressee"] == "ExampleMail"
    assert values["address"] == "1 Example Way, Springfield, ST 00000, United States"
    assert values["enforcing_state"] is None


def test_a_provider_the_directory_lacks_fills_nothing() -> None:
    assert providers.addressing(example(), "Nowhere", "FR", "epoc") == {}
    assert providers.addressing(providers.EMPTY, "ExampleHost", "NL", "epoc") == {}


def test_a_provider_listed_once_is_found_whatever_country_the_request_gives() -> None:
    assert providers.addressing(example(), "ExampleHost", "DE", "art29")["addressee"] == (
        "ExampleHost")
    twice = providers.parse({"providers": [
        {"name": "Example", "country": "US", "checked": date(2026, 1, 1)},
        {"name": "Example", "country": "IE", "checked": date(2026, 1, 1)},
    ]})
    assert providers.addressing(twice, "Example", "DE", "art29") == {}
