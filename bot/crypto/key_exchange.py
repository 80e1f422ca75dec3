"""The key bookkeeping a hand-written nio sync loop owes after every sync.

nio's `sync_forever` does this itself; the bot and the test clients run their own sync
loops, and a loop that skips any step is deaf or mute in encrypted rooms: keys not
uploaded, devices not known (so no room key is shared with them), one-time keys not
claimed (so no Olm session to share it over), or to-device messages (room keys, key
requests) left unsent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from nio import AsyncClient

KeyQuery = Callable[[Collection[str]], Awaitable[Any]]


async def exchange_keys(client: AsyncClient, query: KeyQuery | None = None) -> None:
    """Upload our keys if nio asks to, learn the devices of the users whose lists changed,
    claim one-time keys for devices we have no session with, and flush to-device messages.
    `query` replaces nio's own keys_query (the bot judges each device's cross-signing as
    it learns of it: bot.crypto.device_trust)."""
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        if query is None:
            await client.keys_query()
        else:
            await query(client.users_for_key_query)
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()
