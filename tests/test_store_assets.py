"""An asset total counts one action in one currency of one operation, exactly."""

from __future__ import annotations

from decimal import Decimal

from storage import assets
from tests.harness import Harness
from tests.store_helpers import OTHER_ROOM, op_id, other_operation


async def test_total_narrows_by_action_and_currency(h: Harness) -> None:
    for line in ("!asset seized 0.1 BTC", "!asset seized 0.2 BTC", "!asset frozen 5 BTC",
                 "!asset seized 7 EUR"):
        await h.ok(line)
    await other_operation(h)
    await h.ok("!asset seized 100 BTC", room=OTHER_ROOM)
    operation = await op_id(h)

    async def total(action: str, currency: str) -> Decimal:
        return await h.db.read(lambda tx: assets.total(tx, operation, action, currency))

    assert await total("seized", "BTC") == Decimal("0.3")
    assert await total("frozen", "BTC") == Decimal("5")
    assert await total("seized", "EUR") == Decimal("7")
    assert await total("frozen", "EUR") == Decimal("0")
