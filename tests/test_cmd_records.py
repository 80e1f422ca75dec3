"""/arrest, /seize, /asset, /tally, /preserve: stored as typed, shown safely, refused clearly."""

from __future__ import annotations

import pytest

from tests.harness import LEAD, OFFICER, OTHER, Harness


async def test_arrest_is_stored_with_reference_not_name(h: Harness) -> None:
    reply = await h.ok('!arrest add FR-2026-0142 country=fr agency=FR-OFAC charge="fraud" '
                       'role="admin" at=250400ZNOV26', sender=OFFICER)
    assert "A-1" in reply.text and "arrests in total: 1" in reply.text
    [row] = await h.rows("SELECT * FROM arrests")
    assert (row["ref"], row["country"], row["at"], row["charge"], row["tlp"]) == (
        "FR-2026-0142", "FR", "2026-11-25T04:00:00Z", "fraud", "AMBER")
    listing = await h.ok("!arrest list country=FR")
    assert "FR-2026-0142" in listing.text


@pytest.mark.parametrize(("line", "fragment"), [
    ('!arrest add "Jean Dupont" country=FR agency=FR-OFAC', "not a name"),
    ("!arrest add R1 country=FR agency=NL-X", "not registered"),
    ("!arrest add R1 country=ZZ agency=FR-OFAC", "ISO 3166"),
    ("!arrest add R1 agency=FR-OFAC", "missing country="),
    ("!arrest add R1 country=FR agency=FR-OFAC at=yesterday", "at="),
    ("!arrest add R1 country=FR agency=FR-OFAC charge=\"" + "x" * 5000 + '"', "limit"),
    ("!arrest add R1 country=FR agency=FR-OFAC charge=\"a\x07b\"", "control"),
])
async def test_arrest_validation(h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line, sender=OFFICER)
    assert fragment in reply.text


async def test_seize_refangs_for_storage_and_defangs_for_chat(h: Harness) -> None:
    reply = await h.ok('!seize url hxxps://evil[.]example/login?a=1 country=NL '
                       'provider="Reg <b>"', sender=OFFICER)
    assert "hxxps://evil[.]example/login?a=1" in reply.text
    assert "evil.example" not in reply.text and "Reg &lt;b&gt;" in reply.html
    await h.ok("!seize ip 203.0.113[.]7", sender=OFFICER)
    await h.ok("!seize domain BÜCHER[.]example", sender=OFFICER)
    values = [r["value"] for r in await h.rows("SELECT value FROM seizures ORDER BY seq")]
    assert values == ["https://evil.example/login?a=1", "203.0.113.7", "xn--bcher-kva.example"]
    dup = await h.fails("!seize ip 203.0.113.7", sender=OFFICER)
    assert "already recorded as S-2" in dup.text


@pytest.mark.parametrize(("line", "fragment"), [
    ("!seize url javascript:alert(1)", "javascript"),
    ("!seize url data:text/html,x", "data"),
    ("!seize ip 300.1.1.1", "IPv4 or IPv6"),
    ("!seize ip 10.0.0.0/8", "range"),
    ("!seize domain not_a_domain", "domain"),
    ("!seize domian evil.example", "did you mean domain"),
    ("!seize spaceship x", "is not one of domain, ip"),
    ("!seize domain evil.example status=gone", "status="),
])
async def test_seize_validation(h: Harness, line: str, fragment: str) -> None:
    reply = await h.fails(line, sender=OFFICER)
    assert fragment in reply.text
    assert "Usage: /seize" in reply.text


async def test_seize_status_owner_or_lead(h: Harness) -> None:
    await h.ok("!seize domain evil.example", sender=OFFICER)
    assert "recorded by" in (await h.fails("!seize status S-1 seized", sender=OTHER)).text
    assert "identified → seized" in (await h.ok("!seize status S-1 seized", sender=OFFICER)).text
    assert "seized → sinkholed" in (await h.ok("!seize status S-1 sinkholed", sender=LEAD)).text
    listing = await h.ok("!seize list domain status=sinkholed")
    assert "S-1" in listing.text and "evil[.]example" in listing.text


async def test_assets_sum_exactly_by_currency(h: Harness) -> None:
    await h.ok("!asset seized 0.1 BTC country=NL", sender=OFFICER)
    reply = await h.ok("!asset seized 0.2 btc", sender=OFFICER)
    assert "seized in total: 0.3 BTC" in reply.text
    await h.ok('!asset frozen 120,000 EUR "bank accounts"', sender=OFFICER)
    listing = await h.ok("!asset list")
    assert "€120,000.00 frozen" in listing.text and "0.3 BTC seized" in listing.text
    assert "M-3 frozen €120,000.00 · DE-BKA · bank accounts" in listing.text
    await h.ok("!lang fr", sender=OFFICER)
    small = await h.ok("!asset seized 0.00012345 BTC", sender=OFFICER)
    assert "0,00012345 BTC" in small.text and "0,30012345 BTC" in small.text
    french = await h.ok("!asset list", sender=OFFICER)
    assert "120\u202f000,00\xa0€ frozen" in french.text
    for bad, fragment in [("!asset seized -1 BTC", "amount"), ("!asset seized 1 BTX", "ISO 4217"),
                          ("!asset seized 1e99 EUR", "amount"),
                          ("!asset stolen 1 EUR", "frozen, seized")]:
        assert fragment in (await h.fails(bad, sender=OFFICER)).text


async def test_tally_counts_and_corrects(h: Harness) -> None:
    assert "→ 12" in (await h.ok("!tally searches +12 country=DE", sender=OFFICER)).text
    assert "→ 10" in (await h.ok("!tally searches -2", sender=OFFICER)).text
    assert "below zero" in (await h.fails("!tally searches -11", sender=OFFICER)).text
    assert "did you mean searches" in (await h.fails("!tally serches +1")).text
    assert "count like" in (await h.fails("!tally warrants lots")).text
    assert "searches 10" in (await h.ok("!tally list")).text


async def test_preservation_defaults_to_art_29_and_can_be_extended(h: Harness) -> None:
    reply = await h.ok("!preserve add ExampleHost country=US ref=PR-17", sender=OFFICER)
    assert "60 days" in reply.text and "art. 29" in reply.text
    [row] = await h.rows("SELECT * FROM preservations")
    assert (row["sent_at"], row["expires_at"]) == ("2026-11-24T12:00:00Z", "2027-01-23T12:00:00Z")
    await h.ok("!preserve add Host2 country=US expires=+90d kind=mla", sender=OFFICER)
    ext = await h.ok("!preserve status P-1 extended expires=+120d", sender=OFFICER)
    assert "extended" in ext.text
    assert "not later" in (await h.fails("!preserve status P-1 extended expires=+10d")).text
    assert "goes with" in (await h.fails("!preserve status P-1 fulfilled expires=+200d")).text
    await h.ok("!preserve status P-2 fulfilled", sender=OFFICER)
    open_list = await h.ok("!preserve list")
    assert "P-1" in open_list.text and "P-2" not in open_list.text
    assert "P-2" in (await h.ok("!preserve list all")).text
    assert "not after" in (await h.fails(
        "!preserve add X country=US sent=2026-11-20 expires=2026-11-19")).text
