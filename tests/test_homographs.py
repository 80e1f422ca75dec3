"""Domains that look alike are told apart: stored and compared as IDNA A-labels, shown with
their Unicode form and what makes it deceptive."""

from __future__ import annotations

import pytest

from commands.core import idn, validate
from exports.text import cells
from tests.harness import OFFICER, Harness

APPLE_CYRILLIC = "аррӏе.com"  # а р ӏ е are Cyrillic
APPLE_ALABEL = "xn--80ak6aa92e.com"


async def test_a_cyrillic_look_alike_is_stored_as_its_a_label_and_flagged(h: Harness) -> None:
    reply = await h.ok(f"!seize domain {APPLE_CYRILLIC} country=NL", sender=OFFICER)
    assert "xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️ Cyrillic а р ӏ е look like Latin" in reply.text
    assert "apple" not in reply.text  # the ASCII look-alike is never what is shown
    [row] = await h.rows("SELECT value FROM seizures")
    assert row["value"] == APPLE_ALABEL
    listing = await h.ok("!seize list")
    assert "xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️" in listing.text


async def test_apple_and_its_look_alike_are_two_records(h: Harness) -> None:
    await h.ok("!seize domain apple.com", sender=OFFICER)
    second = await h.ok(f"!seize domain {APPLE_CYRILLIC}", sender=OFFICER)
    assert "S-2" in second.text
    values = [r["value"] for r in await h.rows("SELECT value FROM seizures ORDER BY seq")]
    assert values == ["apple.com", APPLE_ALABEL]


@pytest.mark.parametrize("spelling", [APPLE_ALABEL, "XN--80AK6AA92E.COM", "аррӏе[.]com",
                                      "аррӏе。com"])
async def test_every_spelling_of_one_domain_is_one_record(h: Harness, spelling: str) -> None:
    await h.ok(f"!seize domain {APPLE_CYRILLIC}", sender=OFFICER)
    dup = await h.fails(f"!seize domain {spelling}", sender=OFFICER)
    assert "already recorded as S-1" in dup.text


async def test_a_record_stored_in_unicode_before_a_labels_is_still_a_duplicate(
        h: Harness) -> None:
    await h.ok("!seize domain placeholder.example", sender=OFFICER)

    async def legacy(tx):  # type: ignore[no-untyped-def]
        await tx.execute("UPDATE seizures SET value=?", (APPLE_CYRILLIC,))

    await h.db.write(legacy)
    dup = await h.fails(f"!seize domain {APPLE_ALABEL}", sender=OFFICER)
    assert "already recorded as S-1" in dup.text
    listing = await h.ok("!seize list")
    assert "xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️" in listing.text


async def test_a_mixed_script_label_is_flagged_as_such(h: Harness) -> None:
    reply = await h.ok("!seize domain pаypal.com", sender=OFFICER)  # Cyrillic а
    assert "xn--pypal-4ve[.]com (pаypal[.]com — ⚠️ mixed scripts: Latin + Cyrillic" in reply.text


async def test_a_url_host_is_normalised_the_same_way(h: Harness) -> None:
    reply = await h.ok(f"!seize url hxxps://{APPLE_CYRILLIC}/login?next=/", sender=OFFICER)
    assert "hxxps://xn--80ak6aa92e[.]com/login?next=/ (hxxps://аррӏе[.]com/login" in reply.text
    [row] = await h.rows("SELECT value FROM seizures")
    assert row["value"] == f"https://{APPLE_ALABEL}/login?next=/"
    server = await h.ok(f"!seize server {APPLE_CYRILLIC}:8443", sender=OFFICER)
    assert "xn--80ak6aa92e[.]com:8443 (аррӏе[.]com:8443 — ⚠️" in server.text


async def test_a_takedown_target_shows_the_a_label_and_the_flag(h: Harness) -> None:
    free = await h.ok(f"!takedown add {APPLE_CYRILLIC} agency=DE-BKA", sender=OFFICER)
    assert "xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️" in free.text
    await h.ok(f"!seize domain {APPLE_CYRILLIC}", sender=OFFICER)
    linked = await h.ok("!takedown add S-1 agency=DE-BKA", sender=OFFICER)
    assert "S-1 xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️" in linked.text


def test_human_exports_show_the_a_label_and_the_flag() -> None:
    row = {"seq": 1, "type": "domain", "value": APPLE_ALABEL, "status": "seized",
           "country": "NL", "provider": None}
    assert cells("seizures", row)[2].startswith("xn--80ak6aa92e[.]com (аррӏе[.]com — ⚠️")


@pytest.mark.parametrize(("name", "ascii_name", "unicode_name"), [
    ("münchen.de", "xn--mnchen-3ya.de", "münchen.de"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai", "пример.рф"),
    ("例え.jp", "xn--r8jz45g.jp", "例え.jp"),
    ("faß.de", "xn--fa-hia.de", "faß.de"),  # IDNA 2008: ß is not folded to ss
    ("Bücher.EXAMPLE", "xn--bcher-kva.example", "bücher.example"),
])
def test_names_convert_both_ways(name: str, ascii_name: str, unicode_name: str) -> None:
    assert validate.indicator("domain", name) == ascii_name
    assert idn.to_unicode(ascii_name) == unicode_name


@pytest.mark.parametrize(("name", "flagged"), [
    ("münchen.de", False),       # Latin with an umlaut: nothing looks like something else
    ("例え.jp", False),           # Han + Hiragana is how Japanese is written
    ("пример.рф", True),          # real Russian, but р and е pass for p and e
    ("ɑpple.com", True),          # Latin alpha passes for a
    ("gооgle.com", True),         # two Cyrillic о in a Latin word
])
def test_which_unicode_names_are_flagged(name: str, flagged: bool) -> None:
    shown = validate.shown("domain", validate.indicator("domain", name))
    assert ("⚠️" in shown) is flagged, shown


def test_ascii_names_are_shown_as_before() -> None:
    assert validate.shown("domain", "evil.example") == "evil[.]example"
    assert validate.indicator("domain", "r3---sn-abc.googlevideo.com") == \
        "r3---sn-abc.googlevideo.com"  # real CDN host names keep working


@pytest.mark.parametrize("bad", ["xn--zz.com", "a..example", "-evil.example", "evil_x.example"])
def test_invalid_names_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(validate.ValidationError):
        validate.indicator("domain", bad)
