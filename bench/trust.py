"""What judging a 300-member room's devices costs the bot (issue 9): one `/keys/query` for
every member, nio's device store updated from it, each member's master → self-signing →
device signatures checked, pins written. Members are made with raw client-server calls
(an Ed25519 device key and cross-signing keys each), not full clients, so setting up 300 of
them stays quick.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.crypto.cross_signing import (
    CrossSigningKeys,
    add_signature,
    b64,
    public_b64,
    sign,
    signable,
)
from bot.crypto.device_trust import identities_of
from bot.dev_homeserver import LocalSynapse
from bot.runtime import Bot
from tests.integration.matrix_helpers import register_bot

MEMBERS = 300


async def _member(http: aiohttp.ClientSession, hs: LocalSynapse, n: int) -> str:
    """A user with one device, cross-signed by its owner."""
    localpart, password = f"member{n}", f"pw-member{n}"
    user_id = await hs.register_user(localpart, password)
    api = hs.base_url + "/_matrix/client/v3"
    login = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
             "password": password}
    async with http.post(f"{api}/login", json=login) as resp:
        session = await resp.json()
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    device_id = session["device_id"]
    device_key = Ed25519PrivateKey.generate()
    ed25519 = public_b64(device_key)
    device: dict[str, Any] = {
        "user_id": user_id, "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{device_id}": ed25519,
                 f"curve25519:{device_id}": b64(bytes(32 - len(str(n))) + str(n).encode())}}
    add_signature(device, user_id, f"ed25519:{device_id}", sign(device_key, device))
    async with http.post(f"{api}/keys/upload", json={"device_keys": device},
                         headers=headers) as resp:
        assert resp.status == 200, await resp.text()
    keys = CrossSigningKeys.generate()
    body = {"master_key": keys.key_object(user_id, "master"),
            "self_signing_key": keys.key_object(user_id, "self_signing"),
            "user_signing_key": keys.key_object(user_id, "user_signing"),
            "auth": {**login, "identifier": {"type": "m.id.user", "user": user_id}}}
    async with http.post(f"{api}/keys/device_signing/upload", json=body,
                         headers=headers) as resp:
        if resp.status == 401:
            body["auth"]["session"] = (await resp.json()).get("session")
            async with http.post(f"{api}/keys/device_signing/upload", json=body,
                                 headers=headers) as again:
                assert again.status == 200, await again.text()
    signed = signable(device)
    add_signature(signed, user_id, f"ed25519:{keys.public('self_signing')}",
                  sign(keys.keys["self_signing"], device))
    async with http.post(f"{api}/keys/signatures/upload", json={user_id: {device_id: signed}},
                         headers=headers) as resp:
        assert resp.status == 200, await resp.text()
    return user_id


async def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with LocalSynapse(tmp / "synapse") as hs:
            async with aiohttp.ClientSession() as http:
                members = []
                for start in range(0, MEMBERS, 20):
                    members += await asyncio.gather(*(_member(http, hs, n) for n in
                                                      range(start, min(start + 20, MEMBERS))))
            bot = Bot(await register_bot(hs, "bench-trust", tmp / "bot"))
            await bot.start()
            try:
                timings = []
                for _ in range(3):
                    began = time.perf_counter()
                    await bot.trust.refresh(members)
                    timings.append(time.perf_counter() - began)
                trusted = sum(bot.client.olm.is_device_verified(d) for u in members
                              for d in bot.client.device_store.active_user_devices(u))
                # The bot's own share: parsing and checking signatures of the same response.
                from nio.api import Api
                method, path, data = Api.keys_query(bot.client.access_token, set(members))
                raw = await (await bot.client.send(method, path, data)).json()
                began = time.perf_counter()
                identities_of(raw)
                checking = time.perf_counter() - began
            finally:
                await bot.client.close()
                await bot.db.close()
    return {
        "members": MEMBERS,
        "devices judged trusted": trusted,
        "first judgement (pins written), s": round(timings[0], 3),
        "again, nothing changed, s": round(min(timings[1:]), 3),
        "signature checks alone, ms": round(checking * 1000, 1),
    }
