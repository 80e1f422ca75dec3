"""Drafts shaped as commands.forms.draft assembles them (commands/forms/draft_shape.md), for
the tests of what reads a draft (rules, deadlines, files) without a room."""

from __future__ import annotations

import copy
from typing import Any

from commands.forms.fields import FIELDS

_FILLED: dict[str, str] = {
    "issuing_state": "FR",
    "issuing_agency": "FR-OFAC (Office anti-cybercriminalité)",
    "issuing_authority": "Parquet de Paris, J3 cybercriminalité, 4 boulevard des Italiens",
    "issuing_type": "prosecutor",
    "issuing_file": "PARQ-2026-0042",
    "issuing_contact": "Cdt. Anna Martin, +33 1 00 00 00 00, anna@police.example",
    "validating_authority": "Tribunal judiciaire de Paris, juge des libertés",
    "validating_type": "judge",
    "validating_file": "JLD-2026-17",
    "provider": "ExampleHost",
    "provider_country": "NL",
    "addressee": "ExampleHost Legal Representative B.V.",
    "address": "Keizersgracht 1, 1015 Amsterdam, NL",
    "contact": "lawenforcement@examplehost.example",
    "request_ref": "2026-PR-17",
    "sent": "2026-11-25T04:00:00Z",
    "earlier_request": None,  # type: ignore[dict-item]
    "file_ref": "NIGHTFALL",
    "offence": "Ransomware extortion by an organised group",
    "legal_basis": "Code pénal art. 323-1 to 323-3-1, 312-1",
    "max_penalty": "10",
    "listed_offence": "attacks-2013-40",
    "facts": "Servers rented at ExampleHost ran the group's leak site between March and "
             "November 2026.",
    "offence_in_issuing_state": "yes",
    "person_in_issuing_state": "no",
    "enforcing_state": "NL",
    "enforcing_authority": "Openbaar Ministerie, Landelijk Parket",
    "emergency": "no",
    "emergency_reason": None,  # type: ignore[dict-item]
    "relationship": "The IP address hosted the leak site named in the ransom notes.",
    "necessity": "Logs are kept 30 days by the provider.",
    "follow_up": "epoc",
    "delay_informing_user": "yes",
    "transfer_to": "FR-OFAC, anna@police.example",
    "notes": None,  # type: ignore[dict-item]
}


def sample_draft(form: str = "epoc", **fields: str | None) -> dict[str, Any]:
    """A complete draft of `form`; keyword arguments replace fields (None empties one)."""
    values: dict[str, str | None] = {key: _FILLED.get(key) for key in FIELDS}
    values.update(fields)
    return copy.deepcopy({
        "schema": "opsroom-form/1",
        "form": form,
        "ref": "F-3",
        "request": "P-2",
        "parent_request": None,
        "language": "en",
        "tlp": "AMBER",
        "drafted_at": "2026-11-25T05:00:00Z",
        "drafted_by": "@anna:police.example",
        "operation": {"name": "Operation Nightfall", "code": "NIGHTFALL"},
        "fields": values,
        "set_by_hand": [],
        "identifiers": [
            {"ref": "S-4", "type": "ip", "value": "203.0.113.5", "tlp": "AMBER",
             "from": "2026-03-01T00:00:00Z", "to": "2026-11-20T23:59:59Z",
             "categories": ["subscriber", "traffic"]},
            {"ref": "S-7", "type": "account", "value": "nightfall-admin@mail.example",
             "tlp": "GREEN", "from": None, "to": None, "categories": ["subscriber"]},
        ],
        "left_out": [],
        "red_included": [],
    })
