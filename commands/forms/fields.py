"""What a request form holds, by key: the words an officer types after `/form F-n set`.

One table of fields for every form, so a value set once (the issuing authority, the
offence) is the same key whichever form it lands in; each form's template names the
keys it shows and in which section (commands/forms/templates). Values are kept as typed
text: the checks read them (`rules`), the files print them.

`AUTO` keys are filled from what the room already knows each time the draft is read
(the P-n, its S-n, the operation, the sender's agency, the provider directory); setting
one by hand overrides it, and the draft says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core.i18n import N_

FORMS = ("epoc", "epoc-pr", "art29", "2703f")
# What each form is, marked for the catalogue: show with tr(FORM_NAMES[form]).
FORM_NAMES = {
    "epoc": N_("European Production Order Certificate (EPOC, Regulation (EU) 2023/1543 "
               "Annex I)"),
    "epoc-pr": N_("European Preservation Order Certificate (EPOC-PR, Regulation (EU) "
                  "2023/1543 Annex II)"),
    "art29": N_("Request for expedited preservation (Budapest Convention art. 29)"),
    "2703f": N_("Preservation letter (18 U.S.C. § 2703(f))"),
}

CATEGORIES = ("subscriber", "user_identification", "traffic", "content")
ISSUER_TYPES = ("judge", "court", "investigating-judge", "prosecutor", "other")
# Art. 5(4)(b)-(d) of Regulation 2023/1543: offences for which traffic and content data
# may be ordered whatever the maximum penalty (committed by means of an information system
# for the first three).
LISTED_OFFENCES = ("none", "fraud-2019-713", "csam-2011-93", "attacks-2013-40", "terrorism",
                   "sentence-4-months")
FOLLOW_UP = ("epoc", "eio", "mla")
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Field:
    help: str  # marked with N_
    choices: tuple[str, ...] | None = None
    years: bool = False  # a number of years (the maximum penalty)
    auto: bool = False  # filled from the room's records unless set
    max_len: int = 1000


FIELDS: dict[str, Field] = {
    # Section A (EPOC/EPOC-PR), art. 29(2)(a): who issues
    "issuing_state": Field(N_("issuing State (filled from your agency's country)"), auto=True,
                           max_len=2),
    "issuing_agency": Field(N_("requesting agency (filled from your agency)"), auto=True),
    "issuing_authority": Field(N_("issuing authority: name and address")),
    "issuing_type": Field(N_("issuing authority type"), choices=ISSUER_TYPES),
    "issuing_file": Field(N_("file number of the issuing authority")),
    "issuing_contact": Field(N_("issuing authority contact: officer, phone, e-mail")),
    "validating_authority": Field(N_("validating authority: name and address")),
    "validating_type": Field(N_("validating authority type"), choices=ISSUER_TYPES),
    "validating_file": Field(N_("file number of the validating authority")),
    # Section B, art. 29(2)(d): to whom
    "provider": Field(N_("service provider (filled from the P-n)"), auto=True),
    "provider_country": Field(N_("service provider's country (filled from the P-n)"),
                              auto=True, max_len=2),
    "addressee": Field(N_("addressee: designated establishment or legal representative "
                          "(filled from the provider directory)"), auto=True),
    "address": Field(N_("addressee's address (filled from the provider directory)"),
                     auto=True),
    "contact": Field(N_("addressee's law-enforcement e-mail or portal (filled from the "
                        "provider directory)"), auto=True),
    # Links to the P-n and earlier requests
    "request_ref": Field(N_("reference of the request (filled from the P-n's ref=)"),
                         auto=True),
    "sent": Field(N_("date the request is sent (filled from the P-n)"), auto=True),
    "earlier_request": Field(N_("earlier order or request this one follows (filled from "
                                "from= on the P-n)"), auto=True),
    "file_ref": Field(N_("operation file reference (filled from the operation code)"),
                      auto=True),
    # Sections G/D, art. 29(2)(b): the offence
    "offence": Field(N_("nature and legal classification of the offence")),
    "legal_basis": Field(N_("statutory provision(s) of the offence")),
    "max_penalty": Field(N_("maximum custodial sentence, in years"), years=True, max_len=6),
    "listed_offence": Field(N_("offence listed in art. 5(4) of Regulation 2023/1543"),
                            choices=LISTED_OFFENCES),
    "facts": Field(N_("summary of the facts"), max_len=4000),
    "offence_in_issuing_state": Field(N_("was the offence committed in the issuing State?"),
                                      choices=YES_NO),
    "person_in_issuing_state": Field(N_("does the person whose data are sought reside in the "
                                        "issuing State?"), choices=YES_NO),
    "enforcing_state": Field(N_("enforcing State (filled from the provider's country)"),
                             auto=True, max_len=2),
    "enforcing_authority": Field(N_("enforcing authority notified: name and address")),
    # Section C/emergency
    "emergency": Field(N_("is this an emergency (imminent threat to life, physical integrity "
                          "or safety, or critical infrastructure)?"), choices=YES_NO),
    "emergency_reason": Field(N_("why this is an emergency"), max_len=2000),
    # art. 29(2)(c),(e),(f); EPOC-PR planned follow-up
    "relationship": Field(N_("how the data relate to the offence"), max_len=2000),
    "necessity": Field(N_("why the preservation or production is necessary"), max_len=2000),
    "follow_up": Field(N_("the request that will follow (production order, EIO or MLA)"),
                       choices=FOLLOW_UP),
    # Section H, section L
    "delay_informing_user": Field(N_("delay informing the person whose data are sought?"),
                                  choices=YES_NO),
    "transfer_to": Field(N_("to whom the data are to be transferred")),
    "notes": Field(N_("additional information"), max_len=2000),
}

# The operation's own offence: told once on one draft, the room knows it for the next ones
# (commands.forms.draft takes each from the newest other draft that holds it).
OPERATION_KEYS = ("offence", "legal_basis", "max_penalty", "listed_offence", "facts")
