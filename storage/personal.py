"""Which fields hold personal data, and whose: the one list sealing, retention and erasure read.

Directive (EU) 2016/680 art. 6 asks to keep suspects, victims, witnesses and others apart,
because each may be kept for a different time; art. 7 asks to keep assessments apart from
facts, so an arrest's assessment has its own field. Everything not listed here is not about
a person (statuses, times, countries, amounts, handles such as A-3) and stays readable
after an erasure, which is what keeps tallies and the audit trail meaningful.
"""

from __future__ import annotations

from typing import Final

SUSPECT, VICTIM, WITNESS, OTHER = "suspect", "victim", "witness", "other"
CATEGORIES: Final = (SUSPECT, VICTIM, WITNESS, OTHER)

# Record table -> its personal fields. A field is here when it names or identifies a person:
# the suspect reference and what is said about them, account identifiers and other seized
# indicators (an e-mail, a wallet or a handle points at someone), and free text, which
# officers fill with names whatever the rules say.
PERSONAL: Final[dict[str, tuple[str, ...]]] = {
    "arrests": ("ref", "charge", "role", "assessment"),
    "seizures": ("value",),
    "tasks": ("text", "reason"),
    # a takedown's target is a seized indicator's value (S-4 evil[.]example), copied
    "takedowns": ("target", "note"),
    "assets": ("note",),
    "tallies": ("note",),
    "sitrep_notes": ("note",),
    "rollcall_answers": ("reason",),
    "forms": ("fields", "items"),
    "partner_reports": ("note",),
}

# The category a record gets unless its command names another: an arrest is of a suspect;
# the rest is "other" until an officer says whose it is (`subject=` on /seize and /task).
DEFAULT_CATEGORY: Final[dict[str, str]] = {"arrests": SUSPECT}


# Keyed hashes kept to find a sealed value again (storage.seizures.value_key). They are
# never read back as data: rows are handed out without them, and the audit log, which is
# never erased, leaves them out, so no hash of an erased value outlives the erasure.
BLIND_INDEXES: Final = frozenset({"value_key"})


def personal_fields(table: str) -> tuple[str, ...]:
    return PERSONAL.get(table, ())


def default_category(table: str) -> str:
    return DEFAULT_CATEGORY.get(table, OTHER)
