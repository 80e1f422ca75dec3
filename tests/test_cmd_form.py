"""A request form is drafted from what the room already recorded, holds only records at or
below its TLP (RED only by a lead's word), and its export leaves a digest in the audit log."""

from __future__ import annotations

import hashlib
import json

from storage.sealing import open_text
from tests.harness import OFFICER, Harness


async def _request(h: Harness) -> None:
    await h.ok("!seize ip 203.0.113.5 country=NL provider=ExampleHost")
    await h.ok("!seize account nightfall-admin@mail.example tlp=RED")
    await h.ok("!seize domain leak-site.example tlp=GREEN")
    await h.ok("!preserve add ExampleHost country=NL ref=2026-PR-17 items=S-1,S-2,S-3")


async def _show(h: Harness, line: str = "!form F-1") -> str:
    return (await h.ok(line)).text


async def test_a_draft_is_filled_from_the_request_its_items_and_the_drafters_agency(
        h: Harness) -> None:
    await _request(h)
    drafted = await h.ok("!preserve draft P-1 form=epoc-pr")
    assert "F-1" in drafted.text and "P-1" in drafted.text and "EPOC-PR" in drafted.text
    shown = await _show(h)
    for value in ("provider ExampleHost", "provider_country NL", "203[.]0[.]113[.]5",
                  "leak-site[.]example"):
        assert value in shown
    letter = await h.ok("!preserve draft P-1 form=2703f")
    assert "F-2" in letter.text
    shown = await _show(h, "!form F-2")
    assert "request_ref 2026-PR-17" in shown and "file_ref FIREBREAK" in shown
    assert "issuing_state FR" in shown  # the lead's agency is FR-OFAC
    assert "nightfall-admin" not in shown  # RED: left out
    assert "Left out, TLP:RED: S-2" in shown


async def test_a_correction_to_a_record_reaches_the_draft_and_a_hand_value_overrides_it(
        h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=art29")
    await h.ok("!agency add NL-POL country=NL tz=Europe/Amsterdam")
    await h.ok('!form F-1 set provider="ExampleHost B.V." offence="Ransomware extortion"')
    shown = await _show(h)
    assert "provider ExampleHost B.V." in shown and "offence Ransomware extortion" in shown
    await h.ok('!form F-1 set provider=""')
    assert "provider ExampleHost\n" in await _show(h) + "\n"


async def test_the_record_may_come_before_the_verb_as_the_spec_writes_it(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc")
    await h.ok("!form F-1 set issuing_type=judge max_penalty=5")
    await h.ok("!form set F-1 listed_offence=attacks-2013-40")
    shown = await _show(h)
    assert "issuing_type judge" in shown and "max_penalty 5" in shown
    assert "listed_offence attacks-2013-40" in shown


async def test_bad_values_are_refused_with_the_reason_and_the_usage(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc")
    years = await h.fails("!form F-1 set max_penalty=three")
    assert "not a number of years" in years.text and "/form set F-N" in years.text
    typo = await h.fails('!form F-1 set issuing_authorty="X"')
    assert "issuing_authority=" in typo.text
    kind = await h.fails("!form F-1 set issuing_type=sheriff")
    assert "prosecutor" in kind.text
    assert "max_penalty" not in (await _show(h)).split("Not filled")[0]


async def test_a_draft_cannot_sit_below_its_requests_tlp(h: Harness) -> None:
    await _request(h)
    refused = await h.fails("!preserve draft P-1 form=epoc-pr tlp=GREEN")
    assert "TLP:AMBER" in refused.text
    assert await h.rows("SELECT * FROM forms") == []


async def test_identifiers_above_the_drafts_tlp_stay_out(h: Harness) -> None:
    await h.ok("!seize ip 203.0.113.5 tlp=GREEN")
    await h.ok("!seize ip 198.51.100.7 tlp=AMBER")
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-2 tlp=GREEN")
    await h.ok("!preserve draft P-1 form=art29")
    shown = await _show(h)
    assert "203[.]0[.]113[.]5" in shown and "198[.]51[.]100[.]7" not in shown
    assert "above the draft's TLP:GREEN: S-2" in shown


async def test_only_a_lead_lets_a_red_identifier_in_and_the_log_keeps_who(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc-pr", sender=OFFICER)
    refused = await h.fails("!form F-1 include S-2", sender=OFFICER)
    assert "only a lead" in refused.text
    assert "nightfall-admin" not in await _show(h)
    await h.ok("!form F-1 include S-2")
    shown = await _show(h)
    assert "nightfall-admin" in shown and "TLP:RED" in shown
    logged = [r for r in await h.rows("SELECT sender, command FROM audit_log WHERE tbl='forms'")
              if "include" in open_text(h.db.keys, r["command"])]
    assert logged and logged[0]["sender"] != OFFICER
    not_red = await h.fails("!form F-1 include S-1")
    assert "not a TLP:RED identifier" in not_red.text


async def test_an_identifier_gets_its_categories_and_period(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc")
    await h.ok("!form F-1 item S-1 categories=traffic,subscriber start=2026-03-01T00:00Z "
               "end=2026-04-01T00:00Z")
    shown = await _show(h)
    assert "subscriber, traffic" in shown and "010000ZMAR26" in shown
    wrong = await h.fails("!form F-1 item S-1 categories=everything")
    assert "subscriber" in wrong.text
    backwards = await h.fails("!form F-1 item S-1 start=2026-05-01T00:00Z")
    assert "end= is not after start=" in backwards.text
    await h.ok("!seize domain unrelated.example")
    unnamed = await h.fails("!form F-1 item S-4 categories=subscriber")
    assert "not named on P-1" in unnamed.text


async def test_an_officer_changes_only_their_own_draft(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=art29")
    refused = await h.fails('!form F-1 set facts="x"', sender=OFFICER)
    assert "only they or a lead" in refused.text


async def test_undo_takes_back_a_value(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=art29")
    await h.ok('!form F-1 set necessity="Logs are kept 30 days"')
    await h.ok("!undo")
    assert "necessity" not in (await _show(h)).split("Not filled")[0]


async def test_the_json_export_is_the_draft_and_its_digest_is_in_the_audit_log(
        h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc-pr")
    await h.ok('!form F-1 set offence="Ransomware extortion"')
    reply = await h.ok("!form F-1 export json")
    assert reply.attachment is not None and reply.attachment.path is not None
    data = reply.attachment.path.read_bytes()
    assert reply.attachment.filename.endswith(".json") and "DRAFT" in reply.attachment.filename
    doc = json.loads(data)
    assert doc["form"] == "epoc-pr" and doc["fields"]["offence"] == "Ransomware extortion"
    logged = await h.rows("SELECT after FROM audit_log WHERE tbl='forms' ORDER BY n DESC "
                          "LIMIT 1")
    assert json.loads(logged[0]["after"])["exported_hash"] == hashlib.sha256(data).hexdigest()


async def test_a_form_list_names_each_draft_and_its_request(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve draft P-1 form=epoc-pr")
    await h.ok("!preserve draft P-1 form=2703f")
    listing = await _show(h, "!form list")
    assert "F-1 epoc-pr" in listing and "F-2 2703f" in listing and "P-1 ExampleHost" in listing


async def test_asset_records_are_m_n_now_that_forms_are_f_n(h: Harness) -> None:
    await _request(h)
    asset = await h.ok("!asset frozen 1000 EUR agency=FR-OFAC")
    assert "M-1" in asset.text
    await h.ok("!preserve draft P-1 form=art29")
    mixed = await h.fails("!form M-1 check")
    assert "asset record" in mixed.text


async def test_an_emergency_epoc_without_validation_reminds_of_it_before_48_hours(
        h: Harness) -> None:
    from tests.test_sitrep import scheduler_for

    await _request(h)
    await h.ok("!preserve status P-1 acknowledged")
    await h.ok("!preserve draft P-1 form=epoc")
    drafted = await h.ok('!form F-1 set emergency=yes emergency_reason="threat to life" '
                         "issuing_type=other")
    assert "validation due 261200ZNOV26" in drafted.text  # sent 241200Z + 48 h
    sched, sink = await scheduler_for(h)
    h.clock.advance(hours=23)
    await sched.post_reminders()
    assert not any("validat" in text for _, text in sink.posts)
    h.clock.advance(hours=1, minutes=1)  # a day before the deadline
    await sched.post_reminders()
    await sched.post_reminders()
    ahead = [text for _, text in sink.posts if "validat" in text and "F-1" in text]
    assert len(ahead) == 1 and "261200ZNOV26" in ahead[0], sink.posts
    h.clock.advance(hours=24)  # the deadline itself
    await sched.post_reminders()
    assert sum("validat" in text and "F-1" in text for _, text in sink.posts) == 2


async def test_drafting_an_epoc_pr_sets_the_requests_expiry_to_its_60_days(h: Harness) -> None:
    await _request(h)
    await h.ok("!preserve status P-1 extended expires=+200d")
    await h.ok("!preserve add OtherHost country=NL")
    drafted = await h.ok("!preserve draft P-2 form=2703f")
    assert "P-2 now expires 221200ZFEB27" in drafted.text  # 90 days after 241200ZNOV26
    untouched = await h.ok("!preserve draft P-1 form=epoc-pr")
    assert "now expires" not in untouched.text  # extended by hand: the officer's date holds
