"""Command declarations: each command is declared once, and its usage line, `/help` text,
"did you mean" suggestions and argument checking all come from that declaration.

Handler modules declare commands with the `command(...)` decorator at import time;
`commands.core.registry` imports them all so the registry is complete before dispatch.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import keyword
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Optional, TypeVar, get_type_hints
from zoneinfo import ZoneInfo

from commands.core import validate
from commands.core.context import Context
from commands.core.i18n import N_, tr
from commands.core.tokenizer import Token, tokenize
from commands.core.types import CommandError, Reply


class Role(Enum):
    OFFICER = "officer"
    LEAD = "lead"


class Where(Enum):
    """Which rooms a command works in. A partner room (a private-sector partner's, fed
    from an operation) takes only the commands declared for it: partners may report on
    what they were given and nothing else."""

    OPERATION = "operation"
    PARTNER = "partner"
    BOTH = "both"


@dataclass(frozen=True)
class ParseEnv:
    """What argument types need to read times: the command's moment, zone and H-hour."""

    now: datetime
    zone: ZoneInfo
    hhour: datetime | None


T = TypeVar("T")


class ArgType(Generic[T]):
    """An argument type: turns the typed string into a value or raises ValueError with a
    message the user can act on (the validators' own error classes subclass ValueError)."""

    @property
    def metavar(self) -> str:
        return N_("VALUE")

    @property
    def closed(self) -> bool:
        """Whether every value is one of a fixed, non-personal set (a TLP level, a country
        code, a record number): such a value may be written in the consultation log's
        scope; any other is named there by its key only (commands.core.consulted)."""
        return False

    def parse(self, raw: str, env: ParseEnv) -> T:
        raise NotImplementedError

    def produces(self) -> Any:
        """The type `parse` returns, which the handler's field must declare."""
        raise NotImplementedError


def _returns(fn: Callable[..., Any]) -> Any:
    return fn if isinstance(fn, type) else get_type_hints(fn)["return"]


@dataclass(frozen=True)
class Fn(ArgType[T]):
    """Adapts a plain `str -> value` validator."""

    fn: Callable[[str], T]
    label: str = N_("VALUE")
    fixed: bool = False  # see ArgType.closed

    @property
    def metavar(self) -> str:
        return self.label

    @property
    def closed(self) -> bool:
        return self.fixed

    def parse(self, raw: str, env: ParseEnv) -> T:
        return self.fn(raw)

    def produces(self) -> Any:
        return _returns(self.fn)


@dataclass(frozen=True)
class EnvFn(ArgType[T]):
    """Adapts a validator that needs the parse environment (times)."""

    fn: Callable[[str, ParseEnv], T]
    label: str = N_("VALUE")

    @property
    def metavar(self) -> str:
        return self.label

    def parse(self, raw: str, env: ParseEnv) -> T:
        return self.fn(raw, env)

    def produces(self) -> Any:
        return _returns(self.fn)


@dataclass(frozen=True)
class Choice(ArgType[str]):
    options: tuple[str, ...]

    @property
    def metavar(self) -> str:
        return "|".join(self.options)

    @property
    def closed(self) -> bool:
        return True

    def produces(self) -> Any:
        return str

    def parse(self, raw: str, env: ParseEnv) -> str:
        value = raw.strip().lower()
        if value in self.options:
            return value
        close = difflib.get_close_matches(value, self.options, n=1)
        if close:
            raise ValueError(tr("{value} is not one of {options} (did you mean {guess}?)").format(
                value=repr(raw), options=", ".join(self.options), guess=close[0]))
        raise ValueError(tr("{value} is not one of {options}").format(
            value=repr(raw), options=", ".join(self.options)))


@dataclass(frozen=True)
class Param:
    name: str
    type: ArgType[Any]
    kind: str = "positional"  # "positional" | "rest" | "mention" | "key"
    required: bool = True
    help: str = ""

    @property
    def attribute(self) -> str:
        """The handler's dataclass field: the name, with `_` after a Python keyword (`from=`
        is the field `from_`, which a dataclass can hold)."""
        return f"{self.name}_" if keyword.iskeyword(self.name) else self.name

    def usage(self) -> str:
        """As shown in a usage line: a metavar marked for the catalogue where it is declared
        (`N_('"task text"')`) is in the reader's language; the key and command never are."""
        metavar = self.type.metavar
        shown = tr(metavar) if metavar else metavar  # tr("") is the catalogue's header
        if self.kind == "key":
            text = f"{self.name}={shown}"
        elif self.kind == "mention":
            text = f"@{self.name}"
        else:
            text = shown
        return text if self.required else f"[{text}]"


def pos(name: str, type: ArgType[Any], *, required: bool = True, help: str = "") -> Param:
    return Param(name, type, "positional", required, help)


def rest(name: str, type: ArgType[Any], *, required: bool = True, help: str = "") -> Param:
    """The remaining positional words joined by spaces (e.g. a time with a zone)."""
    return Param(name, type, "rest", required, help)


def mention(name: str, *, required: bool = False, help: str = "") -> Param:
    return Param(name, Fn(validate.mxid, "@user:server"), "mention", required, help)


def key(name: str, type: ArgType[Any], *, required: bool = False, help: str = "") -> Param:
    return Param(name, type, "key", required, help)


@dataclass(frozen=True)
class NoArgs:
    """The arguments of a command that takes none."""


@dataclass(frozen=True)
class PageArgs:
    """The arguments of a list that takes only `page=N`."""

    page: int | None


Handler = Callable[[Context, Any], Awaitable[Reply]]
H = TypeVar("H", bound=Handler)


def args_class(path: Sequence[str], params: Sequence[Param], handler: Handler) -> type:
    """The dataclass `handler` takes its arguments as, checked against the declaration."""
    name = "/" + " ".join(path)
    second = list(inspect.signature(handler).parameters)[1]
    cls = get_type_hints(handler).get(second)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{name}: the handler's arguments must be a dataclass, not {cls!r}")
    fields = get_type_hints(cls)
    declared = {p.attribute: p for p in params}
    if set(fields) != set(declared):
        raise TypeError(f"{name}: {cls.__name__} has fields {sorted(fields)}, the declaration "
                        f"has parameters {sorted(declared)}")
    for p in params:
        want = p.type.produces() if p.required else Optional[p.type.produces()]  # noqa: UP045
        if fields[p.attribute] != want:
            raise TypeError(f"{name}: {cls.__name__}.{p.attribute} is "
                            f"{fields[p.attribute]}, but {p.usage()} gives {want}")
    return cls


@dataclass
class Command:
    path: tuple[str, ...]
    params: list[Param]
    role: Role
    summary: str  # the English msgid (marked N_ where declared): show it with `tr`
    handler: Handler
    args: type
    needs_op: bool = True
    usage_override: str | None = None
    where: Where = Where.OPERATION
    examples: list[str] = field(default_factory=list)
    # What it does with records when it answers: None (it shows none), or the consultation
    # log's verb (commands.core.consulted): the dispatcher then writes one row per answer.
    shows: str | None = None

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def usage(self) -> str:
        if self.usage_override:
            return tr(self.usage_override)
        return " ".join(["/" + self.name, *(p.usage() for p in self.params)])

    def bind(self, tokens: Sequence[Token], env: ParseEnv) -> Any:
        """Assign tokens to parameters; unknown keys, extra words and bad values are errors."""
        positional = [p for p in self.params if p.kind in ("positional", "rest")]
        mentions = [p for p in self.params if p.kind == "mention"]
        keys = {p.name: p for p in self.params if p.kind == "key"}
        raw: dict[str, str] = {}
        loose: list[Token] = []
        for tok in tokens:
            if tok.kind == "kv":
                assert tok.key is not None
                if tok.key not in keys:
                    raise CommandError(_unknown_key(tok.key, list(keys)))
                if tok.key in raw:
                    raise CommandError(tr("{key} is given twice").format(key=f"{tok.key}="))
                raw[tok.key] = tok.value
            elif mentions and (tok.kind == "mention"
                               or (tok.kind == "word" and tok.value.startswith("@"))):
                p = mentions.pop(0)
                raw[p.name] = tok.value
            else:
                loose.append(tok)
        for p in positional:
            if not loose:
                break
            if p.kind == "rest":
                raw[p.name] = " ".join(t.value for t in loose)
                loose = []
            else:
                raw[p.name] = loose.pop(0).value
        if loose:
            extra = repr(" ".join(t.display() for t in loose))
            quoted = _quote_hint(tokens, loose)
            raise CommandError(
                tr("unexpected {words}; quote it: {quoted}").format(words=extra, quoted=quoted)
                if quoted else tr("unexpected {words}").format(words=extra))
        values: dict[str, Any] = {}
        for p in self.params:
            if p.name not in raw:
                if p.required:
                    raise CommandError(tr("missing {param}").format(param=p.usage()))
                values[p.attribute] = None
                continue
            try:
                values[p.attribute] = p.type.parse(raw[p.name], env)
            except CommandError:
                raise
            except ValueError as exc:
                label = f"{p.name}=" if p.kind == "key" else p.name
                raise CommandError(tr("{param}: {problem}").format(param=label, problem=exc)
                                   ) from None
        return self.args(**values)


def _unknown_key(key: str, keys: list[str]) -> str:
    valid = ", ".join(f"{k}=" for k in keys)
    if not valid:
        return tr("unknown key {key}; valid keys: none").format(key=f"{key}=")
    close = difflib.get_close_matches(key, keys, n=1)
    if close:
        return tr("unknown key {key} (did you mean {meant}?); valid keys: {keys}").format(
            key=f"{key}=", meant=f"{close[0]}=", keys=valid)
    return tr("unknown key {key}; valid keys: {keys}").format(key=f"{key}=", keys=valid)


def _quote_hint(tokens: Sequence[Token], loose: list[Token]) -> str:
    """`due=in 2h` reads as due=in plus a stray word: when the stray words follow a key=value
    directly, the officer meant one value with a space in it, so show it quoted (the
    quoted value; empty when that is not what happened)."""
    for i, tok in enumerate(tokens):
        if tok.kind != "kv" or i + 1 >= len(tokens) or tokens[i + 1] not in loose:
            continue
        words = [tok.value]
        for after in tokens[i + 1:]:
            if after not in loose or after.kind != "word":
                break
            words.append(after.value)
        if len(words) > 1:
            return f'{tok.key}="{" ".join(words)}"'
    return ""


REGISTRY: dict[tuple[str, ...], Command] = {}


def command(
    *path: str,
    params: Sequence[Param] = (),
    role: Role = Role.OFFICER,
    summary: str,
    needs_op: bool = True,
    usage: str | None = None,
    where: Where = Where.OPERATION,
    examples: Sequence[str] = (),
    shows: str | None = None,
) -> Callable[[H], H]:
    def register(fn: H) -> H:
        if path in REGISTRY:
            raise RuntimeError(f"command /{' '.join(path)} declared twice")
        REGISTRY[path] = Command(
            path=tuple(path),
            params=list(params),
            role=role,
            summary=summary,
            handler=fn,
            args=args_class(path, params, fn),
            needs_op=needs_op,
            usage_override=usage,
            where=where,
            examples=list(examples),
            shows=shows,
        )
        return fn

    return register


def resolve(words: list[str]) -> tuple[Command | None, int]:
    """Longest declared path matching the leading words; returns (command, words used)."""
    lowered = [w.lower() for w in words]
    for length in range(min(3, len(lowered)), 0, -1):
        cmd = REGISTRY.get(tuple(lowered[:length]))
        if cmd is not None:
            return cmd, length
    return None, 0


_RECORD = re.compile(r"^[A-Za-z]-\d{1,10}$")


def record_first(tokens: list[Token]) -> list[Token]:
    """`/form F-3 set …` as `/form set F-3 …`: the spec writes the commands on one record
    with the record before the verb, and officers type both orders. Only a word shaped
    like a record number moves, and only where the name and verb make a declared command
    whose first argument is positional, so no other line changes meaning."""
    if (len(tokens) < 3 or any(t.kind != "word" for t in tokens[:3])
            or not _RECORD.match(tokens[1].value)):
        return tokens
    cmd = REGISTRY.get((tokens[0].value.lower(), tokens[2].value.lower()))
    if cmd is None or not cmd.params or cmd.params[0].kind != "positional":
        return tokens
    return [tokens[0], tokens[2], tokens[1], *tokens[3:]]


def declared(line: str) -> Command | None:
    """The declaration a command line resolves to, as the dispatcher resolves it; None for
    a line that does not tokenize or names no command (e.g. a stored one from an older
    version)."""
    try:
        tokens = tokenize(line)
    except CommandError:
        return None
    words = []
    for tok in record_first(tokens):
        if tok.kind != "word":
            break
        words.append(tok.value)
    return resolve(words)[0]


def top_level_names() -> list[str]:
    return sorted({path[0] for path in REGISTRY})


def subcommands(name: str) -> list[Command]:
    return [c for p, c in sorted(REGISTRY.items()) if p[0] == name]


def suggest(word: str) -> str | None:
    close = difflib.get_close_matches(word.lower(), top_level_names(), n=1, cutoff=0.6)
    return close[0] if close else None
