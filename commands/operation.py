"""/op: bind a room to an operation, show it, move it through its phases."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from commands.core import argtypes, i18n, validate
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg
from commands.core.reply import Bold, Code, Part, ReplyBuilder, appended, fill, ok
from commands.core.spec import Choice, Fn, NoArgs, Role, command, key, pos
from commands.core.types import CommandError, Reply
from commands.language import now_reading
from commands.sitrep import produce
from commands.takedown import wall_clock
from storage import operations, retention
from storage.codec import from_db_time, to_db_time
from storage.consultations import CONSULT
from storage.tx import Row

PHASES = ("planning", "action", "follow-up", "closed")


def _op_name(raw: str) -> str:
    return validate.text(raw, field=tr("operation name"), max_len=120)


@dataclass(frozen=True)
class OpInitArgs:
    name: str
    code: str
    tz: str | None
    tlp: str | None
    lang: str | None


@command(
    "op", "init",
    params=[
        pos("name", Fn(_op_name, '"Operation NAME"')),
        key("code", argtypes.AGENCY, required=True,
            help=N_("short operation code, e.g. FIREBREAK")),
        key("tz", argtypes.ZONE, help=N_("the operation's time zone (IANA), default from config")),
        key("tlp", argtypes.TLP, help=N_("default TLP 2.0 label of its records")),
        key("lang", argtypes.LANGUAGE, help=N_("the room's language, default from config")),
    ],
    role=Role.LEAD,
    summary=N_("bind this room to a new operation"),
    needs_op=False,
    examples=['/op init "Operation Firebreak" code=FIREBREAK tz=Europe/Paris tlp=AMBER'],
)
async def op_init(ctx: Context, args: OpInitArgs) -> Reply:
    if ctx.op is not None:
        raise CommandError(
            tr("this room is already operation {name} ({code}); one room = one operation")
            .format(name=ctx.op["name"], code=ctx.op["code"]), show_usage=False)
    name = args.name
    if not name.lower().startswith("operation "):
        name = f"Operation {name}"
    row = await ctx.tx.insert("operations", {
        "room_id": ctx.msg.room_id,
        "name": name,
        "code": args.code,
        "tz": args.tz or ctx.settings.default_timezone,
        "tlp": args.tlp or ctx.settings.default_tlp,
        "phase": "planning",
        **({"lang": args.lang} if args.lang else {}),  # none chosen: the default, unwritten
        "created_by": ctx.sender,
        "created_at": ctx.stamp,
        "updated_at": ctx.stamp,
    })
    with i18n.speaking(await now_reading(ctx)):
        return ok(*fill(tr("{name} ({code}) opened in this room · phase {phase} · zone {zone} "
                           "· TLP:{tlp}. Next: /agency add, /member, /hhour."),
                        name=Bold(row["name"]), code=row["code"], phase=row["phase"],
                        zone=row["tz"], tlp=row["tlp"]))


@command("op", shows=CONSULT, summary=N_("show this room's operation"))
async def op_show(ctx: Context, args: NoArgs) -> Reply:
    op = ctx.require_op()
    counts = await operations.record_counts(ctx.tx, op["id"])
    reply = ReplyBuilder()
    reply.line(*fill(tr("{name} ({code}) · phase {phase} · TLP:{tlp}"), name=Bold(op["name"]),
                     code=op["code"], phase=op["phase"], tlp=op["tlp"]))
    hhour_at = from_db_time(op["hhour"])
    if hhour_at is None:
        reply.line(tr("Zone {zone} · H-hour {at}").format(zone=op["tz"], at=dtg(None)))
    else:
        reply.line(tr("Zone {zone} · H-hour {at} ({local})").format(
            zone=op["tz"], at=dtg(op["hhour"]),
            local=wall_clock(hhour_at, op["tz"])))
    if op["lang"]:
        reply.line(tr("Language: {language}").format(language=i18n.named(op["lang"])))
    else:
        reply.line(tr("Language: {language}, the bot's default").format(
            language=i18n.named(ctx.settings.language)))
    reply.line(" · ".join(form.format(n=counts[kind]) for kind, form in [
        ("agencies", trn("{n} agency", "{n} agencies", counts["agencies"])),
        ("tasks", trn("{n} task", "{n} tasks", counts["tasks"])),
        ("arrests", trn("{n} arrest", "{n} arrests", counts["arrests"])),
        ("seizures", trn("{n} seized item", "{n} seized items", counts["seizures"])),
        ("takedowns", trn("{n} takedown", "{n} takedowns", counts["takedowns"])),
        ("preservations", trn("{n} preservation/MLA request", "{n} preservation/MLA requests",
                              counts["preservations"]))]))
    return reply.build()


@dataclass(frozen=True)
class OpPhaseArgs:
    phase: str


@command(
    "op", "phase",
    params=[pos("phase", Choice(PHASES))],
    role=Role.LEAD,
    summary=N_("change the operation's phase"),
)
async def op_phase(ctx: Context, args: OpPhaseArgs) -> Reply:
    op = ctx.require_op()
    if op["phase"] == args.phase:
        raise CommandError(tr("the operation is already in phase {phase}").format(
            phase=op["phase"]), show_usage=False)
    if op["phase"] == "closed":
        raise CommandError(tr("the operation is closed; its record is final"),
                           show_usage=False)
    changes = {"phase": args.phase, "updated_at": ctx.stamp}
    if args.phase == "closed":
        changes["closed_at"] = ctx.stamp  # the retention periods run from here
    _, after = await ctx.tx.update("operations", op["id"], changes)
    ctx.op = after
    reply = ReplyBuilder().line(*fill(tr("{code}: phase {before} → {after}"), code=op["code"],
                                      before=op["phase"], after=Bold(after["phase"])))
    if after["phase"] != "closed":
        return reply.build()
    reply.line(*fill(tr("The operation is closed: {export} to hand over its summary."),
                     export=Code("/export")))
    reply.line(*await first_review(ctx, after))
    reply.line("")  # a blank line before the final report
    final = await produce(ctx.tx, after, ctx.now, final=True)
    assert final is not None
    return dataclasses.replace(appended(reply.build(), final),
                               extra_content=final.extra_content)


async def first_review(ctx: Context, op: Row) -> tuple[Part, ...]:
    """The retention clocks start at closure: say when the first review falls, and which
    categories it concerns, so nobody learns of it only from the warning."""
    in_force = await retention.periods(ctx.tx, op["id"], ctx.settings.retention_periods)
    dues = {c: retention.due_date(op, p) for c, p in in_force.items()}
    first = min(d for d in dues.values() if d is not None)
    return fill(tr("First retention review {when} ({categories}); {command} shows them all."),
                when=dtg(to_db_time(first)),
                categories=", ".join(c for c, d in dues.items() if d == first),
                command=Code("/retention"))


@dataclass(frozen=True)
class OpLangArgs:
    lang: str


@command(
    "op", "lang",
    params=[pos("lang", argtypes.LANGUAGE)],
    role=Role.LEAD,
    summary=N_("set the language the whole room reads (sitreps, reminders, board, notices)"),
    examples=["/op lang fr"],
)
async def op_lang(ctx: Context, args: OpLangArgs) -> Reply:
    op = ctx.require_op()
    if op["lang"] == args.lang:
        raise CommandError(tr("the room's language is already {language}").format(
            language=i18n.named(args.lang)), show_usage=False)
    _, after = await ctx.tx.update("operations", op["id"],
                                   {"lang": args.lang, "updated_at": ctx.stamp})
    ctx.op = after
    with i18n.speaking(await now_reading(ctx)):
        return ok(tr("{code}: the room reads {language} from now on; each member's replies "
                     "stay in their own language (/lang).").format(
                         code=op["code"], language=i18n.named(args.lang)))
