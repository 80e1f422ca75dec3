"""STIX 2.1 bundle of the operation's seized infrastructure and takedowns, built with the
`stix2` library and marked with TLP 2.0.

`stix2` only ships the TLP 1.0 marking definitions, so the five TLP 2.0 ones are defined
here with their official ids and the OASIS `tlp_2_0` property extension; every object
references the marking of its record's level. Ids are uuid5 of the operation and record,
so the same data gives the same bundle.
"""

from __future__ import annotations

import ipaddress
import json
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import stix2
from stix2.base import SCO_DET_ID_NAMESPACE

from exports.snapshot import Snapshot, allowed_levels
from storage.tx import Row

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
NAMESPACE = uuid.UUID("8a0f0d5c-3c0e-4f7e-9a36-6f0b5f3f0c11")  # opsroom's own namespace


def tlp2_marking(level: str) -> stix2.MarkingDefinition:
    return stix2.MarkingDefinition(
        id=TLP2_IDS[level],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension",
                                     "tlp_2_0": level.lower()}},
    )


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join(str(p) for p in parts))}"


def _ts(iso: str | None) -> str | None:
    return iso.replace("Z", ".000Z") if iso else None


def sco_id(kind: str, value: str) -> str:
    """The STIX 2.1 deterministic id of an observable (uuid5 over its canonical value),
    as the `stix2` library computes it, without building 100,000 library objects. For a
    one-string object, JCS canonical form equals compact `json.dumps` (checked by a test
    against the library), which is far faster than the pure-Python JCS."""
    data = json.dumps({"value": value}, ensure_ascii=False, separators=(",", ":"))
    return f"{kind}--{uuid.uuid5(SCO_DET_ID_NAMESPACE, data)}"


def _sco(kind: str, value: str, refs: list[str]) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": sco_id(kind, value), "value": value,
            "object_marking_refs": refs}


def _sdo(kind: str, ident: str, created: str | None, modified: str | None, creator: str,
         refs: list[str], **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": ident, "created": created,
            "modified": modified, "created_by_ref": creator, "object_marking_refs": refs,
            **props}


def _observable_kind(s: Row) -> str | None:
    """The SCO type of a seized domain, URL or IP; None for infrastructure objects."""
    if s["type"] == "ip":
        return "ipv4-addr" if ipaddress.ip_address(s["value"]).version == 4 else "ipv6-addr"
    return {"domain": "domain-name", "url": "url"}.get(s["type"])


def _seizure_id(s: Row, code: str) -> str:
    kind = _observable_kind(s)
    return sco_id(kind, s["value"]) if kind else _id("infrastructure", code, "S", s["seq"])


def _seizure_object(s: Row, code: str, creator: str) -> dict[str, Any]:
    refs = [TLP2_IDS[s["tlp"]]]
    if kind := _observable_kind(s):
        return _sco(kind, s["value"], refs)
    return _sdo("infrastructure", _seizure_id(s, code),
                _ts(s["created_at"]), _ts(s["updated_at"]), creator, refs,
                name=f"S-{s['seq']} {s['value']}", infrastructure_types=["unknown"],
                description=f"{s['type']} {s['value']} — status {s['status']}"
                + (f", provider {s['provider']}" if s["provider"] else ""))


def _record_objects(snap: Snapshot, creator: str) -> Iterator[dict[str, Any]]:
    code = snap.ident
    for s in snap.indicators():
        yield _seizure_object(s, code, creator)
    for k in snap.rows("takedowns"):
        refs = [TLP2_IDS[k["tlp"]]]
        ts = (_ts(k["created_at"]), _ts(k["updated_at"]))
        action = _sdo(
            "course-of-action", _id("course-of-action", code, "K", k["seq"]), *ts, creator,
            refs, name=f"K-{k['seq']} takedown of {k['target']} by {k['agency']}",
            description=(f"Outcome: {k['status']}. Planned {k['planned_at'] or '—'}; "
                         f"executed {k['executed_at'] or '—'}."
                         + (f" Note: {k['note']}" if k["note"] else "")))
        yield action
        # Linked only when the seized item is in this export (at or below its level).
        seized = (next(snap.rows("seizures", seq=k["seizure_seq"]), None)
                  if k["seizure_seq"] else None)
        if seized and seized.get("erased_by") is None:  # erased: not in the bundle
            yield _sdo(
                "relationship", _id("relationship", code, "K", k["seq"], "mitigates"), *ts,
                creator, refs, relationship_type="mitigates", source_ref=action["id"],
                target_ref=_seizure_id(seized, code),
                description=f"takedown {k['status']}")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")


def build(snap: Snapshot, out: BinaryIO) -> None:
    """The few singular objects (markings, identity, grouping) are `stix2` objects; the
    per-record ones (up to 100,000 seizures) are plain dicts of the same shape, because
    building library objects one by one takes minutes. They are written as they are made;
    their ids wait in a temporary file for the grouping, which lists them all. Tests
    round-trip the whole bundle through `stix2.parse`."""
    op = snap.op
    code = snap.ident
    created = _ts(op["created_at"])
    group_level = op["tlp"] if op["tlp"] in allowed_levels(snap.tlp) else snap.tlp
    # The bundle's own objects carry the operation's level, capped at the export's: a
    # CLEAR export must not contain anything marked AMBER.
    used = snap.levels_used("seizures", "takedowns") | {group_level}
    identity = stix2.Identity(
        id=_id("identity", code, "exporter"), name=f"opsroom — operation {op['code']}",
        identity_class="organization", created=created, modified=created,
        object_marking_refs=[TLP2_IDS[group_level]])
    grouping = json.loads(stix2.Grouping(
        id=_id("grouping", code), name=snap.title, context="suspicious-activity",
        description=f"Seized infrastructure and takedowns of {op['name']}, "
                    f"records at or below TLP:{snap.tlp}.",
        object_refs=[identity.id],  # the full list is streamed in below
        object_marking_refs=[TLP2_IDS[group_level]],
        created=created, modified=created, created_by_ref=identity.id).serialize())

    out.write(b'{"id":' + _dumps(_id("bundle", code, snap.tlp, snap.generated_at))
              + b',"objects":[')
    singles = [tlp2_marking(level) for level in TLP2_IDS if level in used]
    for i, obj in enumerate((*singles, identity)):
        out.write((b"," if i else b"") + _dumps(json.loads(obj.serialize())))
    with tempfile.TemporaryFile(dir=snap.workdir) as ids:
        for obj in _record_objects(snap, identity.id):
            out.write(b"," + _dumps(obj))
            ids.write(obj["id"].encode() + b"\n")
        ids.seek(0)
        out.write(b",{")
        for i, key in enumerate(sorted(grouping)):
            out.write((b"," if i else b"") + _dumps(key) + b":")
            if key == "object_refs":
                out.write(b"[" + _dumps(identity.id))
                for line in ids:
                    out.write(b"," + _dumps(line.rstrip(b"\n").decode()))
                out.write(b"]")
            else:
                out.write(_dumps(grouping[key]))
        out.write(b"}")
    out.write(b'],"type":"bundle"}')
