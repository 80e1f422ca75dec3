"""The message catalogue is whole: every string a member reads goes through it, and every
language has every string, with the same placeholders.

Three checks, each one a way an English sentence reaches a French, Spanish or Arabic
room: a reply built from a bare literal (the AST check of the places replies, errors and
notices are made), a `tr()` whose string the catalogue template lacks (extraction is run
here and compared with `locale/opsroom.pot`), and a translation missing, fuzzy or with
other placeholders than the English (a `{ref}` lost in French would drop the record
number from the reply, one added would fail to format).
"""

from __future__ import annotations

import ast
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from commands.core import i18n

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "locale" / "opsroom.pot"
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]
KEYWORDS = {"tr": None, "trn": (1, 2), "N_": None}

# Calls whose string arguments a member reads.
SPEAKING_CALLS = {"ok", "error", "CommandError", "line", "heading", "bullets", "Reply",
                  "notice_content", "require_lead", "ReplyBuilder", "ValidationError",
                  "TimeError", "IDNError", "ScheduleError", "ExportError", "Refusal",
                  "Notice", "appended", "Paragraph", "fill"}
# ValueError too in the command framework and handlers, where it reaches the officer.
SPEAKING_IN_COMMANDS = {"ValueError"}
LOGGERS = {"log", "logger", "logging"}
SPEAKING_KEYWORDS = {"text", "html", "message", "summary", "what", "note", "reason"}
# Where replies, notices, sitreps, export headings are made.
PACKAGES = ("commands", "bot", "exports")
# Operator-facing (command line, configuration, logs), not read in a room: English.
OPERATOR_FACING = {"bot/cli.py", "bot/config.py", "bot/up.py", "bot/dev_homeserver.py",
                   "bot/metrics.py"}

# What may stay as typed in every language: command names (/task list), keys (due=),
# record numbers and prefixes (T-12, K-), TLP labels, placeholders, format codes.
_SYNTAX = re.compile(
    r"[/!][a-z][a-z -]*(?:\s+[a-z=|\[\]]+)*"  # /task list open
    r"|\b[a-z_]+=\S*"  # due=H+2h
    r"|\b[A-Z]{1,2}-(?:\d+|N)?\b"  # T-12, K-, D-N
    r"|TLP:[A-Z+]+|\b(?:CLEAR|GREEN|AMBER\+STRICT|AMBER|RED)\b"
    r"|\{[^{}]*\}"  # {placeholder}
    r"|%\([a-z_]+\)[sd]|%[sdr]"
    r"|\b(?:UTC|DTG|H|ID|OK|url|https?)\b"
)
_PROSE = re.compile(r"[^\W\d_]{2,}")


def prose(literal: str) -> str | None:
    """The first word of prose in a literal, if any (None: only syntax and punctuation)."""
    found = _PROSE.search(_SYNTAX.sub(" ", literal))
    return found.group(0) if found else None


def _literals(node: ast.AST) -> list[ast.AST]:
    """String literals and f-strings under `node`, not looking inside catalogue calls."""
    found: list[ast.AST] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call) and _name(n.func) in KEYWORDS:
            continue
        if isinstance(n, ast.Call) and _name(n.func) in {"Code", "Ping", "repr", "len",
                                                          "label", "dtg", "getLogger"}:
            continue
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            found.append(n)
            continue
        if isinstance(n, ast.JoinedStr):
            found.append(n)
            continue
        if isinstance(n, ast.Subscript):  # row["text"]: a key, not text
            stack.append(n.value)
            continue
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr in {"get", "join", "split", "startswith", "endswith"}:
            stack.append(n.func.value)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return found


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _text_of(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    assert isinstance(node, ast.JoinedStr)
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def bare_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(ROOT)
    out: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _name(node.func)
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in LOGGERS:
            continue  # the operator's log stays in English
        args: list[ast.AST] = []
        if called in SPEAKING_CALLS or (called in SPEAKING_IN_COMMANDS
                                        and where.parts[0] == "commands"):
            args = [*node.args, *(k.value for k in node.keywords
                                  if k.arg in SPEAKING_KEYWORDS or k.arg is None)]
        else:
            args = [k.value for k in node.keywords if k.arg in {"summary", "more_text"}]
        for arg in args:
            for lit in _literals(arg):
                word = prose(_text_of(lit))
                if word is not None:
                    out.append(f"{where}:{lit.lineno} {called}(…{_text_of(lit)[:60]!r}…): "
                               f"{word!r} is not translated")
    return out


def speaking_modules() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
            if str(p.relative_to(ROOT)) not in OPERATOR_FACING]


def test_the_prose_check_tells_syntax_from_prose() -> None:
    assert prose("/task list open") is None
    assert prose(" · due=H+2h · T-12 · TLP:AMBER+STRICT · {ref}") is None
    assert prose("created") == "created"
    assert prose("/task done T-3 to close it") == "to"


def test_every_string_a_member_reads_goes_through_the_catalogue() -> None:
    found = [line for path in speaking_modules() for line in bare_literals(path)]
    assert not found, "replies built from bare literals:\n" + "\n".join(found)


def extracted() -> set[str | tuple[str, str]]:
    ids: set[str | tuple[str, str]] = set()
    for package in PACKAGES:
        for filename, _lineno, message, _comments, _context in extract_from_dir(
                ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS):
            if f"{package}/{filename}" in OPERATOR_FACING:
                continue
            ids.add(message if isinstance(message, str) else (message[0], message[1]))
    return ids


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(BytesIO(f.read()))


def _id(message_id: str | tuple[str, ...]) -> str | tuple[str, str]:
    return message_id if isinstance(message_id, str) else (message_id[0], message_id[1])


def test_the_template_holds_every_string_the_code_asks_for() -> None:
    template = {_id(m.id) for m in _catalog(TEMPLATE) if m.id}
    missing = extracted() - template
    assert not missing, ("strings in the code but not in locale/opsroom.pot (run "
                         "`make messages`, then translate):\n"
                         + "\n".join(sorted(map(str, missing))[:50]))


_FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def fields(text: str) -> list[str]:
    return sorted(_FIELD.findall(text))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_each_language_translates_every_string_with_the_same_placeholders(lang: str) -> None:
    template = [m for m in _catalog(TEMPLATE) if m.id]
    po = _catalog(ROOT / "locale" / lang / "LC_MESSAGES" / "opsroom.po")
    problems: list[str] = []
    for msg in template:
        got = po.get(msg.id)
        english = [msg.id] if isinstance(msg.id, str) else list(msg.id)
        if got is None or got.fuzzy or not got.string or (
                not isinstance(got.string, str) and not all(got.string)):
            problems.append(f"untranslated: {english[0]!r}")
            continue
        forms = [got.string] if isinstance(got.string, str) else list(got.string)
        want = fields(english[-1])
        for form in forms:
            if fields(form) != want and fields(form) != fields(english[0]) and not (
                    lang == "ar" and set(fields(form)) < set(want)):
                problems.append(f"placeholders differ: {english[0]!r} → {form!r}")
    assert not problems, f"{lang}: {len(problems)} problems\n" + "\n".join(problems[:60])


@pytest.mark.parametrize("lang", TRANSLATED)
def test_plural_forms_are_those_of_the_language(lang: str) -> None:
    po = _catalog(ROOT / "locale" / lang / "LC_MESSAGES" / "opsroom.po")
    assert po.num_plurals == {"fr": 3, "es": 3, "ar": 6}.get(lang, po.num_plurals)
    for msg in po:
        if msg.id and not isinstance(msg.id, str):
            assert len(msg.string) == po.num_plurals, f"{lang}: {msg.id[0]!r}"
