"""The forms' own rules, as `/form F-n check` reports them, and the deadlines each form sets
running: each rule refuses with the article it comes from, and a complete draft passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commands.forms.deadlines import Deadline, deadlines, extension
from commands.forms.rules import Finding, check, notify_enforcing
from tests.form_samples import sample_draft

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
SENT = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def only(draft: dict[str, Any], *categories: str) -> dict[str, Any]:
    """The draft asking every identifier for exactly these categories."""
    for item in draft["identifiers"]:
        item["categories"] = list(categories)
    return draft


def found(draft: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(f.level, f.key) for f in check(draft, NOW)]


def the_one(draft: dict[str, Any]) -> Finding:
    findings = check(draft, NOW)
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize("form,fields", [("epoc", {}), ("epoc-pr", {}), ("art29", {}),
                                         ("2703f", {"provider_country": "US"})])
def test_a_complete_draft_of_each_form_has_no_finding(form: str, fields: dict[str, str]
                                                      ) -> None:
    assert check(sample_draft(form, **fields), NOW) == []


@pytest.mark.parametrize("form,key,rule", [
    ("epoc", "issuing_file", "Annex I"),
    ("epoc", "transfer_to", "Annex I"),
    ("epoc-pr", "follow_up", "Annex II"),
    ("art29", "issuing_agency", "art. 29(2)(a)"),
    ("art29", "facts", "art. 29(2)(b)"),
    ("art29", "relationship", "art. 29(2)(c)"),
    ("art29", "provider", "art. 29(2)(d)"),
    ("art29", "necessity", "art. 29(2)(e)"),
    ("art29", "follow_up", "art. 29(2)(f)"),
    ("2703f", "provider", "2703(f)"),
    ("2703f", "issuing_contact", "2703(f)"),
])
def test_each_form_names_what_it_lacks_and_the_rule_that_needs_it(form: str, key: str,
                                                                  rule: str) -> None:
    finding = the_one(sample_draft(form, provider_country="US", **{key: None}))
    assert (finding.level, finding.key) == ("missing", key)
    assert key in finding.text and rule in finding.text


@pytest.mark.parametrize("form", ["epoc", "epoc-pr", "art29", "2703f"])
def test_a_draft_naming_no_identifier_is_missing_them(form: str) -> None:
    draft = sample_draft(form, provider_country="US")
    draft["identifiers"] = []
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("missing", None)
    assert "No identifier" in finding.text


@pytest.mark.parametrize("form", ["epoc", "epoc-pr"])
def test_an_eu_order_names_the_identifier_that_has_no_data_category(form: str) -> None:
    draft = sample_draft(form)
    draft["identifiers"][1]["categories"] = []
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("missing", "S-7")
    assert "/form F-3 item S-7 categories=" in finding.text


def test_a_budapest_request_needs_no_data_category() -> None:
    draft = only(sample_draft("art29"))
    assert check(draft, NOW) == []


def test_traffic_data_ordered_by_a_prosecutor_alone_are_refused_under_art_4_2() -> None:
    draft = sample_draft("epoc", validating_type=None, validating_authority=None)
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("refused", "issuing_type")
    assert "art. 4(2)" in finding.text and "prosecutor is not enough" in finding.text


def test_content_data_validated_by_a_prosecutor_are_refused_and_the_validator_named() -> None:
    draft = only(sample_draft("epoc", issuing_type="other", validating_type="prosecutor"),
                 "content")
    assert found(draft) == [("refused", "validating_type")]
    assert "art. 4(2)" in check(draft, NOW)[0].text


def test_subscriber_data_may_be_ordered_by_a_prosecutor_alone() -> None:
    draft = only(sample_draft("epoc", validating_type=None, validating_authority=None),
                 "subscriber", "user_identification")
    assert check(draft, NOW) == []


def test_subscriber_data_ordered_by_another_authority_need_validation_under_art_4_1() -> None:
    draft = only(sample_draft("epoc", issuing_type="other", validating_type=None,
                              validating_authority=None), "subscriber")
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("refused", "issuing_type")
    assert "art. 4(1)" in finding.text


def test_a_preservation_order_by_another_authority_needs_validation_under_art_4_3() -> None:
    draft = sample_draft("epoc-pr", issuing_type="other", validating_type=None,
                         validating_authority=None)
    assert found(draft) == [("refused", "issuing_type")]
    assert "art. 4(3)" in check(draft, NOW)[0].text


def test_a_validator_without_a_name_is_missing_it() -> None:
    draft = sample_draft("epoc", validating_authority=None)
    assert found(draft) == [("missing", "validating_authority")]


def test_traffic_data_for_an_offence_under_3_years_and_not_listed_are_refused() -> None:
    draft = sample_draft("epoc", max_penalty="2", listed_offence="none")
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("refused", "max_penalty")
    assert "art. 5(4)" in finding.text and "3 years" in finding.text


def test_a_listed_offence_allows_traffic_data_whatever_the_penalty() -> None:
    assert check(sample_draft("epoc", max_penalty="1"), NOW) == []


def test_traffic_data_with_no_penalty_and_no_listed_offence_miss_the_penalty() -> None:
    draft = sample_draft("epoc", max_penalty=None, listed_offence=None)
    assert found(draft) == [("missing", "max_penalty")]
    assert "art. 5(4)" in check(draft, NOW)[0].text


def test_subscriber_data_need_no_threshold() -> None:
    draft = only(sample_draft("epoc", max_penalty="1", listed_offence="none"), "subscriber")
    assert check(draft, NOW) == []


@pytest.mark.parametrize("value", ["three", "3 years", "-1", "nan", "inf"])
def test_a_penalty_that_is_not_a_number_of_years_is_refused(value: str) -> None:
    draft = sample_draft("art29", max_penalty=value)
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("refused", "max_penalty")
    assert value in finding.text


def test_an_emergency_without_its_reason_is_missing_it() -> None:
    draft = sample_draft("epoc", emergency="yes")
    assert found(draft) == [("missing", "emergency_reason")]


def test_an_unvalidated_emergency_order_for_subscriber_data_is_allowed_with_a_48_hour_warning(
        ) -> None:
    draft = only(sample_draft("epoc", emergency="yes", emergency_reason="Threat to life",
                              issuing_type="other", validating_type=None,
                              validating_authority=None), "subscriber")
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("warning", "validating_type")
    assert "48 hours" in finding.text and "art. 4(5)" in finding.text


def test_an_unvalidated_emergency_preservation_order_is_allowed_with_the_warning() -> None:
    draft = sample_draft("epoc-pr", emergency="yes", emergency_reason="Threat to life",
                         issuing_type="other", validating_type=None, validating_authority=None)
    assert found(draft) == [("warning", "validating_type")]


def test_an_unvalidated_emergency_order_for_traffic_data_is_refused_under_art_4_5() -> None:
    draft = sample_draft("epoc", emergency="yes", emergency_reason="Threat to life",
                         issuing_type="other", validating_type=None, validating_authority=None)
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("refused", "validating_type")
    assert "art. 4(5)" in finding.text


def test_traffic_data_are_notified_to_the_enforcing_authority_unless_all_is_in_the_issuing_state(
        ) -> None:
    assert notify_enforcing(sample_draft("epoc")) is True
    at_home = sample_draft("epoc", person_in_issuing_state="yes", enforcing_authority=None)
    assert notify_enforcing(at_home) is False
    assert check(at_home, NOW) == []
    assert notify_enforcing(only(sample_draft("epoc"), "subscriber")) is False
    assert notify_enforcing(sample_draft("epoc-pr")) is False
    assert notify_enforcing(sample_draft("epoc", person_in_issuing_state=None)) is None


def test_a_notified_order_without_an_enforcing_authority_is_missing_it() -> None:
    draft = sample_draft("epoc", enforcing_authority=None)
    finding = the_one(draft)
    assert (finding.level, finding.key) == ("missing", "enforcing_authority")
    assert "art. 8" in finding.text


def test_an_unknown_place_of_offence_or_residence_is_missing_for_the_notification() -> None:
    draft = sample_draft("epoc", offence_in_issuing_state=None, person_in_issuing_state=None)
    assert found(draft) == [("missing", "offence_in_issuing_state"),
                            ("missing", "person_in_issuing_state")]


@pytest.mark.parametrize("form", ["epoc", "epoc-pr"])
def test_an_eu_order_sent_before_18_august_2026_is_refused_with_the_other_ways(form: str
                                                                              ) -> None:
    finding = the_one(sample_draft(form, sent="2026-08-17T23:59:59Z"))
    assert (finding.level, finding.key) == ("refused", "sent")
    assert "18 August 2026" in finding.text and "art29" in finding.text
    assert "portal" in finding.text
    assert check(sample_draft(form, sent="2026-08-18T00:00:00Z"), NOW) == []


def test_an_eu_order_not_yet_sent_is_judged_by_today() -> None:
    draft = sample_draft("epoc-pr", sent=None)
    assert check(draft, NOW) == []
    assert [(f.level, f.key) for f in check(draft, datetime(2026, 6, 1, tzinfo=UTC))] == [
        ("refused", "sent")]


def test_a_2703f_letter_to_a_provider_outside_the_united_states_is_warned() -> None:
    finding = the_one(sample_draft("2703f"))
    assert (finding.level, finding.key) == ("warning", "provider_country")
    assert "ExampleHost" in finding.text and "NL" in finding.text


def test_findings_come_missing_then_refused_then_warnings() -> None:
    draft = sample_draft("epoc", emergency="yes", emergency_reason=None,
                         issuing_type="other", validating_type=None, validating_authority=None,
                         max_penalty="x", issuing_file=None, sent="2026-08-01T00:00:00Z")
    draft = only(draft, "subscriber")
    draft["identifiers"].append({"ref": "S-9", "type": "ip", "value": "198.51.100.1",
                                 "tlp": "AMBER", "from": None, "to": None, "categories": []})
    assert found(draft) == [("missing", "issuing_file"), ("missing", "S-9"),
                            ("missing", "emergency_reason"), ("refused", "max_penalty"),
                            ("refused", "sent"), ("warning", "validating_type")]


# -- deadlines -----------------------------------------------------------------------------

def test_an_epoc_is_produced_within_10_days_or_8_hours_in_an_emergency() -> None:
    assert deadlines(sample_draft("epoc")) == [Deadline("production", SENT + timedelta(days=10))]
    emergency = sample_draft("epoc", emergency="yes", emergency_reason="Threat to life")
    assert deadlines(emergency) == [Deadline("production", SENT + timedelta(hours=8))]


def test_an_unvalidated_emergency_order_must_be_validated_within_48_hours() -> None:
    draft = only(sample_draft("epoc", emergency="yes", emergency_reason="Threat to life",
                              issuing_type="other", validating_type=None,
                              validating_authority=None), "subscriber")
    assert deadlines(draft) == [Deadline("production", SENT + timedelta(hours=8)),
                                Deadline("validation", SENT + timedelta(hours=48))]


@pytest.mark.parametrize("form,days", [("epoc-pr", 60), ("art29", 60), ("2703f", 90)])
def test_each_preservation_form_holds_the_data_for_its_period(form: str, days: int) -> None:
    assert deadlines(sample_draft(form)) == [
        Deadline("preservation", SENT + timedelta(days=days))]


@pytest.mark.parametrize("sent", [None, "25 Nov"])
def test_a_draft_with_no_readable_sent_time_has_no_deadline_yet(sent: str | None) -> None:
    assert deadlines(sample_draft("epoc", sent=sent)) == []


def test_an_epoc_pr_extends_once_by_30_days_and_a_2703f_letter_by_90() -> None:
    assert extension("epoc-pr") == timedelta(days=30)
    assert extension("2703f") == timedelta(days=90)
    assert extension("epoc") is None and extension("art29") is None
