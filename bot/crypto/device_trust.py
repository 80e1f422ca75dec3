"""Which devices the bot talks to: only those their owner has cross-signed (MSC4153).

Element (and matrix-js-sdk in `OnlySignedDevicesIsolationMode`) neither shares room keys with
nor accepts messages from a device its owner has not cross-signed; police partners expect
the bot to be at least as strict. nio knows nothing of cross-signing — its
`KeysQueryResponse` drops the master and self-signing keys — so the bot makes the
`/keys/query` request itself, hands the response to nio (its device store stays the one
nio encrypts with) and reads the cross-signing keys from the same response.

A device is trusted iff its key is signed by its owner's self-signing key, that key by the
owner's master key, and that master key is the one pinned for the user (first sight, see
`storage.identities`). Trust is applied to nio's own flags, default-deny: trusted devices
are *verified*, every other one *blacklisted*, and the bot sends with
`ignore_unverified_devices=False`, so a device nio learns about before it was judged makes
the send fail (`OlmUnverifiedDeviceError`) instead of silently getting the room key; the
sender then asks for a judgement and tries again. nio rotates a room's outbound session
whenever one of these flags changes for a member's device, when a member leaves and when a
member's device list changes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
from nio import AsyncClient, KeysQueryResponse
from nio.api import Api
from nio.crypto import Olm, OlmDevice

from bot.crypto.cross_signing import signed_by
from commands import tr
from storage import identities
from storage.codec import to_db_time
from storage.database import Database

log = logging.getLogger(__name__)

# Refusal reasons, one answer per device and room for each.
UNVERIFIED = "unverified"
IDENTITY_CHANGED = "identity"
PLAINTEXT = "plaintext"
UNCHECKED = "unchecked"
MALFORMED = "malformed"  # an event the bot cannot read (bot.event_shape)


@dataclass(frozen=True)
class Identity:
    """A user's cross-signing keys as the server has them, signatures checked."""

    master: str | None
    # Device id → its Ed25519 key, for the devices the self-signing key has signed.
    signed_devices: dict[str, str]


def _single_key(obj: Any, user_id: str, usage: str) -> str | None:
    if not isinstance(obj, dict) or obj.get("user_id") != user_id:
        return None
    if usage not in (obj.get("usage") or []):
        return None
    keys = [k for k in (obj.get("keys") or {}).values() if isinstance(k, str)]
    return keys[0] if len(keys) == 1 else None


def identities_of(raw: dict[str, Any]) -> dict[str, Identity]:
    """Every queried user's identity from a raw `/keys/query` response. A user without a
    master key, or whose self-signing key the master did not sign, has no signed device."""
    found: dict[str, Identity] = {}
    masters = raw.get("master_keys") or {}
    self_signing = raw.get("self_signing_keys") or {}
    for user_id, devices in (raw.get("device_keys") or {}).items():
        master = _single_key(masters.get(user_id), user_id, "master")
        signed: dict[str, str] = {}
        ssk_obj = self_signing.get(user_id)
        ssk = _single_key(ssk_obj, user_id, "self_signing")
        if master and ssk and isinstance(ssk_obj, dict) and signed_by(ssk_obj, user_id, master):
            for device_id, device in (devices or {}).items():
                ed25519 = (device.get("keys") or {}).get(f"ed25519:{device_id}")
                if (device.get("user_id") == user_id and device.get("device_id") == device_id
                        and isinstance(ed25519, str) and signed_by(device, user_id, ssk)):
                    signed[device_id] = ed25519
        found[user_id] = Identity(master=master, signed_devices=signed)
    return found


@dataclass(frozen=True)
class Refusal:
    reason: str
    device_id: str
    # Makes the answer in the language in force: the runtime puts the sender's in force
    # only once it knows the refusal is answered (most are not: once per device and room).
    say: Callable[[], str]
    # Answered once per device and room; a passing failure is answered every time.
    once: bool = True


def unverified_text(device_id: str) -> str:
    return tr("⚠️ your device {device} is not verified — verify it from another session "
              "(Element: Settings → Sessions). Nothing was recorded; commands from it are "
              "ignored until then.").format(device=device_id)


def changed_text(user_id: str) -> str:
    return tr("⚠️ {user}'s identity changed; their commands are ignored until a lead "
              "confirms with /trust {user}").format(user=user_id)


def unchecked_text() -> str:
    return tr("⚠️ I could not check your device's verification with the homeserver "
              "just now, so nothing was recorded. Please send the command again in a "
              "minute.")


def plaintext_text() -> str:
    return tr("⚠️ commands sent without encryption are not accepted in this room; "
              "nothing was recorded.")


class DeviceTrust:
    """The runtime's judge of members' devices; see the module docstring."""

    def __init__(self, client: AsyncClient, db: Database, *, now: Callable[[], Any],
                 notify: Callable[[str, Callable[[], str]], Awaitable[None]],
                 rooms_of: Callable[[str], list[str]]) -> None:
        self.client = client
        self._rooms_of = rooms_of  # the rooms a user is joined to, whole (bot.members)
        self.db = db
        self.now = now
        # (room_id, what makes the text): a notice to the room, made in its language.
        self.notify = notify
        self.pins: dict[str, identities.Pin] = {}

    async def load(self) -> None:
        self.pins = await self.db.read(identities.pins)

    # -- judging ---------------------------------------------------------------------------
    async def refresh(self, users: Collection[str]) -> bool:
        """Query the users' keys once, update nio's device store, judge every device.
        False when the homeserver could not be asked (nothing changed then)."""
        users = sorted(set(users))
        if not users:
            return True
        method, path, data = Api.keys_query(self.client.access_token, set(users))
        try:
            resp = await self.client.send(method, path, data)
            raw = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # The users stay pending in nio (asked again after the next sync); until then
            # their unjudged devices get no keys and their commands wait for a judgement.
            log.warning("keys/query for %d users failed: %s", len(users), exc)
            return False
        if resp.status != 200 or not isinstance(raw, dict):
            log.warning("keys/query for %d users failed: %s %s", len(users), resp.status, raw)
            return False
        parsed = KeysQueryResponse.from_dict(raw)
        await self.client.receive_response(parsed)
        found = identities_of(raw)
        # Flags first, with no await in between, so no send can slip a key past a device
        # that is about to be refused; the database follows.
        judged = {user_id: self._apply(user_id, identity) for user_id, identity in found.items()}
        await self._record(found, judged)
        return True

    def _status(self, user_id: str, identity: Identity) -> str:
        pin = self.pins.get(user_id)
        if identity.master is None:
            return "none"
        if pin is None:
            return "new"
        if pin.master_key == identity.master:
            return "ok"
        return "changed"

    def _apply(self, user_id: str, identity: Identity) -> dict[str, bool]:
        status = self._status(user_id, identity)
        trusted: dict[str, bool] = {}
        for device in self.client.device_store.active_user_devices(user_id):
            ok = status in ("ok", "new") and identity.signed_devices.get(device.id) == \
                device.ed25519
            trusted[device.id] = ok
            self._flag(device, ok)
        return trusted

    @property
    def _olm(self) -> Olm:
        """nio's crypto state: there once the client has logged in with encryption on,
        which the bot does before it judges anyone."""
        olm = self.client.olm
        if olm is None:
            raise RuntimeError("the client's encryption is not loaded (log in first)")
        return olm

    def _flag(self, device: OlmDevice, trusted: bool) -> None:
        """Only on a change: nio's trust files append a device again on every add and
        remove one entry per removal, so a repeated add would outlive the next removal."""
        c, olm = self.client, self._olm
        if trusted:
            if not olm.is_device_verified(device):
                c.verify_device(device)
            while olm.is_device_blacklisted(device):
                c.unblacklist_device(device)
        else:
            while olm.is_device_verified(device):
                c.unverify_device(device)
            if not olm.is_device_blacklisted(device):
                c.blacklist_device(device)

    async def _record(self, found: dict[str, Identity], judged: dict[str, dict[str, bool]]
                      ) -> None:
        at = to_db_time(self.now())
        me = self.client.user_id
        announce: list[str] = []

        async def write(tx: Any) -> None:
            for user_id, identity in found.items():
                pin = self.pins.get(user_id)
                if identity.master is not None:
                    if pin is None:
                        pin = await identities.pin(tx, user_id, identity.master,
                                                   rooms=self._rooms_of(user_id), by=me, at=at)
                    elif pin.master_key == identity.master:
                        if pin.state == identities.CHANGED:
                            await identities.back_to_pinned(tx, user_id)
                            pin = identities.Pin(user_id, pin.master_key, identities.PINNED,
                                                 None)
                    elif pin.new_master_key != identity.master:
                        pin = await identities.mark_changed(
                            tx, user_id, identity.master, rooms=self._rooms_of(user_id),
                            by=me, at=at)
                        announce.append(user_id)
                    else:
                        await identities.told_unless_recorded(tx, user_id,
                                                              self._rooms_of(user_id))
                    self.pins[user_id] = pin
                await identities.record_devices(tx, user_id, judged[user_id], at)

        await self.db.write(write)
        for user_id in announce:
            log.warning("cross-signing identity of %s changed; ignoring them until /trust",
                        user_id)
            for room_id in self._rooms_of(user_id):
                await self.notify(room_id, functools.partial(changed_text, user_id))

    async def confirmed(self, users: Collection[str]) -> None:
        """After a lead's /trust: reload the pins and judge the users' devices again."""
        await self.load()
        await self.refresh(users)

    # -- commands --------------------------------------------------------------------------
    def sending_device(self, room_id: str, event: Any) -> OlmDevice | None:
        """The device that really sent a decrypted event: the one whose Curve25519 key sent
        the Megolm session and whose Ed25519 key signed it. The `device_id` an event claims
        is not authenticated, and a forwarded session proves nothing about its origin."""
        sender_key = getattr(event, "sender_key", None)
        session_id = getattr(event, "session_id", None)
        if not sender_key or not session_id or self.client.olm is None:
            return None
        session = self.client.olm.inbound_group_store.get(room_id, sender_key, session_id)
        if session is None or session.forwarding_chain:
            return None
        for device in self.client.device_store.active_user_devices(event.sender):
            if device.curve25519 == sender_key and device.ed25519 == session.ed25519:
                return device
        return None

    def _device_named(self, event: Any) -> str:
        """A name for the device in a refusal, even when it could not be authenticated."""
        sender_key = getattr(event, "sender_key", None)
        for device in self.client.device_store.active_user_devices(event.sender):
            if sender_key and device.curve25519 == sender_key:
                return str(device.id)
        return "unknown"

    def _verdict(self, room_id: str, event: Any) -> Refusal | None:
        device = self.sending_device(room_id, event)
        device_id = device.id if device else self._device_named(event)
        pin = self.pins.get(event.sender)
        if pin is not None and pin.state == identities.CHANGED:
            return Refusal(IDENTITY_CHANGED, device_id,
                           functools.partial(changed_text, event.sender))
        if device is None or not self._olm.is_device_verified(device):
            return Refusal(UNVERIFIED, device_id, functools.partial(unverified_text, device_id))
        return None

    def _unjudged(self, room_id: str, event: Any) -> bool:
        if event.sender in self.client.users_for_key_query:
            return True  # its device list changed and has not been fetched yet
        device = self.sending_device(room_id, event)
        olm = self._olm
        return device is None or not (olm.is_device_verified(device)
                                      or olm.is_device_blacklisted(device))

    async def refusal(self, room_id: str, event: Any) -> Refusal | None:
        """Why a decrypted command must not be obeyed, or None. A device the bot has not
        judged yet (a new session, keys not fetched) is judged now rather than refused."""
        if self._unjudged(room_id, event) and not await self.refresh({event.sender}):
            return Refusal(UNCHECKED, "-", unchecked_text, once=False)
        return self._verdict(room_id, event)

    async def first_answer(self, room_id: str, user_id: str, refusal: Refusal) -> bool:
        at = to_db_time(self.now())

        async def once(tx: Any) -> bool:
            return await identities.first_refusal(tx, room_id, user_id, refusal.device_id,
                                                  refusal.reason, at)

        return await self.db.write(once)

