"""Read queries shared by commands, sitreps and exports (plain data, no chat text)."""

from __future__ import annotations

from typing import Any

from storage.tx import Tx


async def rollcall_state(tx: Tx, op_id: int) -> dict[str, Any]:
    """The latest roll call: `{"open", "seq", "agencies": [{"code", "ready", "reason"}]}`;
    `ready` is None for an agency that has not answered."""
    call = await tx.one("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq DESC LIMIT 1",
                        (op_id,))
    agencies = await tx.all("SELECT code FROM agencies WHERE op_id=? ORDER BY code", (op_id,))
    answers: dict[str, dict] = {}
    if call is not None:
        for row in await tx.all("SELECT * FROM rollcall_answers WHERE rollcall_id=?",
                                (call["id"],)):
            answers[row["agency"]] = row
    return {
        "open": bool(call and call["status"] == "open"),
        "seq": call["seq"] if call else None,
        "agencies": [
            {"code": a["code"],
             "ready": (bool(answers[a["code"]]["ready"]) if a["code"] in answers else None),
             "reason": answers.get(a["code"], {}).get("reason")}
            for a in agencies
        ],
    }
