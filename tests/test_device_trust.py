"""Device trust without a homeserver: which devices a /keys/query response vouches for, the
pins in the database, and /trust."""

from __future__ import annotations

import copy
import gettext
import json
from typing import Any

import pytest

from bot.crypto.cross_signing import CrossSigningKeys, add_signature, sign, signable
from bot.crypto.device_trust import identities_of
from commands.core import i18n
from storage import identities
from storage.audit import verify_room
from tests.harness import LEAD, OFFICER, OTHER, ROOM, Harness

USER = "@anna:police.example"


def _device(device_id: str) -> dict[str, Any]:
    return {"user_id": USER, "device_id": device_id,
            "algorithms": ["m.megolm.v1.aes-sha2"],
            "keys": {f"ed25519:{device_id}": f"ed-{device_id}",
                     f"curve25519:{device_id}": f"cv-{device_id}"}}


def _response(keys: CrossSigningKeys, signed: list[str], unsigned: list[str]) -> dict[str, Any]:
    devices = {}
    for device_id in signed + unsigned:
        device = _device(device_id)
        if device_id in signed:
            add_signature(device, USER, f"ed25519:{keys.public('self_signing')}",
                          sign(keys.keys["self_signing"], signable(device)))
        devices[device_id] = device
    return {"device_keys": {USER: devices},
            "master_keys": {USER: keys.key_object(USER, "master")},
            "self_signing_keys": {USER: keys.key_object(USER, "self_signing")}}


def test_only_devices_signed_through_the_master_key_count() -> None:
    keys = CrossSigningKeys.generate()
    found = identities_of(_response(keys, ["PHONE"], ["LAPTOP"]))[USER]
    assert found.master == keys.public("master")
    assert found.signed_devices == {"PHONE": "ed-PHONE"}


def test_a_self_signing_key_not_signed_by_the_master_vouches_for_nothing() -> None:
    keys, other = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    raw = _response(keys, ["PHONE"], [])
    raw["self_signing_keys"][USER] = other.key_object(USER, "self_signing")  # other master
    assert identities_of(raw)[USER].signed_devices == {}


def test_a_device_whose_keys_were_changed_after_signing_is_not_trusted() -> None:
    keys = CrossSigningKeys.generate()
    raw = _response(keys, ["PHONE"], [])
    tampered = copy.deepcopy(raw)
    tampered["device_keys"][USER]["PHONE"]["keys"]["ed25519:PHONE"] = "ed-EVIL"
    assert identities_of(tampered)[USER].signed_devices == {}


def test_a_user_without_cross_signing_has_no_trusted_device() -> None:
    raw = {"device_keys": {USER: {"PHONE": _device("PHONE")}}}
    found = identities_of(raw)[USER]
    assert found.master is None and found.signed_devices == {}


async def test_pins_are_first_sight_audited_and_a_change_waits(h: Harness) -> None:
    async def first(tx: Any) -> identities.Pin:
        return await identities.pin(tx, OFFICER, "MASTER1", rooms=[ROOM], by="@bot:x",
                                    at="2026-11-24T12:00:00Z")

    pin = await h.db.write(first)
    again = await h.db.write(first)
    assert pin.master_key == again.master_key == "MASTER1"

    async def change(tx: Any) -> identities.Pin:
        return await identities.mark_changed(tx, OFFICER, "MASTER2", rooms=[ROOM], by="@bot:x",
                                             at="2026-11-24T13:00:00Z")

    changed = await h.db.write(change)
    assert changed.state == identities.CHANGED and changed.master_key == "MASTER1"
    entries = await h.rows("SELECT command FROM audit_log WHERE tbl='identities' ORDER BY n")
    assert [e["command"] for e in entries] == [
        f"(identity of {OFFICER} pinned on first sight)", f"(identity of {OFFICER} changed)"]
    assert (await h.db.read(lambda tx: verify_room(tx, ROOM))).ok

    listing = await h.ok("!trust")  # the harness knows no members: nobody to list
    assert "every member" in listing.text
    h.dispatcher.room_members = lambda room_id: [LEAD, OFFICER]
    refused = await h.fails(f"!trust {OFFICER}", sender=OFFICER)
    assert "only a lead" in refused.text
    confirmed = await h.ok(f"!trust {OFFICER}")
    assert confirmed.trust_changed == (OFFICER,)
    pins = await h.db.read(identities.pins)
    assert pins[OFFICER].master_key == "MASTER2" and pins[OFFICER].state == identities.PINNED
    nothing = await h.fails(f"!trust {OFFICER}")
    assert "no changed identity" in nothing.text
    undone = await h.ok("!undo")
    assert undone.trust_changed == (OFFICER,)
    assert f"identity {OFFICER} restored" in undone.text
    assert (await h.db.read(identities.pins))[OFFICER].state == identities.CHANGED


async def test_trust_lists_the_rooms_waiting_members(h: Harness) -> None:
    h.dispatcher.room_members = lambda room_id: [LEAD, OFFICER]

    async def setup(tx: Any) -> None:
        await identities.pin(tx, OFFICER, "M1", rooms=[ROOM], by="@bot:x", at="t")
        await identities.mark_changed(tx, OFFICER, "M2NEWKEYABCDEF", rooms=[ROOM], by="@bot:x",
                                      at="t")
        await identities.record_devices(tx, LEAD, {"PHONE": True, "LAPTOP": False}, "t")
        await identities.record_devices(tx, "@stranger:x", {"X": False}, "t")

    await h.db.write(setup)
    listing = await h.ok("!trust", sender=OFFICER)
    assert OFFICER in listing.text and "M2NEWKEYABCD" in listing.text
    assert LEAD in listing.text and "LAPTOP" in listing.text and "PHONE" not in listing.text
    assert "@stranger:x" not in listing.text


HIS_ROOM = "!his:localhost"  # a room the changed account joined after the change
ELSEWHERE = "!elsewhere:localhost"  # another operation the officer was in all along
JOINED_LATER = "!later:localhost"  # a third, joined after the change too


def _rooms_of_officer(h: Harness) -> None:
    members = {ROOM: [LEAD, OFFICER], ELSEWHERE: ["@lead2:localhost", OFFICER],
               HIS_ROOM: [OTHER, OFFICER], JOINED_LATER: ["@lead3:localhost", OFFICER],
               "!lead-only:localhost": [OTHER]}
    h.dispatcher.room_members = lambda room_id: members.get(room_id, [])
    h.dispatcher.shared_rooms = lambda user: sorted(r for r, m in members.items() if user in m)


async def _changed_while_in(h: Harness, rooms: list[str]) -> None:
    async def setup(tx: Any) -> None:
        await identities.pin(tx, OFFICER, "M1", rooms=rooms, by="@bot:x", at="t")
        await identities.mark_changed(tx, OFFICER, "M2NEWKEYABCDEF", rooms=rooms, by="@bot:x",
                                      at="t")

    await h.db.write(setup)


async def _nothing_confirmed(h: Harness) -> None:
    assert (await h.db.read(identities.pins))[OFFICER].state == identities.CHANGED
    assert await h.rows("SELECT * FROM outbox") == []


async def test_a_room_the_member_is_not_in_cannot_confirm_them(h: Harness) -> None:
    _rooms_of_officer(h)
    await _changed_while_in(h, [ROOM, ELSEWHERE])
    refused = await h.fails(f"!trust {OFFICER}", sender=OTHER, power=100,
                            room="!lead-only:localhost")
    assert "not a member of this room" in refused.text
    await _nothing_confirmed(h)


async def test_a_room_joined_after_the_change_cannot_confirm_it(h: Harness) -> None:
    """The attack: the account's new holder joins a room they lead and vouches for it."""
    _rooms_of_officer(h)
    await _changed_while_in(h, [ROOM, ELSEWHERE])
    refused = await h.fails(f"!trust {OFFICER}", sender=OTHER, power=100, room=HIS_ROOM)
    assert "was not a member of this room when their identity changed" in refused.text
    await _nothing_confirmed(h)
    assert [e["room_id"] for e in await h.rows(
        "SELECT room_id FROM audit_log WHERE room_id=?", (HIS_ROOM,))] == []


async def test_a_confirmation_is_told_and_audited_in_every_shared_room(h: Harness) -> None:
    _rooms_of_officer(h)
    await _changed_while_in(h, [ROOM, ELSEWHERE])
    confirmed = await h.ok(f"!trust {OFFICER}")
    others = [ELSEWHERE, HIS_ROOM, JOINED_LATER]  # told, or sharing the officer now
    posts = await h.rows("SELECT id, room_id, content FROM outbox ORDER BY room_id")
    assert sorted(p["room_id"] for p in posts) == sorted(others)
    assert sorted(confirmed.posts) == sorted(p["id"] for p in posts)
    assert all(f"confirmed by {LEAD} in operation FIREBREAK" in p["content"] for p in posts)
    for room_id in others:
        entries = await h.rows("SELECT sender, command FROM audit_log WHERE room_id=?",
                               (room_id,))
        assert [e["command"] for e in entries][-1] == (
            f"(identity of {OFFICER} confirmed by {LEAD} in operation FIREBREAK)")
        assert (await h.db.read(lambda tx, r=room_id: verify_room(tx, r))).ok
    undone = await h.ok("!undo")
    assert (await h.db.read(identities.pins))[OFFICER].state == identities.CHANGED
    told_again = [p for p in await h.rows("SELECT id, room_id, content FROM outbox")
                  if p["id"] in undone.posts]
    assert sorted(p["room_id"] for p in told_again) == sorted(others)
    assert all("undid the confirmation" in p["content"] for p in told_again)
    # Undone, the change is pending again and the rooms told of it still decide.
    refused = await h.fails(f"!trust {OFFICER}", sender=OTHER, power=100, room=HIS_ROOM)
    assert "was not a member of this room" in refused.text
    await h.ok(f"!trust {OFFICER}", sender="@lead2:localhost", power=100, room=ELSEWHERE)
    assert (await h.db.read(identities.pins))[OFFICER].state == identities.PINNED


class MarkedFrench(gettext.NullTranslations):
    """A stand-in French catalogue marking every string it gives (see test_deconfliction)."""

    def gettext(self, message: str) -> str:
        return "[fr] " + message


async def test_each_room_is_told_in_its_own_language(h: Harness,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = i18n.catalogue
    monkeypatch.setattr(i18n, "catalogue",
                        lambda lang: MarkedFrench() if lang == "fr" else real(lang))
    await h.ok('!op init "Operation Elsewhere" code=ELSEWHERE', sender="@lead2:localhost",
               power=100, room=ELSEWHERE)
    await h.ok("!op lang fr", sender="@lead2:localhost", power=100, room=ELSEWHERE)
    _rooms_of_officer(h)
    await _changed_while_in(h, [ROOM, ELSEWHERE])
    confirmed = await h.ok(f"!trust {OFFICER}")
    assert confirmed.lang == "en" and "[fr]" not in confirmed.text
    posts = {p["room_id"]: json.loads(p["content"])["body"]
             for p in await h.rows("SELECT room_id, content FROM outbox")}
    assert posts[ELSEWHERE].startswith(f"🔐 [fr] {OFFICER}'s new identity")
    assert f"confirmed by {LEAD} in [fr] operation FIREBREAK:" in posts[ELSEWHERE]
    assert all("[fr]" not in body for room, body in posts.items() if room != ELSEWHERE)
