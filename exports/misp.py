"""MISP event (JSON) of the operation's indicators, for partner CERTs and cybercrime units
that exchange indicators through MISP rather than STIX.

Built with `pymisp` objects rather than written by hand: pymisp holds MISP's own type
table (describeTypes), so each attribute's type is checked against its category (strict:
a wrong pair raises instead of importing as something else), MISP's defaults are filled
in, and the JSON has the shape MISP's import reads (numbers as strings, `Tag` lists,
epoch timestamps). Tests load the file back with `MISPEvent.load`.

What goes in:
- one attribute per indicator, the same selection as STIX (`Snapshot.indicators()`: every
  seized item), filtered by TLP in the snapshot like every format; takedowns, tasks and
  the rest are operational data, not indicators, and stay out;
- values in the form they are stored: domains as IDNA A-labels, canonical IPs, refanged
  URLs (a record stored in Unicode before A-labels is written as its A-label);
- `to_ids` only while the item may still be in criminal hands (identified, requested) and
  its MISP type is one IDS rules are made from. Once seized, sinkholed or offline it is
  law enforcement's or nobody's, and an alert on it would raise incidents against the
  takedown; released, it is back with its legitimate holder, who must not be blocked;
- the `tlp` taxonomy's tag of the export's level on the event and of its record's level on
  each attribute, and a distribution from the same level (DISTRIBUTION);
- ids are uuid5 of the operation and record, so the same item keeps its uuid and a partner
  importing a later export updates the event rather than duplicating it.

The event is not published: the receiving analyst reviews it and publishes it there.
Attributes are built and written one at a time, so 100,000 of them never sit in memory.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, BinaryIO

from pymisp import MISPAttribute, MISPEvent, MISPTag

from commands import validate
from exports.snapshot import Snapshot
from exports.stix import NAMESPACE
from storage.tx import Row

# MISP's `tlp` taxonomy spells the TLP 2.0 levels in lower case: tlp:clear … tlp:red.
TLP_TAGS = {level: f"tlp:{level.lower()}" for level in validate.TLP_LEVELS}
# MISP distribution levels: 0 your organisation only, 1 this community only, 2 connected
# communities, 3 all communities. RED (named recipients) and AMBER+STRICT (the recipient's
# organisation) stay in the importing organisation; AMBER may go to its community (MISP
# has no "clients" level); GREEN to the wider community but not the public; CLEAR anywhere.
DISTRIBUTION = {"CLEAR": 3, "GREEN": 2, "AMBER": 1, "AMBER+STRICT": 0, "RED": 0}
# Whether a seized item is still worth an IDS alert, by its status (see the docstring).
TO_IDS_BY_STATUS = {"identified": True, "requested": True, "seized": False,
                    "sinkholed": False, "offline": False, "released": False}
# MISP's event analysis: 0 initial, 1 ongoing, 2 completed.
ANALYSIS_BY_PHASE = {"planning": 0, "action": 1, "follow-up": 1, "closed": 2}
THREAT_LEVEL_UNDEFINED = 4

_BASE58 = "1-9A-HJ-NP-Za-km-z"
# Coins MISP has an attribute type for, told apart by address format. A format none of
# them has (Ethereum, Litecoin…) becomes a `text` attribute in "Financial fraud".
_COINS = (
    ("btc", re.compile(rf"^(?:bc1[a-z0-9]{{8,87}}|[13][{_BASE58}]{{25,34}})$", re.I)),
    ("xmr", re.compile(rf"^(?:[48][{_BASE58}]{{94}}|4[{_BASE58}]{{105}})$")),
    ("dash", re.compile(rf"^X[{_BASE58}]{{33}}$")),
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def attribute_kind(kind: str, value: str) -> tuple[str, str, str]:
    """The MISP (type, category, value) of a seized item of this kind."""
    if kind == "domain":
        return "domain", "Network activity", value
    if kind == "ip":
        return "ip-dst", "Network activity", value
    if kind == "url":
        return "url", "Network activity", value
    if kind == "server":
        # Stored as `host` or `host:port` (validate.indicator); a bare IPv6 has no port.
        host, sep, port = value.rpartition(":")
        if not (sep and port.isdigit() and value.count(":") == 1):
            return ("ip-dst" if _is_ip(value) else "hostname"), "Network activity", value
        return (("ip-dst|port" if _is_ip(host) else "hostname|port"), "Network activity",
                f"{host}|{port}")
    if kind == "wallet":
        coin = next((name for name, pattern in _COINS if pattern.match(value)), "text")
        return coin, "Financial fraud", value
    if kind == "account":
        return ("email" if _EMAIL.match(value) else "text"), "Social network", value
    return "text", "Other", value  # device, other


def _tag(level: str) -> MISPTag:
    tag = MISPTag()
    tag.from_dict(name=TLP_TAGS[level])
    return tag


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(("misp", *map(str, parts)))))


def _seizure_uuids(code: str) -> Callable[[int], str]:
    """`_uuid(code, "S", seq)` for many seqs, the common prefix hashed once: uuid5 is the
    SHA-1 of namespace and name, cut to 16 bytes and marked as version 5."""
    prefix = hashlib.sha1(NAMESPACE.bytes + f"misp/{code}/S/".encode(), usedforsecurity=False)

    def seizure_uuid(seq: int) -> str:
        digest = prefix.copy()
        digest.update(str(seq).encode())
        return str(uuid.UUID(bytes=digest.digest()[:16], version=5))

    return seizure_uuid


def _comment(s: Row) -> str:
    where = "".join(f" · {x}" for x in (s["country"], s["provider"]) if x)
    return f"S-{s['seq']} {s['type']} · {s['status']}{where}"


# Which MISP types IDS rules are made from, by MISP's own defaults (`text` is not).
_DETECTABLE = {name: bool(int(d["to_ids"]))
               for name, d in MISPAttribute().describe_types["sane_defaults"].items()}
_OWN_FIELDS = ("comment", "timestamp", "uuid", "value")  # what differs between records
_ENCODER = json.JSONEncoder(sort_keys=True)  # one, not one per record as json.dumps makes


def _fields(s: Row, record_uuid: str) -> dict[str, Any]:
    """What MISP is told about one seized item, as `MISPAttribute.from_dict` takes it."""
    value = validate.ascii_spelling(s["type"], s["value"])
    misp_type, category, value = attribute_kind(s["type"], value)
    return {"type": misp_type, "category": category, "value": value,
            "to_ids": _DETECTABLE[misp_type] and TO_IDS_BY_STATUS.get(s["status"], False),
            "distribution": DISTRIBUTION[s["tlp"]], "uuid": record_uuid,
            "comment": _comment(s), "timestamp": _epoch(s["updated_at"]),
            "disable_correlation": False}


def _attribute(fields: dict[str, Any], level: str) -> MISPAttribute:
    attr = MISPAttribute(strict=True)
    attr.from_dict(**fields)
    attr.force_timestamp = True  # the record's own time, not "now", so the bytes repeat
    attr.add_tag(_tag(level))
    return attr


def attribute(s: Row, code: str) -> MISPAttribute:
    """A seized item as a pymisp attribute; `build` writes the same JSON (a test holds it
    to that), without making 100,000 of them."""
    return _attribute(_fields(s, _uuid(code, "S", s["seq"])), s["tlp"])


class _AttributeWriter:
    """Each distinct shape of attribute (type, category, to_ids, level) is built once as a
    `MISPAttribute`, which checks it, and its JSON is reused for the records of that shape
    with their own value, uuid, comment and time. A `MISPAttribute` per record costs about
    150 µs, 15 s for 100,000 seizures, three times the export's budget."""

    def __init__(self, code: str) -> None:
        self.uuid = _seizure_uuids(code)
        self.shapes: dict[tuple[str, str, bool, str], dict[str, Any]] = {}

    def json(self, s: Row) -> bytes:
        fields = _fields(s, self.uuid(s["seq"]))
        shape = (fields["type"], fields["category"], fields["to_ids"], s["tlp"])
        template = self.shapes.get(shape)
        if template is None:
            template = json.loads(_attribute(fields, s["tlp"]).to_json())
            self.shapes[shape] = template
        # As pymisp writes them: strings stripped, the timestamp a string of its epoch.
        own = {k: str(fields[k]).strip() for k in _OWN_FIELDS}
        return _ENCODER.encode({**template, **own}).encode()


def event(snap: Snapshot) -> MISPEvent:
    """The event without its attributes (those are streamed in by `build`)."""
    op = snap.op
    ev = MISPEvent(strict_validation=True, force_timestamps=True)
    ev.from_dict(
        uuid=_uuid(snap.ident, "event"),
        info=f"{snap.title}: seized and targeted infrastructure, records at "
             f"or below TLP:{snap.tlp}",
        date=(op["hhour"] or op["created_at"])[:10],
        distribution=DISTRIBUTION[snap.tlp],
        threat_level_id=THREAT_LEVEL_UNDEFINED,
        analysis=ANALYSIS_BY_PHASE.get(op["phase"], 1),
        published=False,
        timestamp=_epoch(snap.generated_at),
    )
    ev.add_tag(_tag(snap.tlp))
    return ev


def build(snap: Snapshot, out: BinaryIO) -> None:
    """`{"Event": {...}}` as MISP's import reads it, its keys sorted, with the attribute
    list written as each attribute is made."""
    attributes = _AttributeWriter(snap.ident)
    head = json.loads(event(snap).to_json(sort_keys=True))
    keys = sorted([*head, "Attribute"])
    out.write(b'{"Event": {')
    for i, key in enumerate(keys):
        out.write((b", " if i else b"") + json.dumps(key).encode() + b": ")
        if key != "Attribute":
            out.write(json.dumps(head[key], sort_keys=True).encode())
            continue
        out.write(b"[")
        for n, s in enumerate(snap.indicators()):
            out.write((b", " if n else b"") + attributes.json(s))
        out.write(b"]")
    out.write(b"}}")
