"""A request form's draft, assembled from the records each time it is read.

Nothing the room already knows is copied into the form's row: the provider, the
identifiers, the dates and the issuing agency are read from the P-n, its S-n, the
operation and the drafter's agency when the draft is shown, checked or exported, so a
correction made to a record reaches every draft made from it. The operation's offence
(`OPERATION_KEYS`) is what its newest other draft was told. What only the officer knows
is kept in the row (`fields`, `items`); an officer's value for a key the room fills
overrides it, and the draft lists the keys set by hand.

The TLP is the draft's own: an identifier above it stays out (and the draft says which),
and a RED one stays out even below a RED draft until a lead lets it in by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from commands.core import validate
from commands.core.records import label
from commands.forms import providers
from commands.forms.fields import FIELDS, OPERATION_KEYS
from storage import agencies, forms, preservations
from storage.codec import to_db_time
from storage.tx import Row, Tx

SCHEMA = "opsroom-form/1"
RED = "RED"


def _agency_name(agency: Row | None) -> str | None:
    if agency is None:
        return None
    return f"{agency['code']} ({agency['name']})" if agency["name"] else str(agency["code"])


async def room_values(tx: Tx, op: Row, form: Row, request: Row, parent: Row | None,
                      provider: Mapping[str, str | None]) -> dict[str, str | None]:
    """What the room fills by itself, before the officer's own values."""
    agency = await agencies.of_member(tx, op["id"], form["created_by"])
    earlier = None
    if parent is not None:
        earlier = label("preservations", parent["seq"])
        if parent["ref"]:
            earlier += f" ({parent['ref']})"
    told: dict[str, str] = {}
    for other in await forms.others_newest_first(tx, op["id"], form["id"]):
        for key, value in forms.values(other, "fields").items():
            if key in OPERATION_KEYS and value:
                told.setdefault(key, value)
    return {
        **told,
        "issuing_state": agency["country"] if agency else None,
        "issuing_agency": _agency_name(agency),
        "provider": request["provider"],
        "provider_country": request["country"],
        "enforcing_state": provider.get("enforcing_state") or request["country"],
        "addressee": provider.get("addressee"),
        "address": provider.get("address"),
        "contact": provider.get("contact"),
        "request_ref": request["ref"],
        "sent": request["sent_at"],
        "earlier_request": earlier,
        "file_ref": op["code"],
    }


def _identifier(item: Row, settings: Mapping[str, Any]) -> dict[str, Any]:
    own = settings.get(label("seizures", item["seq"]), {})
    return {"ref": label("seizures", item["seq"]), "type": item["type"],
            "value": item["value"], "tlp": item["tlp"], "from": own.get("from"),
            "to": own.get("to"), "categories": list(own.get("categories", []))}


async def assemble(tx: Tx, op: Row, form: Row, *, now: datetime,
                   directory: providers.Directory) -> dict[str, Any]:
    """The draft (commands/forms/draft_shape.md), addressed from `directory`."""
    request = await forms.request_of(tx, form)
    parent = await preservations.parent_of(tx, request)
    own: dict[str, str] = forms.values(form, "fields")
    addressed = providers.addressing(directory, request["provider"], request["country"],
                                     form["form"])
    room = await room_values(tx, op, form, request, parent, addressed)
    fields: dict[str, str | None] = {}
    for key in FIELDS:
        fields[key] = own[key] if key in own else room.get(key)
    settings = forms.values(form, "items")
    let_in = set(forms.values(form, "red_override"))
    level = validate.tlp_rank(form["tlp"])
    identifiers, left_out, red_included = [], [], []
    for item in await preservations.items(tx, request["id"]):
        ref = label("seizures", item["seq"])
        if item["tlp"] == RED and ref in let_in:
            red_included.append(ref)
        elif item["tlp"] == RED or validate.tlp_rank(item["tlp"]) > level:
            left_out.append({"ref": ref, "tlp": item["tlp"]})
            continue
        identifiers.append(_identifier(item, settings))
    return {
        "schema": SCHEMA,
        "form": form["form"],
        "ref": label("forms", form["seq"]),
        "request": label("preservations", request["seq"]),
        "parent_request": label("preservations", parent["seq"]) if parent else None,
        "language": form["lang"],
        "tlp": form["tlp"],
        "drafted_at": to_db_time(now),
        "drafted_by": form["created_by"],
        "operation": {"name": op["name"], "code": op["code"]},
        "fields": fields,
        "set_by_hand": sorted(k for k in own if FIELDS[k].auto),
        "identifiers": identifiers,
        "left_out": left_out,
        "red_included": red_included,
    }
