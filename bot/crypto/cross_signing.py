"""Cross-sign the bot's own device, which matrix-nio cannot do.

Element and matrix-js-sdk in their strict mode (`OnlySignedDevicesIsolationMode`) neither
share room keys with nor accept messages from a device its owner has not cross-signed:
without this the bot is deaf and mute in real rooms. On first start we create master,
self-signing and user-signing Ed25519 keys (with `cryptography`, a maintained library;
nio exposes no stand-alone Ed25519), upload them with user-interactive password auth, and
sign the device key with the self-signing key. The private keys stay in
`keys_dir/cross_signing.json` (0600); later starts only check the server still has them,
so the password is needed only once. If the server holds another master key (an
administrator or an attacker reset the account), the bot stops with a message rather than
overwrite it: members' clients would otherwise be told the bot's identity changed with
nobody having decided it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

log = logging.getLogger(__name__)
USAGES = ("master", "self_signing", "user_signing")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def canonical_json(obj: Any) -> bytes:
    """Matrix canonical JSON: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signable(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}


def public_b64(key: Ed25519PrivateKey) -> str:
    return b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(key: Ed25519PrivateKey, obj: dict[str, Any]) -> str:
    return b64(key.sign(canonical_json(signable(obj))))


def signed_by(obj: dict[str, Any], user_id: str, public_key: str) -> bool:
    """Whether `obj` carries a valid signature of `user_id` by the Ed25519 key `public_key`
    (unpadded base64), as Matrix signs JSON: over its canonical form without `signatures`
    and `unsigned`."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(f"ed25519:{public_key}")
    if not isinstance(signature, str):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_key)).verify(
            unb64(signature), canonical_json(signable(obj)))
    except (InvalidSignature, ValueError):
        return False
    return True


def add_signature(obj: dict[str, Any], user_id: str, key_id: str, signature: str) -> None:
    obj.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = signature


class CrossSigningMismatch(RuntimeError):
    """The server's identity for the bot is not ours: stop rather than overwrite it."""


class CrossSigningKeys:
    def __init__(self, keys: dict[str, Ed25519PrivateKey]) -> None:
        self.keys = keys

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls({u: Ed25519PrivateKey.generate() for u in USAGES})

    @classmethod
    def load(cls, path: Path) -> CrossSigningKeys | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls({u: Ed25519PrivateKey.from_private_bytes(unb64(data[u])) for u in USAGES})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        data = {
            u: b64(k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
            for u, k in self.keys.items()
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)

    def public(self, usage: str) -> str:
        return public_b64(self.keys[usage])

    def key_object(self, user_id: str, usage: str) -> dict[str, Any]:
        pub = self.public(usage)
        obj: dict[str, Any] = {"user_id": user_id, "usage": [usage],
                               "keys": {f"ed25519:{pub}": pub}}
        if usage != "master":
            add_signature(obj, user_id, f"ed25519:{self.public('master')}",
                          sign(self.keys["master"], obj))
        return obj


class _Http:
    def __init__(self, homeserver: str, token: str) -> None:
        self.base = homeserver.rstrip("/") + "/_matrix/client/v3"
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, http: aiohttp.ClientSession, path: str, body: dict
                   ) -> tuple[int, dict]:
        async with http.post(self.base + path, json=body, headers=self.headers) as resp:
            return resp.status, await resp.json(content_type=None)


async def ensure_cross_signed(client: Any, password: str | None, keys_dir: Path) -> bool:
    """Make sure the server holds our cross-signing keys and our device is signed by the
    self-signing key. `client` is a logged-in nio AsyncClient with its olm account loaded."""
    user_id, device_id = client.user_id, client.device_id
    path = Path(keys_dir) / "cross_signing.json"
    keys = CrossSigningKeys.load(path)
    api = _Http(client.homeserver, client.access_token)
    async with aiohttp.ClientSession() as http:
        status, found = await api.post(http, "/keys/query", {"device_keys": {user_id: []}})
        if status != 200:
            raise RuntimeError(f"keys/query failed: {status} {found}")
        server_master = found.get("master_keys", {}).get(user_id)
        device = found.get("device_keys", {}).get(user_id, {}).get(device_id)
        if device is None:
            raise RuntimeError("the bot's device keys are not on the server yet; "
                               "upload them (keys_upload) first")
        server_master_pub = (next(iter(server_master["keys"].values()))
                             if server_master else None)
        if keys is not None and server_master_pub not in (None, keys.public("master")):
            raise CrossSigningMismatch(
                f"the homeserver holds a cross-signing master key for {user_id} "
                f"({server_master_pub[:12]}…) that is not the bot's own ({path}): someone "
                "may have reset the account's identity. opsroom will not replace it "
                "silently. If the reset was intended, move the old keys file away and "
                "start again with matrix.password set; members' clients will be told "
                "that the bot's identity changed.")
        if keys is None or server_master_pub != keys.public("master"):
            if server_master_pub is not None:
                log.warning("the server holds a master key for %s but %s has none; setting "
                            "up new cross-signing keys", user_id, path)
            if keys is None:
                keys = CrossSigningKeys.generate()
                keys.save(path)
            await _upload_keys(http, api, client, keys, password)
        ssk_id = f"ed25519:{keys.public('self_signing')}"
        if ssk_id in device.get("signatures", {}).get(user_id, {}):
            return True
        signed = signable(device)
        add_signature(signed, user_id, ssk_id, sign(keys.keys["self_signing"], device))
        status, result = await api.post(http, "/keys/signatures/upload",
                                        {user_id: {device_id: signed}})
        if status != 200 or result.get("failures"):
            raise RuntimeError(f"signing our device failed: {status} {result}")
        log.info("cross-signed device %s of %s", device_id, user_id)
        return True


async def _upload_keys(http: aiohttp.ClientSession, api: _Http, client: Any,
                       keys: CrossSigningKeys, password: str | None) -> None:
    user_id = client.user_id
    master = keys.key_object(user_id, "master")
    # The device vouches for the master key, so other devices of ours would trust it.
    add_signature(master, user_id, f"ed25519:{client.device_id}",
                  client.olm.sign_json(signable(master)))
    body: dict[str, Any] = {
        "master_key": master,
        "self_signing_key": keys.key_object(user_id, "self_signing"),
        "user_signing_key": keys.key_object(user_id, "user_signing"),
    }
    status, result = await api.post(http, "/keys/device_signing/upload", body)
    if status == 401:
        if not password:
            raise RuntimeError("uploading cross-signing keys needs matrix.password "
                               "(user-interactive auth)")
        body["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "session": result.get("session"),
        }
        status, result = await api.post(http, "/keys/device_signing/upload", body)
    if status != 200:
        raise RuntimeError(f"uploading cross-signing keys failed: {status} {result}")
