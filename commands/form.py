"""/preserve draft and /form: standard-form requests drafted from a P-n.

A draft is a record (F-n) like any other: audited, undoable, at a TLP. It holds only what
the officer adds; the rest is read from the records each time (commands/forms/draft.py).
The bot drafts and checks; it never sends, signs or issues a request.

`/form F-n export` writes the file after the command committed, as /export does, and
records the SHA-256 of the draft's canonical JSON in the audit log inside the command's
own transaction, so the log says which draft left the room.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from commands.core import argtypes, i18n, records, validate
from commands.core.consulted import handles
from commands.core.context import Context
from commands.core.i18n import N_, tr, trn
from commands.core.records import dtg, label
from commands.core.redo import Services, SlowPart, remakes
from commands.core.reply import Bold, Code, ReplyBuilder, fill, ok
from commands.core.spec import ArgType, Choice, Fn, ParseEnv, Role, command, key, pos
from commands.core.timeparse import ParsedTime
from commands.core.types import CommandError, FormWriter, Reply, Settings
from commands.forms import deadlines as form_deadlines
from commands.forms import document, providers, rules
from commands.forms.draft import RED, assemble
from commands.forms.fields import CATEGORIES, FIELDS, FORM_NAMES, FORMS
from commands.retention import HELD_HELP, SHOW_HELD, left_out, unheld
from storage import forms, operations, preservations, request_deadlines
from storage.codec import from_db_time, to_db_time
from storage.consultations import CONSULT, DISCLOSE
from storage.records import by_seq
from storage.tx import Row, Tx

FILE_FORMATS = ("docx", "pdf", "json")
FORM_REF = argtypes.ref("F")
# The statuses in which a request's expiry still follows its form's preservation period;
# once extended, the expiry is the officer's.
FOLLOWS_FORM = ("sent", "acknowledged")
DEADLINE_NAMES = {"production": N_("production"), "validation": N_("validation"),
                  "preservation": N_("preservation")}


class Clearable(ArgType[str]):
    """A field value; `key=""` clears what was set, so the room's own value shows again."""

    def __init__(self, inner: ArgType[Any], metavar: str) -> None:
        self.inner = inner
        self._metavar = metavar

    @property
    def metavar(self) -> str:
        return self._metavar

    def parse(self, raw: str, env: ParseEnv) -> str:
        if not raw.strip():
            return ""
        return str(self.inner.parse(raw, env))

    def produces(self) -> Any:
        return str


def _years(raw: str) -> str:
    try:
        years = Decimal(raw.strip().lower().removesuffix("y").removesuffix("years").strip())
    except InvalidOperation:
        raise ValueError(tr("{value} is not a number of years (e.g. 3 or 0.5)").format(
            value=repr(raw[:20]))) from None
    if not Decimal(0) <= years <= Decimal(100):
        raise ValueError(tr("{value} is not a number of years (e.g. 3 or 0.5)").format(
            value=repr(raw[:20])))
    return str(years.normalize()) if years == years.to_integral() else str(years)


def _field_type(name: str) -> ArgType[Any]:
    field = FIELDS[name]
    if field.choices:
        return Clearable(Choice(field.choices), "|".join(field.choices))
    if field.years:
        return Clearable(Fn(_years), N_("YEARS"))
    return Clearable(argtypes.text(name, max_len=field.max_len), N_('"text"'))


SET_PARAMS = [pos("form", FORM_REF),
              *(key(name, _field_type(name), help=field.help) for name, field in FIELDS.items())]
if TYPE_CHECKING:
    FormSetArgs = Any
else:
    FormSetArgs = dataclasses.make_dataclass(
        "FormSetArgs", [("form", int), *((name, str | None) for name in FIELDS)], frozen=True)


def _categories(raw: str) -> str:
    chosen = [c.strip().lower() for c in raw.split(",") if c.strip()]
    wrong = [c for c in chosen if c not in CATEGORIES]
    if not chosen or wrong:
        raise ValueError(tr("categories: choose among {choices}, separated by commas").format(
            choices=", ".join(CATEGORIES)))
    return ",".join(c for c in CATEGORIES if c in chosen)


async def _form(ctx: Context, seq: int) -> Row:
    return await records.get(ctx, "forms", seq)


async def _draft(ctx: Context, form: Row) -> dict[str, Any]:
    return await assemble(ctx.tx, ctx.require_op(), form, now=ctx.now,
                          directory=providers.of(ctx.settings))


async def stored_draft(tx: Tx, settings: Settings, room_id: str, seq: int, now: datetime
                       ) -> dict[str, Any]:
    """A draft as the room would show it now, for `opsroom form` on the server. Raises
    LookupError naming what is missing."""
    op = await operations.for_room(tx, room_id)
    if op is None:
        raise LookupError(f"no operation is bound to room {room_id}")
    form = await by_seq(tx, "forms", op["id"], seq)
    if form is None:
        raise LookupError(f"there is no F-{seq} in {op['code']}")
    return await assemble(tx, op, form, now=now, directory=providers.of(settings))


async def _follow_deadlines(ctx: Context, form: Row, draft: dict[str, Any]) -> list[str]:
    """The form's deadlines become the request's: its preservation period its expiry
    (while nobody extended it), the others reminders (storage.request_deadlines). Returns
    what changed, to tell the officer."""
    request = await forms.request_of(ctx.tx, form)
    said: list[str] = []
    others: list[tuple[str, str]] = []
    for deadline in form_deadlines.deadlines(draft):
        due = to_db_time(deadline.due)
        if deadline.kind != "preservation":
            others.append((deadline.kind, due))
            said.append(_due_line(deadline))
        elif request["status"] in FOLLOWS_FORM and request["expires_at"] != due:
            request = await records.change(ctx, "preservations", request, {"expires_at": due})
            said.append(tr("{request} now expires {when}").format(
                request=label("preservations", request["seq"]), when=dtg(due)))
    await request_deadlines.replace(ctx.tx, form["op_id"], request["id"], form["id"], others,
                                    ctx.sender, ctx.stamp)
    return said


def _due_line(deadline: form_deadlines.Deadline) -> str:
    return tr("{kind} due {when}").format(
        kind=tr(DEADLINE_NAMES.get(deadline.kind, deadline.kind)),
        when=dtg(to_db_time(deadline.due)))


def _findings(reply: ReplyBuilder, found: list[rules.Finding]) -> None:
    marks = {"missing": "□", "refused": "❌", "warning": "⚠"}
    reply.bullets([[f"{marks.get(f.level, '•')} ", f.text] for f in found])


def _summary(draft: dict[str, Any]) -> tuple[Any, ...]:
    filled = sum(1 for k in document.keys(draft["form"]) if draft["fields"][k])
    return fill(
        tr("{form} {name} for {request} · {identifiers} · {filled} · language {lang} · "
           "TLP:{tlp}"),
        form=Bold(draft["ref"]), name=tr(FORM_NAMES[draft["form"]]), request=draft["request"],
        identifiers=trn("{n} identifier", "{n} identifiers", len(draft["identifiers"])).format(
            n=len(draft["identifiers"])),
        filled=trn("{n} field filled", "{n} fields filled", filled).format(n=filled),
        lang=draft["language"], tlp=draft["tlp"])


def _left_out(reply: ReplyBuilder, draft: dict[str, Any]) -> None:
    above = [i["ref"] for i in draft["left_out"] if i["tlp"] != RED]
    red = [i["ref"] for i in draft["left_out"] if i["tlp"] == RED]
    if above:
        reply.line(tr("Left out, above the draft's TLP:{tlp}: {refs}.").format(
            tlp=draft["tlp"], refs=", ".join(above)))
    if red:
        reply.line(tr("Left out, TLP:RED: {refs}. Only a lead can let a RED identifier into "
                      "a request: /form include {form} S-N (audited).").format(
            refs=", ".join(red), form=draft["ref"]))


@dataclass(frozen=True)
class DraftArgs:
    request: int
    form: str
    lang: str | None
    tlp: str | None


@command(
    "preserve", "draft",
    params=[pos("request", argtypes.ref("P")), key("form", Choice(FORMS), required=True),
            key("lang", argtypes.LANGUAGE, help=N_("the form's language; default yours when "
                                                   "the form exists in it, else English")),
            key("tlp", argtypes.TLP, help=N_("the draft's TLP; default the request's"))],
    summary=N_("draft a standard-form request (EPOC, EPOC-PR, Budapest art. 29, 2703(f)) "
               "from a preservation/MLA request"),
    examples=["!preserve draft P-2 form=epoc-pr", "!preserve draft P-2 form=2703f lang=en"],
)
async def preserve_draft(ctx: Context, args: DraftArgs) -> Reply:
    request = await records.get(ctx, "preservations", args.request)
    if args.lang is not None:
        try:
            document.template(args.form, args.lang)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    shipped = document.languages(args.form)
    lang = args.lang or (i18n.current() if i18n.current() in shipped else "en")
    level = args.tlp or request["tlp"]
    if validate.tlp_rank(level) < validate.tlp_rank(request["tlp"]):
        raise CommandError(tr("{request} is TLP:{tlp}: a draft made from it is at that level "
                              "or above").format(
            request=label("preservations", request["seq"]), tlp=request["tlp"]))
    form = await records.create(ctx, "forms", {
        "preservation_id": request["id"], "form": args.form, "lang": lang, "tlp": level})
    draft = await _draft(ctx, form)
    changed = await _follow_deadlines(ctx, form, draft)
    reply = ReplyBuilder().line(*_summary(draft))
    _left_out(reply, draft)
    for line in changed:
        reply.line(line)
    entry = providers.of(ctx.settings).find(request["provider"], request["country"])
    if entry is not None and entry.accepts and args.form not in entry.accepts:
        reply.line(tr("⚠ The provider directory does not list {form} among the forms "
                      "{provider} takes ({accepts}; checked {checked}): see /provider "
                      "{provider}.").format(form=args.form, provider=entry.name,
                                            accepts=", ".join(entry.accepts),
                                            checked=entry.checked.isoformat()))
    found = rules.check(draft, ctx.now)
    if found:
        reply.line(trn("{n} thing to settle before it can go:",
                       "{n} things to settle before it can go:", len(found)).format(n=len(found)))
        _findings(reply, found)
    reply.line(tr("Next: /form {form} set KEY=\"…\" · /form {form} item S-N categories=… · "
                  "/form {form} check · /form {form} export docx|pdf|json").format(
        form=draft["ref"]))
    return reply.build()


@dataclass(frozen=True)
class FormRef:
    form: int


@command("form", shows=CONSULT, params=[pos("form", FORM_REF)],
         summary=N_("show a request form draft: what is filled, what is missing"))
async def form_show(ctx: Context, args: FormRef) -> Reply:
    draft = await _draft(ctx, await _form(ctx, args.form))
    reply = ReplyBuilder().line(*_summary(draft))
    shown = document.keys(draft["form"])
    values = {k: dtg(v) if k == "sent" and v else v for k, v in draft["fields"].items()}
    reply.bullets([[Code(k), " ", values[k]] for k in shown if values[k]])
    empty = [k for k in shown if not values[k]]
    if empty:
        reply.line(tr("Not filled: {keys}").format(keys=", ".join(empty)))
    for deadline in form_deadlines.deadlines(draft):
        reply.line(_due_line(deadline))
    for item in draft["identifiers"]:
        span = f"{dtg(item['from'])} – {dtg(item['to'])}" if item["from"] or item["to"] else ""
        cats = ", ".join(item["categories"]) or tr("no category yet")
        reply.line(f"{item['ref']} {item['type']} ", validate.shown(item["type"], item["value"]),
                   f" · {cats} {span}".rstrip())
    _left_out(reply, draft)
    return reply.build()


@command("form", "set", params=SET_PARAMS, role=Role.OFFICER,
         usage=N_('/form set F-N KEY="value" … (the keys: /help form set)'),
         summary=N_("add to a request form draft what the room does not know"),
         examples=['!form F-3 set issuing_type=judge issuing_authority="Tribunal X" '
                   'max_penalty=5'])
async def form_set(ctx: Context, args: FormSetArgs) -> Reply:
    form = await _form(ctx, args.form)
    ctx.require_owner(form, label("forms", form["seq"]))
    given = {k: getattr(args, k) for k in FIELDS if getattr(args, k) is not None}
    if not given:
        raise CommandError(tr("nothing to set: give at least one KEY=\"value\" (the keys: "
                              "/help form set)"))
    own: dict[str, str] = forms.values(form, "fields")
    for name, value in given.items():
        if value:
            own[name] = value
        else:
            own.pop(name, None)
    after = await records.change(ctx, "forms", form, {"fields": forms.as_json(own)})
    draft = await _draft(ctx, after)
    changed = await _follow_deadlines(ctx, after, draft)
    shown = ", ".join(f"{k}={v!r}" if v else tr("{key} cleared").format(key=k)
                      for k, v in given.items())
    reply = ReplyBuilder().line(*fill(tr("{form} updated: {changes}"),
                                      form=Bold(label("forms", after["seq"])), changes=shown))
    for line in changed:
        reply.line(line)
    return reply.build()


@dataclass(frozen=True)
class ItemArgs:
    form: int
    item: int
    categories: str | None
    start: ParsedTime | None
    end: ParsedTime | None


@command(
    "form", "item",
    params=[pos("form", FORM_REF), pos("item", argtypes.ref("S")),
            key("categories", Fn(_categories, ",".join(CATEGORIES)),
                help=N_("the data sought for this identifier")),
            key("start", argtypes.TIME, help=N_("start of the period the data cover")),
            key("end", argtypes.TIME, help=N_("end of the period the data cover"))],
    summary=N_("say which data a request seeks for one identifier, and for which period"),
    examples=["!form F-3 item S-4 categories=subscriber,traffic start=2026-03-01T00:00Z "
              "end=2026-11-20T23:59Z"],
)
async def form_item(ctx: Context, args: ItemArgs) -> Reply:
    form = await _form(ctx, args.form)
    ctx.require_owner(form, label("forms", form["seq"]))
    request = await forms.request_of(ctx.tx, form)
    ref = label("seizures", args.item)
    named = [label("seizures", row["seq"]) for row in
             await preservations.items(ctx.tx, request["id"])]
    if ref not in named:
        raise CommandError(tr("{item} is not named on {request} (named: {named}); link it "
                              "first: /preserve link {request} {item}").format(
            item=ref, request=label("preservations", request["seq"]),
            named=", ".join(named) or tr("none yet")), show_usage=False)
    if args.categories is None and args.start is None and args.end is None:
        raise CommandError(tr("nothing to set: give categories=, start= or end="))
    items: dict[str, dict[str, Any]] = forms.values(form, "items")
    own = items.setdefault(ref, {})
    if args.categories is not None:
        own["categories"] = args.categories.split(",")
    if args.start is not None:
        own["from"] = to_db_time(args.start.at)
    if args.end is not None:
        own["to"] = to_db_time(args.end.at)
    start, end = from_db_time(own.get("from")), from_db_time(own.get("to"))
    if start is not None and end is not None and end <= start:
        raise CommandError(tr("end= is not after start="))
    after = await records.change(ctx, "forms", form, {"items": forms.as_json(items)})
    span = f" · {dtg(own.get('from'))} – {dtg(own.get('to'))}" if start or end else ""
    return ok(*fill(tr("{form} {item}: {categories}{span}"),
                    form=Bold(label("forms", after["seq"])), item=ref,
                    categories=", ".join(own.get("categories", [])) or tr("no category yet"),
                    span=span))


@dataclass(frozen=True)
class IncludeArgs:
    form: int
    item: int


@command("form", "include", params=[pos("form", FORM_REF), pos("item", argtypes.ref("S"))],
         role=Role.LEAD,
         summary=N_("let a TLP:RED identifier into a request form draft (the draft becomes "
                    "RED)"))
async def form_include(ctx: Context, args: IncludeArgs) -> Reply:
    form = await _form(ctx, args.form)
    request = await forms.request_of(ctx.tx, form)
    ref = label("seizures", args.item)
    red = [label("seizures", row["seq"]) for row in
           await preservations.items(ctx.tx, request["id"]) if row["tlp"] == RED]
    if ref not in red:
        raise CommandError(tr("{item} is not a TLP:RED identifier named on {request}: it needs "
                              "no lead to be in the draft").format(
            item=ref, request=label("preservations", request["seq"])), show_usage=False)
    let_in = sorted({*forms.values(form, "red_override"), ref})
    after = await records.change(ctx, "forms", form, {"red_override": forms.as_json(let_in),
                                                      "tlp": RED})
    return ok(*fill(tr("{form} now includes {item} and is TLP:RED; every file made from it "
                       "is marked RED"), form=Bold(label("forms", after["seq"])), item=ref))


@command("form", "check", shows=CONSULT, params=[pos("form", FORM_REF)],
         summary=N_("check a request form draft against the form's own rules"))
async def form_check(ctx: Context, args: FormRef) -> Reply:
    draft = await _draft(ctx, await _form(ctx, args.form))
    found = rules.check(draft, ctx.now)
    reply = ReplyBuilder().line(*_summary(draft))
    _left_out(reply, draft)
    if not found:
        reply.line(tr("✅ Nothing missing and no rule refuses it. It is still a draft: the "
                      "competent authority signs and issues it, and EU orders go through "
                      "the national exchange system."))
        return reply.build()
    refused = sum(1 for f in found if f.level == "refused")
    reply.line(trn("{n} finding", "{n} findings", len(found)).format(n=len(found))
               + (" · " + trn("{n} refusal", "{n} refusals", refused).format(n=refused)
                  if refused else ""))
    _findings(reply, found)
    return reply.build(ok=refused == 0)


@dataclass(frozen=True)
class ExportArgs:
    form: int
    format: str


@command("form", "export", params=[pos("form", FORM_REF), pos("format", Choice(FILE_FORMATS))],
         shows=DISCLOSE,
         summary=N_("export a request form draft as an editable docx, a pdf marked DRAFT, or "
                    "canonical JSON"),
         examples=["!form F-3 export docx"])
async def form_export(ctx: Context, args: ExportArgs) -> Reply:
    form = await _form(ctx, args.form)
    draft = await _draft(ctx, form)
    refused = [f for f in rules.check(draft, ctx.now) if f.level == "refused"]
    if refused:
        reply = ReplyBuilder().line(tr("{form} is not exported: the form's rules refuse it "
                                       "as it stands. Nothing was recorded.").format(
            form=draft["ref"]))
        _findings(reply, refused)
        return reply.build(ok=False)
    if ctx.form_writer is None:
        raise CommandError(tr("this bot cannot write form files (no writer configured)"),
                           show_usage=False)
    digest = document.digest(draft)
    await records.change(ctx, "forms", form, {"exported_hash": digest})
    placeholder = ReplyBuilder().line(*fill(
        tr("{form} export {format} requested · SHA-256 of its JSON {digest} (in the audit "
           "log)"), form=Bold(draft["ref"]), format=Code(args.format), digest=digest[:16])
    ).build()
    placeholder.redo = {"form_export": args.format, "draft": json.dumps(draft)}
    placeholder.after_commit = writer(ctx.form_writer, draft, args.format)
    return placeholder


def writer(write: FormWriter, draft: dict[str, Any], fmt: str
           ) -> Callable[[], Awaitable[Reply]]:
    async def build() -> Reply:
        attachment = await write(draft, fmt)
        made = ReplyBuilder().line(*fill(
            tr("{file} · DRAFT, not issued, not signed · TLP:{tlp}"),
            file=Bold(attachment.filename), tlp=draft["tlp"])).build(attachment=attachment)
        made.shown = len(handles(json.dumps(draft)))  # the draft and the records it names
        return made

    return build


@remakes("form_export")
def _export_again(services: Services, stored: dict[str, str]) -> SlowPart | None:
    if services.form_writer is None:
        return None
    return writer(services.form_writer, json.loads(stored["draft"]), stored["form_export"])


@dataclass(frozen=True)
class FormListArgs:
    page: int | None
    held: str | None


@command("form", "list", shows=CONSULT,
         params=[key("page", argtypes.PAGE), key("held", SHOW_HELD, help=HELD_HELP)],
         summary=N_("list the request form drafts"))
async def form_list(ctx: Context, args: FormListArgs) -> Reply:
    op = ctx.require_op()
    rows, held = await unheld(ctx, "forms", await forms.listing(ctx.tx, op["id"]), args.held)
    reply = ReplyBuilder().heading(tr("Request form drafts: {n}").format(n=len(rows)))
    reply.bullets([fill(tr("{form} {kind} · {request} {provider} ({country}) · language "
                           "{lang} · TLP:{tlp}"),
                        form=Bold(label("forms", r["seq"])), kind=r["form"],
                        request=label("preservations", r["request_seq"]),
                        provider=r["provider"], country=r["country"], lang=r["lang"],
                        tlp=r["tlp"]) for r in rows],
                  page=args.page or 1, more_hint="/form list")
    return left_out(reply, held).build()

