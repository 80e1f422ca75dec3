"""A handler's argument dataclass must match its declaration, or the bot does not start:
a renamed parameter or a wrong type would otherwise surface as a traceback in a room."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from commands.core import argtypes
from commands.core.context import Context
from commands.core.spec import args_class, key, mention, pos
from commands.core.timeparse import ParsedTime
from commands.core.types import Reply

PARAMS = [pos("text", argtypes.text("task text")), mention("assignee"), key("due", argtypes.TIME)]


@dataclass(frozen=True)
class Matching:
    text: str
    assignee: str | None
    due: ParsedTime | None


@dataclass(frozen=True)
class DueNotOptional:
    text: str
    assignee: str | None
    due: ParsedTime


@dataclass(frozen=True)
class DueAsText:
    text: str
    assignee: str | None
    due: str | None


@dataclass(frozen=True)
class NoDue:
    text: str
    assignee: str | None


async def matching(ctx: Context, args: Matching) -> Reply:
    raise NotImplementedError


async def due_not_optional(ctx: Context, args: DueNotOptional) -> Reply:
    raise NotImplementedError


async def due_as_text(ctx: Context, args: DueAsText) -> Reply:
    raise NotImplementedError


async def no_due(ctx: Context, args: NoDue) -> Reply:
    raise NotImplementedError


async def untyped(ctx: Context, args: dict[str, object]) -> Reply:
    raise NotImplementedError


def test_a_matching_dataclass_is_accepted() -> None:
    assert args_class(("x",), PARAMS, matching) is Matching


@pytest.mark.parametrize(("handler", "fragment"), [
    (due_not_optional, "DueNotOptional.due is"),
    (due_as_text, "DueAsText.due is str | None, but [due=TIME] gives"),
    (no_due, "has fields ['assignee', 'text'], the declaration has parameters"),
    (untyped, "must be a dataclass"),
])
def test_a_dataclass_that_drifted_from_the_declaration_is_refused(handler: object,
                                                                  fragment: str) -> None:
    with pytest.raises(TypeError) as refused:
        args_class(("task", "add"), PARAMS, handler)  # type: ignore[arg-type]
    assert fragment in str(refused.value) and "/task add" in str(refused.value)

