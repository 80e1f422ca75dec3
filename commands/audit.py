"""/audit verify: check this room's hash-chained audit log, and hold it against the heads
the bot posted in the room (commands/witness.py), from inside the room.

Reading the room's history is slow (pages of /messages), so, like /export, the check runs
after the command's transaction: the witnessed heads are fetched first, with no
transaction open, then the chain is read from a read-only snapshot. A head in the room
was posted after its entry committed, so the snapshot taken afterwards always holds it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from commands import witness
from commands.core.context import Context
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import ReplyBuilder
from commands.core.spec import NoArgs, command
from commands.core.types import Reply, RoomHeads, WitnessSource, WitnessUnavailable
from storage import audit
from storage.database import Database


@command("audit", "verify", summary="check the operation's tamper-evident log", needs_op=False)
async def audit_verify(ctx: Context, args: NoArgs) -> Reply:
    assert ctx.db is not None
    placeholder = ReplyBuilder().line("Checking the audit log against the room").build()
    placeholder.redo = {"audit": "verify"}
    placeholder.after_commit = verifier(ctx.db, ctx.msg.room_id, ctx.witness)
    return placeholder


def verifier(db: Database, room_id: str, source: WitnessSource | None
             ) -> Callable[[], Awaitable[Reply]]:
    """The slow part of /audit verify, run after the command committed — or again, from
    the stored `redo`, when the bot restarted before the reply was sent."""

    async def check() -> Reply:
        heads, unavailable = await read_witnesses(source, room_id)
        async with db.snapshot() as tx:
            result = await audit.verify_room(tx, room_id)
            head = await audit.head(tx, room_id)
        return render(result, head, heads, unavailable)

    return check


@remakes("audit")
def _verify_again(services: Services, stored: dict[str, str]) -> SlowPart:
    return verifier(services.db, services.room_id, services.witness)


async def read_witnesses(source: WitnessSource | None, room_id: str
                         ) -> tuple[RoomHeads | None, str | None]:
    """The room's witnessed heads, or why they could not be read."""
    if source is None:
        return None, "no access to the room's history"
    try:
        return await source.heads(room_id), None
    except WitnessUnavailable as exc:
        return None, str(exc)


def findings(result: audit.VerifyResult, heads: RoomHeads | None
             ) -> tuple[witness.WitnessCheck | None, list[str]]:
    """The chain's own breaks, then what the room's heads contradict (None: not read)."""
    if heads is None:
        return None, list(result.problems)
    check = witness.compare(result.hashes, heads.heads, complete=heads.complete)
    return check, result.problems + [witness.describe(p) for p in check.problems]


def render(result: audit.VerifyResult, head: audit.Head | None,
           heads: RoomHeads | None, unavailable: str | None) -> Reply:
    check, problems = findings(result, heads)
    report = ReplyBuilder()
    if problems:
        report.heading(f"❌ audit log FAILED verification ({result.entries} entries)")
        report.bullets([[p] for p in problems])
        report.line("Tell the operation lead and the bot administrator; keep the database "
                    "file as is.")
        # A head that failed is stated, not posted as a witness: once the database is
        # restored it would stand in the room as a false witness.
        witness.head_line(report, head, label="Database head",
                          note=" (not posted as a witness: verification failed)")
        return report.build(ok=False)
    report.line(f"✅ audit log intact: {result.entries} entries")
    if check is not None:
        report.line(witness.summary(check))
    else:
        report.line(f"⚠️ Not compared with the room's history ({unavailable}): local chain only")
    witness.head_line(report, head)
    reply = report.build()
    reply.extra_content = witness.head_content(head)
    return reply
