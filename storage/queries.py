"""Read queries shared by commands, sitreps and exports (plain data, no chat text)."""

from __future__ import annotations

from typing import Any

from storage.tx import Tx


async def rollcall_state(tx: Tx, op_id: int) -> dict[str, Any]:
    """Go/no-go state of the operation's latest roll call, for /rollcall and the sitrep.

    Stable shape (callers outside commands/ rely on it; keys may be added, never removed):
    `{"open": bool, "seq": int | None, "agencies": [{"code", "ready", "reason", "by", "at"}]}`.
    `seq` is the latest roll call's number (R-seq), None if there never was one; `open` says
    whether it is still running (a closed one keeps its final answers). `agencies` lists every
    agency registered now, by code; `ready` is True (GO), False (NO-GO, with `reason`) or None
    (no answer yet); `by` and `at` are who answered for the agency and when (ISO UTC), or None.
    """
    call = await tx.one("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq DESC LIMIT 1",
                        (op_id,))
    agencies = await tx.all("SELECT code FROM agencies WHERE op_id=? ORDER BY code", (op_id,))
    answers: dict[str, dict[str, Any]] = {}
    if call is not None:
        for row in await tx.all("SELECT * FROM rollcall_answers WHERE rollcall_id=?",
                                (call["id"],)):
            answers[row["agency"]] = row
    result = []
    for agency in agencies:
        answer = answers.get(agency["code"])
        result.append({
            "code": agency["code"],
            "ready": bool(answer["ready"]) if answer else None,
            "reason": answer["reason"] if answer else None,
            "by": answer["user_id"] if answer else None,
            "at": answer["at"] if answer else None,
        })
    return {
        "open": bool(call and call["status"] == "open"),
        "seq": call["seq"] if call else None,
        "agencies": result,
    }
