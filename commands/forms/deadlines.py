"""The time limits a form sets running once it is sent, counted from its `sent` field.

The instruments count some limits from the addressee's receipt; the room knows only when
the request left, so every limit here is counted from `sent`, which is never later than
receipt: a reminder comes early rather than late. Art. 29 preservation is "at least 60
days": the minimum is what an officer can rely on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.forms.rules import unvalidated_emergency
from storage.codec import from_db_time

KINDS = ("production", "validation", "preservation")
# How a reminder or a reply names a form in passing: the EU certificates by their acronym,
# the others by the keyword typed in form= (FORM_NAMES has the full names).
FORM_SHORT = {"epoc": "EPOC", "epoc-pr": "EPOC-PR", "art29": "art29", "2703f": "2703f"}
PRODUCTION = timedelta(days=10)  # Regulation (EU) 2023/1543 art. 10
PRODUCTION_EMERGENCY = timedelta(hours=8)  # art. 10, not the 2018 proposal's 6 hours
VALIDATION = timedelta(hours=48)  # art. 4(5)
PRESERVATION = {"epoc-pr": timedelta(days=60),  # Annex II
                "art29": timedelta(days=60),  # Budapest Convention art. 29(7)
                "2703f": timedelta(days=90)}  # 18 U.S.C. § 2703(f)(2)
# One extension each: Annex VI of the Regulation; a renewed 2703(f) request.
EXTENSION = {"epoc-pr": timedelta(days=30), "2703f": timedelta(days=90)}


@dataclass(frozen=True)
class Deadline:
    kind: str  # one of KINDS
    due: datetime


def deadlines(draft: dict[str, Any]) -> list[Deadline]:
    """The draft's deadlines, soonest first; none until it has a readable `sent`."""
    raw = draft["fields"].get("sent")
    try:
        sent = from_db_time(raw)
    except ValueError:
        return []  # rules.check refuses it with the reason
    if sent is None:
        return []
    form = draft["form"]
    out: list[Deadline] = []
    if form == "epoc":
        emergency = draft["fields"].get("emergency") == "yes"
        out.append(Deadline("production",
                            sent + (PRODUCTION_EMERGENCY if emergency else PRODUCTION)))
    if unvalidated_emergency(draft):
        out.append(Deadline("validation", sent + VALIDATION))
    if form in PRESERVATION:
        out.append(Deadline("preservation", sent + PRESERVATION[form]))
    return sorted(out, key=lambda d: d.due)


def extension(form: str) -> timedelta | None:
    """How much one extension of the form's preservation adds, None if it has none."""
    return EXTENSION.get(form)
