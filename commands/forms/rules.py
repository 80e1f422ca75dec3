"""The forms' own rules, checked on a draft: what each form must hold and what the law
refuses, each finding naming the rule it comes from.

Only rules the text of the instrument states are computed here (Regulation (EU) 2023/1543
arts 4, 5, 8 and 34; Budapest Convention art. 29(2); 18 U.S.C. § 2703(f)). Whether an
offence is rightly classified, whether the facts justify an emergency, whether to issue at
all: those stay with the issuing and validating authorities, so a draft with no finding is
complete, not approved. A finding is never a reason to refuse recording a value: the
officer fills a draft in any order and asks `/form F-n check` when it is ready.

Reads only the draft (commands/forms/draft_shape.md), so the same check serves the room,
the offline `opsroom form` and the files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from commands.core.i18n import N_, tr
from commands.forms.fields import FIELDS
from storage.codec import from_db_time

# The day Regulation (EU) 2023/1543 applies from (art. 34).
EU_APPLIES = datetime(2026, 8, 18, tzinfo=UTC)
LEVELS = ("missing", "refused", "warning")
JUDICIAL = frozenset({"judge", "court", "investigating-judge"})
JUDICIAL_OR_PROSECUTOR = JUDICIAL | {"prosecutor"}
# The categories that need a judge and the art. 5(4) threshold on an EPOC (art. 4(2)).
INTRUSIVE = frozenset({"traffic", "content"})
MIN_PENALTY_YEARS = 3
# Said by the check and by the 48-hour reminder.
VALIDATION_DUE = N_("An emergency order issued without validation must be validated within 48 "
                    "hours (Regulation (EU) 2023/1543 art. 4(5)) or withdrawn")

_ANNEX = {"epoc": N_("Regulation (EU) 2023/1543 Annex I"),
          "epoc-pr": N_("Regulation (EU) 2023/1543 Annex II")}
_EU_REQUIRED = ("issuing_state", "issuing_authority", "issuing_type", "issuing_file",
                "issuing_contact", "provider", "addressee", "offence", "legal_basis", "facts",
                "emergency")
# What each form must hold, and the rule that says so.
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "epoc": tuple((key, _ANNEX["epoc"]) for key in (*_EU_REQUIRED, "transfer_to")),
    "epoc-pr": tuple((key, _ANNEX["epoc-pr"]) for key in (*_EU_REQUIRED, "follow_up")),
    "art29": (("issuing_agency", N_("Budapest Convention art. 29(2)(a)")),
              ("offence", N_("Budapest Convention art. 29(2)(b)")),
              ("facts", N_("Budapest Convention art. 29(2)(b)")),
              ("relationship", N_("Budapest Convention art. 29(2)(c)")),
              ("provider", N_("Budapest Convention art. 29(2)(d)")),
              ("necessity", N_("Budapest Convention art. 29(2)(e)")),
              ("follow_up", N_("Budapest Convention art. 29(2)(f)"))),
    "2703f": (("provider", N_("18 U.S.C. § 2703(f)")),
              ("issuing_contact", N_("18 U.S.C. § 2703(f)"))),
}
_IDENTIFIERS_RULE = {"epoc": _ANNEX["epoc"], "epoc-pr": _ANNEX["epoc-pr"],
                     "art29": N_("Budapest Convention art. 29(2)(c)"),
                     "2703f": N_("18 U.S.C. § 2703(f)")}


@dataclass(frozen=True)
class Finding:
    level: str  # one of LEVELS
    key: str | None  # a field key, an identifier's ref (S-4), or None for the draft
    text: str  # translated, naming the rule


def check(draft: dict[str, Any], now: datetime) -> list[Finding]:
    """Every finding on the draft: missing first, then refused, then warnings, each group in
    the order of the rules below (the same draft always reads the same)."""
    form = draft["form"]
    fields: dict[str, str | None] = draft["fields"]
    found: list[Finding] = []
    found += _required(form, fields)
    found += _identifiers(form, draft["ref"], draft["identifiers"])
    found += _penalty_is_a_number(fields)
    if form in ("epoc", "epoc-pr"):
        found += _applies(fields, now)
        found += _issuer(draft)
        found += _emergency(fields)
    if form == "epoc" and _intrusive(draft):
        found += _threshold(fields)
        found += _notification(draft)
    if form == "2703f":
        found += _us_provider(fields)
    return sorted(found, key=lambda f: LEVELS.index(f.level))


def categories(draft: dict[str, Any]) -> set[str]:
    """Every data category any identifier of the draft asks for."""
    return {c for item in draft["identifiers"] for c in item["categories"]}


def unvalidated_emergency(draft: dict[str, Any]) -> bool:
    """An EPOC for subscriber or user-identification data, or an EPOC-PR, issued in an
    emergency by an authority that may only issue with validation, and not validated yet:
    art. 4(5) allows it, then wants validation within 48 hours (deadlines.py counts them)."""
    fields = draft["fields"]
    allowed = _allowed_issuers(draft)
    return (draft["form"] in ("epoc", "epoc-pr") and fields.get("emergency") == "yes"
            and allowed == JUDICIAL_OR_PROSECUTOR and fields.get("issuing_type") == "other"
            and fields.get("validating_type") not in allowed)


def notify_enforcing(draft: dict[str, Any]) -> bool | None:
    """Whether the EPOC goes to the enforcing authority too (art. 8(1)): traffic or content
    data, unless the offence was committed and the person resides in the issuing State
    (art. 8(2)); None while either answer is unknown."""
    if draft["form"] != "epoc" or not _intrusive(draft):
        return False
    fields = draft["fields"]
    answers = (fields.get("offence_in_issuing_state"), fields.get("person_in_issuing_state"))
    if "no" in answers:
        return True
    if None in answers:
        return None
    return False


def _intrusive(draft: dict[str, Any]) -> bool:
    return bool(categories(draft) & INTRUSIVE)


def _allowed_issuers(draft: dict[str, Any]) -> frozenset[str]:
    if draft["form"] == "epoc" and _intrusive(draft):
        return JUDICIAL
    return JUDICIAL_OR_PROSECUTOR


def _missing(key: str, rule: str) -> Finding:
    return Finding("missing", key, tr("{key} is missing: {what} ({rule})").format(
        key=key, what=tr(FIELDS[key].help), rule=tr(rule)))


def _required(form: str, fields: dict[str, str | None]) -> list[Finding]:
    out = [_missing(key, rule) for key, rule in REQUIRED[form] if not fields.get(key)]
    if form in ("epoc", "epoc-pr") and fields.get("validating_type") \
            and not fields.get("validating_authority"):
        out.append(_missing("validating_authority", _ANNEX[form]))
    return out


def _identifiers(form: str, ref: str, items: list[dict[str, Any]]) -> list[Finding]:
    rule = tr(_IDENTIFIERS_RULE[form])
    if not items:
        return [Finding("missing", None, tr(
            "No identifier: name the accounts, addresses or other identifiers whose data are "
            "sought on the request ({rule})").format(rule=rule))]
    if form not in ("epoc", "epoc-pr"):
        return []
    return [Finding("missing", item["ref"], tr(
        "{ref} has no data category (subscriber, user_identification, traffic, content): "
        "/form {form} item {ref} categories=… ({rule})").format(
        ref=item["ref"], form=ref, rule=rule))
        for item in items if not item["categories"]]


def _years(text: str) -> float | None:
    try:
        years = float(text)
    except ValueError:
        return None
    return years if math.isfinite(years) and years >= 0 else None


def _penalty_is_a_number(fields: dict[str, str | None]) -> list[Finding]:
    raw = fields.get("max_penalty")
    if raw is None or _years(raw) is not None:
        return []
    return [Finding("refused", "max_penalty", tr(
        "max_penalty must be a number of years (e.g. 3 or 0.5), not “{value}”").format(
        value=raw))]


def _applies(fields: dict[str, str | None], now: datetime) -> list[Finding]:
    raw = fields.get("sent")
    try:
        sent = from_db_time(raw) if raw else now
    except ValueError:
        return [Finding("refused", "sent", tr(
            "sent must be a UTC time such as 2026-11-25T04:00:00Z, not “{value}”").format(
            value=raw))]
    if sent >= EU_APPLIES:
        return []
    return [Finding("refused", "sent", tr(
        "Regulation (EU) 2023/1543 applies from 18 August 2026: a request sent "
        "before then cannot be an EPOC or EPOC-PR; draft it as form art29 or use the "
        "provider's portal"))]


def _issuer(draft: dict[str, Any]) -> list[Finding]:
    fields = draft["fields"]
    issuer, validator = fields.get("issuing_type"), fields.get("validating_type")
    allowed = _allowed_issuers(draft)
    if issuer is None or issuer in allowed or validator in allowed:
        return []
    if unvalidated_emergency(draft):
        return [Finding("warning", "validating_type", tr(VALIDATION_DUE))]
    if fields.get("emergency") == "yes" and issuer == "other":
        return [Finding("refused", "validating_type", tr(
            "An emergency order without validation is only allowed for subscriber or "
            "user-identification data, or for an EPOC-PR (Regulation (EU) 2023/1543 "
            "art. 4(5)): traffic or content data need validation by a judge, a court or an "
            "investigating judge"))]
    key = "validating_type" if validator else "issuing_type"
    if draft["form"] == "epoc-pr":
        text = tr("An EPOC-PR is issued or validated by a judge, a court, an investigating "
                  "judge or a prosecutor (Regulation (EU) 2023/1543 art. 4(3))")
    elif allowed == JUDICIAL:
        text = tr("Traffic or content data need a judge, a court or an investigating judge as "
                  "issuer or validator; a prosecutor is not enough (Regulation (EU) 2023/1543 "
                  "art. 4(2))")
    else:
        text = tr("Subscriber or user-identification data need a judge, a court, an "
                  "investigating judge or a prosecutor as issuer or validator (Regulation (EU) "
                  "2023/1543 art. 4(1))")
    return [Finding("refused", key, text)]


def _emergency(fields: dict[str, str | None]) -> list[Finding]:
    if fields.get("emergency") != "yes" or fields.get("emergency_reason"):
        return []
    return [_missing("emergency_reason", N_("Regulation (EU) 2023/1543 art. 3(18)"))]


def _threshold(fields: dict[str, str | None]) -> list[Finding]:
    listed = fields.get("listed_offence")
    if listed and listed != "none":
        return []
    raw = fields.get("max_penalty")
    if raw is None:
        return [_missing("max_penalty", N_("Regulation (EU) 2023/1543 art. 5(4)"))]
    years = _years(raw)
    if years is None or years >= MIN_PENALTY_YEARS:
        return []  # not a number: refused once, by _penalty_is_a_number
    return [Finding("refused", "max_penalty", tr(
        "Traffic or content data need an offence punishable by at least 3 years or one listed "
        "in listed_offence (Regulation (EU) 2023/1543 art. 5(4)); max_penalty is {years}")
        .format(years=raw))]


def _notification(draft: dict[str, Any]) -> list[Finding]:
    notify = notify_enforcing(draft)
    rule = N_("Regulation (EU) 2023/1543 art. 8")
    fields = draft["fields"]
    if notify is None:
        return [_missing(key, rule) for key in ("offence_in_issuing_state",
                                                 "person_in_issuing_state")
                if fields.get(key) is None]
    if notify and not fields.get("enforcing_authority"):
        return [Finding("missing", "enforcing_authority", tr(
            "enforcing_authority is missing: an EPOC for traffic or content data is notified "
            "to the enforcing authority at the same time as the addressee, unless the offence "
            "was committed and the person resides in the issuing State (Regulation (EU) "
            "2023/1543 art. 8)"))]
    return []


def _us_provider(fields: dict[str, str | None]) -> list[Finding]:
    country = fields.get("provider_country")
    if country is None or country == "US":
        return []
    return [Finding("warning", "provider_country", tr(
        "18 U.S.C. § 2703(f) binds providers in the United States; {provider} is in "
        "{country}: a request under Budapest Convention art. 29 or the provider's portal may "
        "be the way").format(provider=fields.get("provider") or "—", country=country))]
