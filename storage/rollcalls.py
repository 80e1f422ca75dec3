"""Go/no-go roll calls (R-n) and each agency's answer in them."""

from __future__ import annotations

from typing import TypedDict

from storage import agencies
from storage.tx import Row, Tx


class AgencyAnswer(TypedDict):
    code: str
    ready: bool | None  # True GO, False NO-GO (with `reason`), None no answer yet
    reason: str | None
    by: str | None  # who answered for the agency
    at: str | None  # when (ISO UTC)


class RollcallState(TypedDict):
    open: bool
    seq: int | None
    agencies: list[AgencyAnswer]


async def rollcall_state(tx: Tx, op_id: int) -> RollcallState:
    """Go/no-go state of the operation's latest roll call, for /rollcall and the sitrep.

    A stable shape: callers outside commands/ rely on it, so keys may be added, never
    removed. `seq` is the latest roll call's number (R-seq), None if there never was one;
    `open` says whether it is still running (a closed one keeps its final answers).
    `agencies` lists every agency registered now, by code, answered or not.
    """
    call = await latest(tx, op_id)
    answers = {row["agency"]: row for row in await answers_to(tx, call["id"])} if call else {}
    listed: list[AgencyAnswer] = []
    for code in await agencies.codes(tx, op_id):
        answer = answers.get(code)
        listed.append({
            "code": code,
            "ready": bool(answer["ready"]) if answer else None,
            "reason": answer["reason"] if answer else None,
            "by": answer["user_id"] if answer else None,
            "at": answer["at"] if answer else None,
        })
    return {
        "open": bool(call and call["status"] == "open"),
        "seq": call["seq"] if call else None,
        "agencies": listed,
    }


async def latest(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM rollcalls WHERE op_id=? ORDER BY seq DESC LIMIT 1",
                        (op_id,))


async def open_call(tx: Tx, op_id: int) -> Row | None:
    return await tx.one("SELECT * FROM rollcalls WHERE op_id=? AND status='open' "
                        "ORDER BY seq DESC LIMIT 1", (op_id,))


async def answers_to(tx: Tx, rollcall_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM rollcall_answers WHERE rollcall_id=?", (rollcall_id,))


async def answer_of(tx: Tx, rollcall_id: int, agency: str) -> Row | None:
    return await tx.one("SELECT * FROM rollcall_answers WHERE rollcall_id=? AND agency=?",
                        (rollcall_id, agency))
